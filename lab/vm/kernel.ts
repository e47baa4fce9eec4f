// Fetches Debian's stock kernel (linux-image-<abi>) into a cache keyed on its ABI (lab-recipes.md §B.2).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync } from 'node:fs'
import { join } from 'node:path'
import { cacheRoot, tool, VmError, withLock } from './proc.js'

export interface Kernel {
  /** e.g. 6.1.0-56-amd64: what `uname -r` prints in the guest. */
  abi: string
  /** The extracted package: <cache>/<abi>/kroot (boot/vmlinuz-<abi>, lib/modules/<abi>). */
  kroot: string
  vmlinuz: string
  /** Set when this call did the work, for docs/vm-tier.md's cost table. */
  timings?: { downloadMs: number; extractMs: number; depmodMs: number }
}

function aptCandidateAbi(): string | undefined {
  // `depends` follows the metapackage's candidate only; `apt-cache show` would list every version
  // in the sources (e.g. bookworm and bookworm-security) and a grep would pick the wrong one.
  const r = spawnSync('apt-cache', ['depends', 'linux-image-amd64'], { encoding: 'utf8' })
  if (r.error || r.status !== 0) return undefined
  return r.stdout.match(/^\s*Depends: linux-image-(\d\S*)$/m)?.[1]
}

function readyIn(dir: string, abi: string): boolean {
  return (
    existsSync(join(dir, 'kroot/boot', `vmlinuz-${abi}`)) &&
    existsSync(join(dir, 'kroot/lib/modules', abi, 'modules.dep'))
  )
}

function cachedAbis(): string[] {
  if (!existsSync(cacheRoot())) return []
  return readdirSync(cacheRoot()).filter((d) => readyIn(join(cacheRoot(), d), d))
}

let updated = false
function aptUpdateOnce(): void {
  if (updated) return
  updated = true
  tool('apt-get', ['update', '-qq'], { timeout: 300_000 })
}

/**
 * The ABI to boot: LVSD_VM_KERNEL if set (reproducing a run while the mirror still has it), else
 * the metapackage's candidate — Debian bumps the ABI and drops old packages, so it is never
 * hard-coded. Offline with a warm cache (CI restoring it), the single cached kernel is used.
 */
export function resolveAbi(): string {
  const forced = process.env.LVSD_VM_KERNEL
  if (forced) return forced.replace(/^linux-image-/, '')
  // apt-cache takes 1–3 s to load its cache: ask once per process.
  resolved ??= resolveFromApt()
  return resolved
}

let resolved: string | undefined
function resolveFromApt(): string {
  let abi = aptCandidateAbi()
  if (!abi) {
    try {
      aptUpdateOnce()
    } catch {
      // offline: fall through to the cache
    }
    abi = aptCandidateAbi()
  }
  if (abi) return abi
  const cached = cachedAbis()
  if (cached.length === 1) return cached[0] as string
  throw new VmError(
    'kernel-unresolved',
    'apt knows no linux-image-amd64 (is a Debian mirror configured?) and the cache holds no single kernel; set LVSD_VM_KERNEL',
    { cache: cacheRoot(), cached },
  )
}

function download(abi: string, into: string): void {
  const args = ['download', '-q', `linux-image-${abi}`]
  try {
    tool('apt-get', args, { cwd: into, timeout: 900_000 })
  } catch (e) {
    // Stale lists name a .deb the mirror already dropped: refresh once and retry.
    if (updated) throw e
    aptUpdateOnce()
    tool('apt-get', args, { cwd: into, timeout: 900_000 })
  }
}

function build(abi: string, dir: string): Kernel['timings'] {
  const tmp = `${dir}.tmp-${process.pid}`
  rmSync(tmp, { recursive: true, force: true })
  mkdirSync(tmp, { recursive: true })
  try {
    let t = Date.now()
    download(abi, tmp)
    const deb = readdirSync(tmp).find((f) => f.startsWith(`linux-image-${abi}_`) && f.endsWith('.deb'))
    if (!deb) throw new VmError('tool-failed', `apt-get download left no linux-image-${abi}_*.deb`, { dir: tmp })
    const downloadMs = Date.now() - t
    t = Date.now()
    const kroot = join(tmp, 'kroot')
    tool('dpkg-deb', ['-x', join(tmp, deb), kroot], { timeout: 600_000 })
    rmSync(join(tmp, deb))
    // A package laid out for merged /usr only: depmod -b and the guest expect lib/modules.
    if (!existsSync(join(kroot, 'lib/modules')) && existsSync(join(kroot, 'usr/lib/modules'))) {
      symlinkSync('usr/lib', join(kroot, 'lib'))
    }
    const extractMs = Date.now() - t
    t = Date.now()
    // The .deb ships no modules.dep (postinst normally runs depmod); without it modprobe -d finds nothing.
    tool('depmod', ['-b', kroot, abi], { timeout: 600_000 })
    const depmodMs = Date.now() - t
    if (!readyIn(tmp, abi)) throw new VmError('tool-failed', `linux-image-${abi} has no boot/vmlinuz-${abi}`, { kroot })
    // Atomic publish: a reader sees either no <abi> dir or a complete one.
    renameSync(tmp, dir)
    return { downloadMs, extractMs, depmodMs }
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true })
    throw e
  }
}

/** Makes sure the kernel for `abi` (default: resolveAbi()) is in the cache and returns it. */
export function prepareKernel(abi = resolveAbi()): Kernel {
  const dir = join(cacheRoot(), abi)
  const kernel = (timings?: Kernel['timings']): Kernel => ({
    abi,
    kroot: join(dir, 'kroot'),
    vmlinuz: join(dir, 'kroot/boot', `vmlinuz-${abi}`),
    ...(timings ? { timings } : {}),
  })
  if (readyIn(dir, abi)) return kernel()
  mkdirSync(cacheRoot(), { recursive: true })
  return withLock(`${dir}.lock`, 30 * 60_000, () => {
    if (readyIn(dir, abi)) return kernel() // another run finished it while we waited
    rmSync(dir, { recursive: true, force: true }) // a half-made dir cannot exist, but an old layout may
    return kernel(build(abi, dir))
  })
}
