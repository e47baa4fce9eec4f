#!/bin/bash
# Lays out lvsd's installed files under ROOT from a staged app (stage-app.sh): the same tree for the
# .deb and the .rpm, except where the unit files go (Debian 12: /lib/systemd/system).
# Usage: packaging/install-tree.sh APP_DIR ROOT UNIT_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
app=$1 root=$2 unitdir=$3
staged=$(dirname "$app")
examples=$staged/conf

install -d -m 0755 "$root/usr/lib/lvsd" "$root/usr/bin" "$root/etc/lvsd" "$root$unitdir" \
  "$root/usr/lib/sysusers.d" "$root/usr/lib/tmpfiles.d" "$root/usr/share/doc/lvsd/examples" \
  "$root/usr/share/man/man5" "$root/usr/share/man/man8"
cp -a "$app/." "$root/usr/lib/lvsd/"
rm -f "$root/usr/lib/lvsd/.complete"
for cmd in lvsd lvsctl; do
  sed "s/@CMD@/$cmd/g" "$here/wrapper.sh" >"$root/usr/bin/$cmd"
  chmod 0755 "$root/usr/bin/$cmd"
done
install -m 0644 "$here/lvsd.yaml" "$root/etc/lvsd/lvsd.yaml"
install -m 0644 "$here/lvsd.service" "$root$unitdir/lvsd.service"
install -m 0644 "$here/lvsd-realserver.service" "$root$unitdir/lvsd-realserver.service"
install -m 0644 "$examples/realserver/realserver.yaml" "$root/etc/lvsd/realserver.yaml"
install -m 0644 "$examples/realserver/realserver.yaml" "$root/usr/share/doc/lvsd/examples/realserver.yaml"
install -m 0644 "$here/sysusers.conf" "$root/usr/lib/sysusers.d/lvsd.conf"
install -m 0644 "$here/tmpfiles.conf" "$root/usr/lib/tmpfiles.d/lvsd.conf"
install -m 0644 "$here/copyright" "$root/usr/share/doc/lvsd/copyright"
install -m 0644 "$examples"/*.yaml "$examples"/*.json "$root/usr/share/doc/lvsd/examples/"
# the man pages and docs generated and copied by stage-app.sh (gzip -n: no name or time inside)
for page in "$staged"/man/*; do
  name=$(basename "$page")
  gzip -9n -c "$page" >"$root/usr/share/man/man${name##*.}/$name.gz"
  chmod 0644 "$root/usr/share/man/man${name##*.}/$name.gz"
done
install -m 0644 "$staged"/doc/*.md "$root/usr/share/doc/lvsd/"
