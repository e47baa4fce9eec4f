#!/usr/bin/env bash
# Builds the `lvsd/debian12` libvirt box offline and registers it with Vagrant (as root).
#   debootstrap (Debian 12 from this host's configured mirror) -> a 4 GB raw disk with one ext4
#   partition and extlinux -> compressed qcow2 -> box (metadata.json, Vagrantfile, box.img).
# Cached under $LVSD_BOX_CACHE (default /var/cache/lvsd-vagrant), keyed by this script's bytes,
# the package list and the mirror: a second run with nothing changed takes seconds and only
# re-registers the box when Vagrant lost it. Everything the guests need is baked in (apt inside a
# TCG guest takes minutes per package), so no guest ever runs apt.
# Usage: vagrant/box/build.sh [--force]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cache=${LVSD_BOX_CACHE:-/var/cache/lvsd-vagrant}
name=lvsd/debian12
suite=bookworm

if [ "$(id -u)" -ne 0 ]; then
  echo "box: run as root (debootstrap, loop devices)" >&2
  exit 1
fi
for tool in debootstrap extlinux qemu-img sfdisk mkfs.ext4 tune2fs e2fsck dumpe2fs losetup unshare vagrant; do
  command -v "$tool" >/dev/null || { echo "box: $tool missing (vagrant/host-setup.sh installs it)" >&2; exit 1; }
done
# The image is mounted only in a mount namespace of the build's own. A process that unshares its
# mounts while the build runs (`ip netns exec` does, and tests run beside this) copies every mount of
# the namespace it leaves, ours included, and keeps the file system alive after our umount: the box
# then ships mid-journal, and the guest's journal replay at first boot wrote a stale block 0 over
# extlinux's boot sector, so the first reboot hung in the BIOS (session 10, docs/notes.md).
if [ -z "${LVSD_BOX_OWN_NS:-}" ]; then
  exec env LVSD_BOX_OWN_NS=1 unshare --mount --propagation private bash "$0" "$@"
fi

# the guests' packages: systemd and ssh for Vagrant; nodejs for lvsd and the drill's client;
# ipvsadm, tcpdump, nftables, curl for operators and drills; keepalived (disabled) for comparisons;
# Debian's amd64 kernel (the cloud flavour has no 9p and no IPVS sync over multicast quirks to test)
packages=systemd-sysv,udev,dbus,openssh-server,sudo,iproute2,iputils-ping,procps,kmod,netbase,ca-certificates,\
init-system-helpers,adduser,less,rsync,ipvsadm,keepalived,tcpdump,nftables,curl,nodejs,\
linux-image-amd64,initramfs-tools,zstd
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
[ -n "$mirror" ] || mirror=$(awk '/^deb / {print $2; exit}' /etc/apt/sources.list)
key=$(cat "$0" <(echo "$packages $mirror $suite") | sha256sum | cut -c1-16)
out="$cache/box-$key"
box="$out/lvsd-debian12.box"

