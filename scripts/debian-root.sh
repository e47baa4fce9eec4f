#!/bin/bash
# Prints the path of a pristine Debian 12 root for the package test tier, made once with debootstrap
# from the host's configured apt mirror and cached under /var/cache/lvsd-test/roots/<key>, where the
# key hashes the suite, the mirror and the package list (a changed list makes a new root). Holds
# Debian's own nodejs (18: the oldest Node lvsd claims), systemd as init, man-db, kmod, iproute2.
# Callers copy it (cp -a --reflink=auto) before booting it: the cached root is never modified.
# Usage: scripts/debian-root.sh     env: LVSD_TEST_CACHE (default /var/cache/lvsd-test)
set -euo pipefail
suite=bookworm
packages=systemd-sysv,dbus,nodejs,man-db,kmod,iproute2,procps,init-system-helpers
# the first deb.debian.org-style URI of the host's sources (deb822 or one-line format)
mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs: *\([^ ]*\).*/\1/p' | grep -v security | head -1)
if [ -z "$mirror" ]; then
  mirror=$(grep -h '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | grep -v security |
    awk '{print $2}' | head -1)
fi
: "${mirror:?no apt mirror configured on this host}"
cache=${LVSD_TEST_CACHE:-/var/cache/lvsd-test}/roots
key=$(printf '%s\n' "$suite" "$mirror" "$packages" | sha1sum | cut -c1-12)
root="$cache/$suite-$key"
mkdir -p "$cache"
exec 9>"$root.lock"
flock 9
if [ ! -f "$root/.complete" ]; then
  rm -rf "$root" "$root.tmp"
  debootstrap --variant=minbase --include="$packages" "$suite" "$root.tmp" "$mirror" >&2
  # a booted container wants a machine id per boot (empty = generated) and no apt caches
  : >"$root.tmp/etc/machine-id"
  rm -rf "$root.tmp/var/cache/apt/archives/"*.deb "$root.tmp/var/lib/apt/lists/"*
  # no getty on a console nobody reads, no timers firing during a test
  chroot "$root.tmp" systemctl mask console-getty.service getty@.service apt-daily.timer \
    apt-daily-upgrade.timer man-db.timer e2scrub_all.timer fstrim.timer >/dev/null 2>&1 || true
  touch "$root.tmp/.complete"
  mv "$root.tmp" "$root"
fi
echo "$root"
