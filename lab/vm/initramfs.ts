// Builds the tiny busybox initramfs that mounts the host root over 9p and switches to it (lab-recipes.md §B.3).
import { createHash } from 'node:crypto'
import {
  chmodSync,
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { basename, join } from 'node:path'
import type { Kernel } from './kernel.js'
import { tool, VmError } from './proc.js'

/** Loaded before the host root can be mounted; everything else is auto-loaded later by the guest. */
export const BOOT_MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'overlay']

// Runs as PID 1 from the initramfs. The 9p msize/cache=loose matter: node alone is ~100 MB and a
// small msize makes every cold start crawl. If overlay fails the host root is used read-only.
const INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
fail() { echo "lvsd-initramfs: $*"; echo o > /proc/sysrq-trigger; poweroff -f; sleep 10; }
mkdir -p /proc /sys /dev /lower /upper /newroot
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in /lib/boot/*.ko; do insmod "$m" || echo "lvsd-initramfs: insmod $m failed"; done
gi=
for w in $(cat /proc/cmdline); do case "$w" in lvsd.init=*) gi="\${w#lvsd.init=}" ;; esac; done
[ -n "$gi" ] || fail "no lvsd.init= on the kernel command line"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288,cache=loose,ro hostroot /lower || fail "cannot mount 9p hostroot"
mount -t tmpfs -o mode=0755 tmpfs /upper
mkdir -p /upper/u /upper/w
if ! mount -t overlay -o lowerdir=/lower,upperdir=/upper/u,workdir=/upper/w overlay /newroot; then
  echo "lvsd-initramfs: overlay failed, root stays read-only"
  mount --bind /lower /newroot || fail "cannot bind the host root"
fi
for d in proc sys dev; do mount --move /$d /newroot/$d; done
exec switch_root /newroot "$gi"
fail "switch_root $gi failed"
`

/** True when the ELF file has no PT_INTERP header, i.e. runs without a libc in the initramfs. */
function isStaticElf(path: string): boolean {
  const fd = openSync(path, 'r')
  try {
    const h = Buffer.alloc(64)
    readSync(fd, h, 0, 64, 0)
    if (h.readUInt32BE(0) !== 0x7f454c46 || h[4] !== 2) return false // ELF64 only
    const phoff = Number(h.readBigUInt64LE(0x20))
    const phentsize = h.readUInt16LE(0x36)
    const phnum = h.readUInt16LE(0x38)
    const ph = Buffer.alloc(phentsize * phnum)
    readSync(fd, ph, 0, ph.length, phoff)
    for (let i = 0; i < phnum; i++) if (ph.readUInt32LE(i * phentsize) === 3) return false
    return true
  } finally {
    closeSync(fd)
  }
}

/** The .ko files to insmod, in dependency order (`-a`: without it modprobe takes the other names as module parameters). */
export function bootModules(k: Kernel): string[] {
  const out = tool('modprobe', ['-d', k.kroot, '-S', k.abi, '--show-depends', '-a', ...BOOT_MODULES])
  const seen = new Set<string>()
  for (const line of out.split('\n')) {
    const m = line.match(/^insmod (\S+)/)
    if (m?.[1]) seen.add(m[1]) // `builtin x` lines need nothing
  }
  if (seen.size === 0) throw new VmError('tool-failed', `modprobe found none of ${BOOT_MODULES.join(' ')}`, { out })
  return [...seen]
}

/** Busybox insmod reads only plain .ko; Debian compresses modules (xz up to 6.1, zstd later). */
function copyModule(src: string, dst: string): void {
  if (src.endsWith('.ko')) copyFileSync(src, dst)
  else if (src.endsWith('.ko.xz')) writeFileSync(dst, tool('xz', ['-dc', src], { encoding: 'buffer' }))
  else if (src.endsWith('.ko.zst')) writeFileSync(dst, tool('zstd', ['-dcq', src], { encoding: 'buffer' }))
  else if (src.endsWith('.ko.gz')) writeFileSync(dst, tool('gzip', ['-dc', src], { encoding: 'buffer' }))
  else throw new VmError('tool-failed', `unknown module compression: ${src}`)
}

export function busyboxPath(): string {
  return process.env.LVSD_VM_BUSYBOX || '/bin/busybox'
}

/** Returns the path of a gzip'd newc cpio for `k`, building it (atomically) if it is not cached. */
export function prepareInitramfs(k: Kernel): string {
  const bb = busyboxPath()
  if (!existsSync(bb) || !isStaticElf(bb)) {
    throw new VmError('tool-failed', `${bb} is missing or not statically linked (apt-get install busybox-static)`)
  }
  const mods = bootModules(k)
  const bbStat = statSync(bb)
  const key = createHash('sha256')
    .update(INIT)
    .update(mods.join('\n'))
    .update(`${bbStat.size}:${bbStat.mtimeMs}`)
    .digest('hex')
    .slice(0, 12)
  const target = join(k.kroot, '..', `initrd-${key}.gz`)
  if (existsSync(target)) return target

  const stage = join(k.kroot, '..', `initrd-stage-${process.pid}`)
  rmSync(stage, { recursive: true, force: true })
  try {
    mkdirSync(join(stage, 'bin'), { recursive: true })
    mkdirSync(join(stage, 'lib/boot'), { recursive: true })
    copyFileSync(bb, join(stage, 'bin/busybox'))
    chmodSync(join(stage, 'bin/busybox'), 0o755)
    mods.forEach((m, i) => {
      const name = basename(m).replace(/\.ko(\.\w+)?$/, '.ko')
      copyModule(m, join(stage, 'lib/boot', `${String(i).padStart(2, '0')}-${name}`))
    })
    writeFileSync(join(stage, 'init'), INIT, { mode: 0o755 })
    const tmp = `${target}.tmp-${process.pid}`
    tool('sh', ['-c', `find . -print0 | cpio --null -o -H newc --quiet | gzip -1 > "$0"`, tmp], { cwd: stage })
    renameSync(tmp, target) // same name = same content, so a concurrent run's rename is harmless
    return target
  } finally {
    rmSync(stage, { recursive: true, force: true })
  }
}
