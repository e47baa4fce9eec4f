#!/bin/sh
# A director: lvsd from the package built from the tree, configured with the seed's example
# (conf/lb01.yaml or conf/lb02.yaml, uploaded as /tmp/lvsd.yaml) on this guest's LAN NIC, eth1.
set -eu
export DEBIAN_FRONTEND=noninteractive
dpkg -i /tmp/lvsd.deb
# the examples name eth0 (the seed's NIC); here the LAN is eth1: the only change made to them
sed -e 's/\beth0\b/eth1/g' /tmp/lvsd.yaml >/etc/lvsd/lvsd.yaml
lvsd check /etc/lvsd/lvsd.yaml
# under TCG (systemd-detect-virt says qemu, not kvm) Node starts ~15x slower, and slower still while
# the other guests boot on the same host cores: the unit's 30 s start limit was exceeded (measured,
# three guests on two cores). A lab drop-in, not a change to the package's unit.
if [ "$(systemd-detect-virt 2>/dev/null)" = qemu ]; then
  mkdir -p /etc/systemd/system/lvsd.service.d
  printf '[Service]\n# lvsd vagrant lab: an emulated (TCG) guest\nTimeoutStartSec=5min\n' \
    >/etc/systemd/system/lvsd.service.d/tcg.conf
  systemctl daemon-reload
fi
systemctl enable --now lvsd
lvsctl status
