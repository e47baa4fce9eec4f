#!/bin/sh
# A director: lvsd from the package built from the tree, configured with the seed's example
# (conf/lb01.yaml or conf/lb02.yaml, uploaded as /tmp/lvsd.yaml) on this guest's LAN NIC, eth1.
set -eu
export DEBIAN_FRONTEND=noninteractive
dpkg -i /tmp/lvsd.deb
# the examples name eth0 (the seed's NIC); here the LAN is eth1: the only change made to them
sed -e 's/\beth0\b/eth1/g' /tmp/lvsd.yaml >/etc/lvsd/lvsd.yaml
lvsd check /etc/lvsd/lvsd.yaml
systemctl enable --now lvsd
lvsctl status
