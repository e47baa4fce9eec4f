#!/usr/bin/env bash
# Prepares this host for the Vagrant topology (Debian 12, as root), idempotently:
#   1. installs Vagrant, vagrant-libvirt, libvirt and the box builder's tools from Debian's apt;
#   2. makes the one libvirt change the recipe needs: qemu runs as root (user/group in
#      /etc/libvirt/qemu.conf; the original is kept as qemu.conf.lvsd-orig). Without it libvirt
#      re-probes qemu on every call where /dev/kvm is root-only: ~52 s per domain definition;
#   3. starts virtlogd and libvirtd: with systemctl where systemd is PID 1, by hand otherwise
#      (their PIDs recorded under /run/lvsd-vagrant so `stop` stops only what it started).
# Usage: vagrant/host-setup.sh [start|stop|install]   (start is the default; install does step 1 only)
set -euo pipefail
run_dir=/run/lvsd-vagrant
action=${1:-start}

if [ "$(id -u)" -ne 0 ]; then
  echo "host-setup: run as root (apt-get, libvirt's configuration, its daemons)" >&2
  exit 1
fi

systemd_pid1() { [ "$(ps -o comm= -p 1)" = systemd ]; }

stop() {
  if systemd_pid1; then
    systemctl stop libvirtd virtlogd || true
    return
  fi
  for d in libvirtd virtlogd; do
    if [ -f "$run_dir/$d.pid" ]; then
      kill "$(cat "$run_dir/$d.pid")" 2>/dev/null || true
      rm -f "$run_dir/$d.pid"
    fi
  done
}

if [ "$action" = stop ]; then
  stop
  exit 0
fi
case "$action" in start | install) ;; *) echo "usage: $0 [start|stop|install]" >&2; exit 64 ;; esac

packages=(vagrant vagrant-libvirt libvirt-daemon-system qemu-system-x86 qemu-utils dnsmasq-base ebtables
  debootstrap extlinux syslinux-common fdisk e2fsprogs)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
[ "$action" = install ] && exit 0

conf=/etc/libvirt/qemu.conf
if ! grep -q '^user = "root"' "$conf"; then
  [ -f "$conf.lvsd-orig" ] || cp -p "$conf" "$conf.lvsd-orig"
  printf '\n# lvsd vagrant/host-setup.sh: qemu as root (no re-probe of /dev/kvm per call; serial logs anywhere)\nuser = "root"\ngroup = "root"\n' >>"$conf"
  restart=1
fi

if systemd_pid1; then
  systemctl ${restart:+re}start virtlogd libvirtd
else
  mkdir -p "$run_dir"
  [ -n "${restart:-}" ] && stop
  alive() { [ -f "$run_dir/$1.pid" ] && kill -0 "$(cat "$run_dir/$1.pid")" 2>/dev/null; }
  # daemons outlive this script: they must not inherit its descriptors above 2 (a caller's
  # `flock LOCK bash host-setup.sh` lock would be held by libvirtd for as long as it runs)
  daemon() {
    local fd
    for fd in /proc/$BASHPID/fd/*; do
      fd=${fd##*/}
      [ "$fd" -gt 2 ] && eval "exec $fd>&-"
    done
    exec "$@"
  }
  if ! alive virtlogd; then
    (daemon virtlogd -d -p "$run_dir/virtlogd.pid")
  fi
  if ! alive libvirtd; then
    (daemon libvirtd -d -p "$run_dir/libvirtd.pid")
  fi
fi
# libvirtd answers once its socket is up
for _ in $(seq 1 100); do
  virsh -c qemu:///system version >/dev/null 2>&1 && break
  sleep 0.1
done
virsh -c qemu:///system version >/dev/null
echo "host-setup: libvirt ready ($(virsh -c qemu:///system version | awk '/Running hypervisor/ {print $3, $4}'))"
