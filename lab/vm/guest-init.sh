#!/bin/sh
# PID 1 inside the lvsd test VM (lab-recipes.md §B.4): runs one job from the host, reports, powers off.
# The root is the host's / (9p, read-only) under a tmpfs overlay, so this script, node, ipvsadm and
# the repository are the host's own files. Kernel command line: lvsd.run=<run dir> lvsd.kroot=<tree>.
# The run dir holds job.conf (JOB_CWD=…), job.sh (env + exec of the command) and out/, a writable
# 9p share mounted here at its host path, where stdout, stderr, status and times are written.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=dumb

say() { echo "lvsd-guest: $*"; }
off() {
  sync
  [ -n "$OUT" ] && umount "$OUT" 2>/dev/null
  # The host's poweroff is systemctl, which needs systemd; busybox calls reboot(2) itself.
  /bin/busybox poweroff -f
  echo o >/proc/sysrq-trigger
  sleep 30
}

RUN=
KROOT=
for w in $(cat /proc/cmdline); do
  case "$w" in
  lvsd.run=*) RUN="${w#lvsd.run=}" ;;
  lvsd.kroot=*) KROOT="${w#lvsd.kroot=}" ;;
  esac
done
OUT="$RUN/out"

# The initramfs moved fresh proc/sys/dev here; the rest of the host's view must not leak in:
# host pid files and /run/netns under /run, and whatever the host keeps in /tmp.
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /tmp
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# devtmpfs has no /dev/fd: bash process substitution and `node -` need it.
ln -sfn /proc/self/fd /dev/fd
ln -sfn /proc/self/fd/0 /dev/stdin
ln -sfn /proc/self/fd/1 /dev/stdout
ln -sfn /proc/self/fd/2 /dev/stderr
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null || say "no cgroup2"
hostname lvsd-vm
ip link set lo up

# Module auto-loading: the kernel's request_module runs the host's modprobe, which looks in
# /lib/modules/$(uname -r). There is no udev: device drivers must be modprobed by hand.
mkdir -p /lib/modules
ln -sfn "$KROOT/lib/modules/$(uname -r)" "/lib/modules/$(uname -r)"
echo /sbin/modprobe >/proc/sys/kernel/modprobe

if [ -z "$RUN" ] || ! [ -r "$RUN/job.conf" ]; then
  say "no job (lvsd.run=$RUN)"
  off
fi
. "$RUN/job.conf"

# The working directory is its own read-only 9p share, mounted at its host path: writes under the
# repository fail (EROFS) instead of landing in the tmpfs overlay and vanishing, and a directory
# under /tmp stays visible. Mount it first, then the out share, so an out dir inside it stays writable.
mkdir -p "$JOB_CWD"
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose,ro work "$JOB_CWD"; then
  say "cannot mount the work share at $JOB_CWD"
  off
fi
if ! mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 out "$OUT"; then
  say "cannot mount the out share at $OUT"
  off
fi

read -r up _ </proc/uptime
echo "ready $up" >"$OUT/times"
(cd "$JOB_CWD" && exec /bin/sh "$RUN/job.sh") </dev/null >"$OUT/stdout" 2>"$OUT/stderr"
rc=$?
read -r up _ </proc/uptime
echo "done $up" >>"$OUT/times"
echo "$rc" >"$OUT/status.tmp" && mv "$OUT/status.tmp" "$OUT/status"
say "job exited $rc"
off
