#!/bin/sh
# The small topology's third VM: web01, web02 and client as network namespaces, each with an eth0
# on lvsd-lan (veth into a bridge that holds this VM's eth1) carrying the seed's address and the
# fixed MAC the drill reads captures by. Real servers set up by `lvsd realserver up` inside their
# namespace; the lab web service per namespace as lvsd-lab-web@NAME.
set -eu
export DEBIAN_FRONTEND=noninteractive
dpkg -i /tmp/lvsd.deb
install -D -m 0644 /tmp/lab-web.js /usr/local/lib/lvsd-lab/lab-web.js
# inside each namespace the LAN NIC is eth0, as the example names it
install -m 0644 /tmp/realserver.yaml /etc/lvsd/realserver.yaml
cat >/usr/local/sbin/lvsd-lab-netns <<'SCRIPT'
#!/bin/sh
# (re)creates the namespaces at boot: bridge br0 over eth1, one veth per node
set -eu
ip link show br0 >/dev/null 2>&1 || ip link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0
ip link set eth1 master br0 up
ip link set br0 up
for spec in web01:10.0.0.7:07 web02:10.0.0.8:08 client:10.0.0.100:64; do
  n=${spec%%:*}; rest=${spec#*:}; addr=${rest%%:*}; mac=02:c0:00:00:00:${rest#*:}
  ip netns list | grep -qw "$n" && continue
  ip netns add "$n"
  ip link add "v-$n" type veth peer name eth0 netns "$n"
  ip link set "v-$n" master br0 up
  ip -n "$n" link set lo up
  ip -n "$n" link set eth0 address "$mac"
  ip -n "$n" addr add "$addr/24" dev eth0
  ip -n "$n" link set eth0 up
  ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
done
for n in web01 web02; do
  ip netns exec "$n" lvsd realserver up -c /etc/lvsd/realserver.yaml --record "/run/lvsd-realserver/$n.json"
done
SCRIPT
chmod 0755 /usr/local/sbin/lvsd-lab-netns
cat >/etc/systemd/system/lvsd-lab-netns.service <<'UNIT'
[Unit]
Description=lvsd lab: web01, web02, client namespaces on lvsd-lan
After=systemd-networkd.service
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/lvsd-lab-netns
[Install]
WantedBy=multi-user.target
UNIT
cat >/etc/systemd/system/lvsd-lab-web@.service <<'UNIT'
[Unit]
Description=lvsd lab web service in namespace %i
After=lvsd-lab-netns.service
Requires=lvsd-lab-netns.service
[Service]
ExecStart=/usr/sbin/ip netns exec %i /usr/bin/node /usr/local/lib/lvsd-lab/lab-web.js %i
[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable --now lvsd-lab-netns lvsd-lab-web@web01 lvsd-lab-web@web02
for n in web01 web02; do ip netns exec "$n" lvsd realserver check -c /etc/lvsd/realserver.yaml; done
