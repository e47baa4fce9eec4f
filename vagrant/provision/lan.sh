#!/bin/sh
# Every guest: its name, and its LAN NIC (eth1, on lvsd-lan) with the seed's address, by
# systemd-networkd (no DHCP, no IPv6 autoconfiguration: the seed is IPv4 and quiet captures help).
# Usage: lan.sh NAME [ADDRESS/PREFIX]
set -eu
name=$1
addr=${2:-}
hostnamectl set-hostname "$name" 2>/dev/null || echo "$name" >/etc/hostname
grep -q " $name\$" /etc/hosts || echo "127.0.1.1 $name" >>/etc/hosts
{
  echo '[Match]'
  echo 'Name=eth1'
  echo '[Network]'
  [ -n "$addr" ] && echo "Address=$addr"
  echo 'LinkLocalAddressing=no'
  echo 'IPv6AcceptRA=no'
  [ -z "$addr" ] && echo 'ConfigureWithoutCarrier=yes'
} >/etc/systemd/network/20-lan.network
networkctl reload
networkctl reconfigure eth1
