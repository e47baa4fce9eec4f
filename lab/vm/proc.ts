// Process, cache-directory and lock helpers shared by the qemu test runner (lab-recipes.md §B).
import { type SpawnSyncOptions, spawnSync } from 'node:child_process'
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs'
import { join } from 'node:path'

/** Why a VM step failed; tests and the test-tier probe branch on `kind`, never on wording. */
export type VmErrorKind =
  | 'tool-failed' // a host tool (apt-get, dpkg-deb, depmod, cpio, …) exited non-zero
  | 'kernel-unresolved' // no linux-image-<abi> could be named
  | 'lock-timeout' // another run held the cache lock past the deadline
  | 'timeout' // the wall-clock limit killed qemu
  | 'no-exit-code' // qemu ended but the guest never wrote the command's exit status
  | 'qemu-failed' // qemu could not be started
  | 'bad-request' // runInVm options the guest cannot honour (hidden cwd, unquotable path, bad env name)

export class VmError extends Error {
  override readonly name = 'VmError'
  constructor(
    readonly kind: VmErrorKind,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
  ) {
    super(message)
  }
}

export function cacheRoot(): string {
  return process.env.LVSD_VM_CACHE || '/var/cache/lvsd/vm'
}

/** Runs a host tool to completion; throws VmError('tool-failed') with its stderr tail. */
export function tool(cmd: string, args: string[], opts: SpawnSyncOptions = {}): string {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
    ...opts,
  })
  if (r.error || r.status !== 0) {
    const stderr = String(r.stderr ?? '').slice(-2000)
    throw new VmError('tool-failed', `${cmd} ${args.join(' ')} failed: ${r.error?.message ?? stderr.trim()}`, {
      cmd,
      args,
      status: r.status,
      stderr,
    })
  }
  return String(r.stdout ?? '')
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
}

/**
 * Runs `fn` holding an exclusive lock file. The lock only saves a second concurrent run from
 * downloading the same 70 MB; correctness comes from building in a temp dir and renaming. A lock
 * whose owner pid is gone (a killed run) is taken over.
 */
export function withLock<T>(lockPath: string, deadlineMs: number, fn: () => T): T {
  mkdirSync(join(lockPath, '..'), { recursive: true })
  const until = Date.now() + deadlineMs
  for (;;) {
    try {
      const fd = openSync(lockPath, 'wx')
      writeSync(fd, String(process.pid))
      closeSync(fd)
      break
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e
    }
    let owner = 0
    try {
      owner = Number(readFileSync(lockPath, 'utf8'))
    } catch {
      continue // removed between our open and read: try again at once
    }
    // A lock file still empty was just created; only a pid that is known dead is stale.
    if (owner > 0 && !pidAlive(owner)) {
      rmSync(lockPath, { force: true })
      continue
    }
    const age = Date.now() - (statSync(lockPath, { throwIfNoEntry: false })?.mtimeMs ?? 0)
    if (owner === 0 && age > 10_000) {
      rmSync(lockPath, { force: true })
      continue
    }
    if (Date.now() > until) throw new VmError('lock-timeout', `cache lock ${lockPath} held by pid ${owner}`)
    sleepSync(500)
  }
  try {
    return fn()
  } finally {
    rmSync(lockPath, { force: true })
  }
}

/** POSIX-shell single quoting, for scripts the guest runs. */
export function shQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`
}