register() {
  # a box re-added under the same name keeps libvirt's uploaded copy unless it is deleted too
  if [ "$(cat "$cache/registered" 2>/dev/null)" != "$key" ] || ! vagrant box list 2>/dev/null | grep -q "^$name "; then
    vagrant box remove --force --all "$name" >/dev/null 2>&1 || true
    if virsh -c qemu:///system pool-info default >/dev/null 2>&1; then
      for v in $(virsh -c qemu:///system vol-list --pool default 2>/dev/null | awk '/lvsd-VAGRANTSLASH-debian12/ {print $1}'); do
        virsh -c qemu:///system vol-delete --pool default "$v" >/dev/null
      done
    fi
    vagrant box add --force --name "$name" "$box" >/dev/null
    echo "$key" >"$cache/registered"
    echo "box: $name registered from $box"
  else
    echo "box: $name already registered ($key)"
  fi
}

if [ -f "$box" ] && [ "${1:-}" != --force ]; then
  echo "box: cached $box"
  register
  exit 0
fi

t0=$(date +%s)
work=$(mktemp -d "$cache/work.XXXXXX" 2>/dev/null || { mkdir -p "$cache"; mktemp -d "$cache/work.XXXXXX"; })
mnt="$work/mnt"
loop=
cleanup() {
  mountpoint -q "$mnt/dev" && umount "$mnt/dev" || true
  mountpoint -q "$mnt/proc" && umount "$mnt/proc" || true
  mountpoint -q "$mnt/sys" && umount "$mnt/sys" || true
  mountpoint -q "$mnt" && umount "$mnt" || true
  [ -n "$loop" ] && losetup -d "$loop" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# 1. the disk: MBR (syslinux's boot code), one bootable partition from 1 MiB, ext4 without the
#    features extlinux cannot read. No udev here: loop the partition by its offset, not -P.
raw="$work/disk.raw"
truncate -s 4G "$raw"
printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk -q "$raw"
dd if=/usr/lib/syslinux/mbr/mbr.bin of="$raw" bs=440 count=1 conv=notrunc status=none
loop=$(losetup --find --show --offset $((2048 * 512)) --sizelimit $((4 * 1024 * 1024 * 1024 - 2048 * 512)) "$raw")
# no journal while building: nothing can be left to replay over the boot sector; it is added offline
mkfs.ext4 -q -L root -O ^64bit,^metadata_csum,^has_journal "$loop"
mkdir -p "$mnt"
mount "$loop" "$mnt"

# 2. Debian 12 into it
debootstrap --variant=minbase --include="$packages" "$suite" "$mnt" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log" >&2; exit 1; }

# 3. what makes it a Vagrant libvirt guest
cat >"$mnt/etc/fstab" <<'FSTAB'
LABEL=root / ext4 defaults,noatime 0 1
FSTAB
echo lvsd-box >"$mnt/etc/hostname"
: >"$mnt/etc/machine-id" # each clone makes its own at first boot
rm -f "$mnt/var/lib/dbus/machine-id"
mkdir -p "$mnt/etc/systemd/network"
cat >"$mnt/etc/systemd/network/10-mgmt.network" <<'NET'
# Vagrant's management network (libvirt's NAT + DHCP): the LAN NIC is configured by provisioning
[Match]
Name=eth0
[Network]
DHCP=ipv4
[DHCPv4]
ClientIdentifier=mac
NET
chroot "$mnt" systemctl enable systemd-networkd ssh >/dev/null 2>&1
chroot "$mnt" systemctl disable keepalived >/dev/null 2>&1 || true
for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer e2scrub_reap.service fstrim.timer; do
  chroot "$mnt" systemctl mask "$u" >/dev/null 2>&1 || true
done
chroot "$mnt" useradd -m -s /bin/bash vagrant
echo 'vagrant ALL=(ALL) NOPASSWD: ALL' >"$mnt/etc/sudoers.d/vagrant"
chmod 0440 "$mnt/etc/sudoers.d/vagrant"
install -d -m 0700 -o 1000 -g 1000 "$mnt/home/vagrant/.ssh"
pub=$(ls /usr/share/rubygems-integration/all/gems/vagrant-*/keys/vagrant.pub | head -1)
install -m 0600 -o 1000 -g 1000 "$pub" "$mnt/home/vagrant/.ssh/authorized_keys"
echo 'UseDNS no' >"$mnt/etc/ssh/sshd_config.d/vagrant.conf"
# IPVS and its sync daemon load at boot: the drill and lvsd find them there
printf 'ip_vs\n' >"$mnt/etc/modules-load.d/lvsd.conf"
chroot "$mnt" apt-get clean

# 4. boot loader
kver=$(ls "$mnt/lib/modules" | sort -V | tail -1)
mkdir -p "$mnt/boot/extlinux"
cat >"$mnt/boot/extlinux/extlinux.conf" <<EXT
DEFAULT debian
TIMEOUT 1
LABEL debian
  LINUX /boot/vmlinuz-$kver
  INITRD /boot/initrd.img-$kver
  APPEND root=LABEL=root ro console=ttyS0 net.ifnames=0 quiet
EXT
extlinux --install "$mnt/boot/extlinux" >/dev/null 2>&1
sync
umount "$mnt"
# the config must be on the device itself (an empty one once stopped a build at "boot:")
debugfs -R 'cat /boot/extlinux/extlinux.conf' "$loop" 2>/dev/null | grep -q "vmlinuz-$kver" ||
  { echo "box: extlinux.conf missing from the image" >&2; exit 1; }
e2fsck -fy "$loop" >/dev/null 2>&1 || [ $? -le 1 ] || { echo "box: e2fsck found errors in the image" >&2; exit 1; }
tune2fs -j "$loop" >/dev/null
# a box that boots once but not after a reboot is worse than no box: check what the BIOS will read
fsinfo=$(dumpe2fs -h "$loop" 2>/dev/null)
grep -q '^Filesystem state: *clean$' <<<"$fsinfo" ||
  { echo "box: the file system is not clean after umount" >&2; exit 1; }
! grep -q '^Filesystem features:.*needs_recovery' <<<"$fsinfo" ||
  { echo "box: the journal needs recovery: a replay in the guest would rewrite the boot sector" >&2; exit 1; }
[ "$(dd if="$loop" bs=1 skip=3 count=8 status=none)" = SYSLINUX ] ||
  { echo "box: extlinux's boot sector is missing" >&2; exit 1; }
losetup -d "$loop"
loop=

# 5. the box
mkdir -p "$out"
qemu-img convert -c -O qcow2 "$raw" "$work/box.img"
printf '{"provider":"libvirt","format":"qcow2","virtual_size":4}\n' >"$work/metadata.json"
cp "$here/box-Vagrantfile" "$work/Vagrantfile"
tar -C "$work" -cf "$box.tmp" metadata.json Vagrantfile box.img
mv "$box.tmp" "$box"
echo "box: built $box ($(du -h "$box" | cut -f1), kernel $kver) in $(($(date +%s) - t0)) s"
register
