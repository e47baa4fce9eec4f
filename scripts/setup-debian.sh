#!/usr/bin/env bash
# Installs every Debian package lvsd's build, demo and test tiers need (Debian 12, as root).
# One list for the README's set-up command and for CI, so the two cannot drift apart.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(
  g++ make python3            # node-gyp builds the native addon
  openssl                     # health tests make a self-signed certificate for the HTTPS checker
  iproute2 nftables procps    # netns tier: namespaces, veth, bridge, packet filters
  keepalived                  # the real VRRP peer for interop tests
  ipvsadm                     # cross-checks what lvsd programs into IPVS
  tcpdump tshark arping       # captures and probes in the netns tier
  qemu-system-x86 busybox-static kmod cpio xz-utils zstd   # vm tier: Debian's kernel under qemu
  dpkg-dev rpm systemd        # packaging: dpkg-shlibdeps, rpmbuild, systemd-analyze verify
  lintian rpmlint groff-base  # package tier: lint both packages; man pages rendered at build time
  debootstrap systemd-container   # package tier: a Debian 12 root booted with systemd-nspawn
)
if [ "$(id -u)" -ne 0 ]; then
  echo "setup-debian: run as root (apt-get install)" >&2
  exit 1
fi
apt-get update -q
apt-get install -y -q --no-install-recommends "${packages[@]}"
# the vagrant tier: Vagrant, vagrant-libvirt, libvirt and the box builder (their list lives there)
bash "$(dirname "$0")/../vagrant/host-setup.sh" install
