#!/bin/sh
# A real server, set up the way an operator would: the package, `lvsd realserver up` through its
# unit (VIP on lo, arp_ignore=1, arp_announce=2 on all and eth1), and the lab's web service on :80.
# Usage: realserver.sh NAME
set -eu
name=$1
export DEBIAN_FRONTEND=noninteractive
dpkg -i /tmp/lvsd.deb
sed -e 's/\[eth0\]/[eth1]/' /tmp/realserver.yaml >/etc/lvsd/realserver.yaml
systemctl enable --now lvsd-realserver
lvsd realserver check -c /etc/lvsd/realserver.yaml
install -D -m 0644 /tmp/lab-web.js /usr/local/lib/lvsd-lab/lab-web.js
cat >/etc/systemd/system/lvsd-lab-web.service <<UNIT
[Unit]
Description=lvsd lab web service ($name): answers GET with its name, echoes its name per line
After=network-online.target lvsd-realserver.service
[Service]
ExecStart=/usr/bin/node /usr/local/lib/lvsd-lab/lab-web.js $name
Restart=no
[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable --now lvsd-lab-web
