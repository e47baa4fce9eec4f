// A Debian 12 root (scripts/debian-root.sh) booted with systemd-nspawn -b for the package tier:
// systemd is PID 1 inside, the network is private, the cached root is an overlay's lower layer
// (--volatile=overlay), so nothing a test does survives the container. Needs root and systemd-container.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from './paths.js'
import { until } from './until.js'

export interface Run {
  status: number | null
  stdout: string
  stderr: string
}

export function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 << 20, env: { ...process.env, ...env } })
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? r.error?.message ?? '' }
}

/**
 * Polls fn every 250 ms (each poll is a process in the container) until it returns a value other
 * than undefined, or throws after ms of wall-clock time.
 */
export function waitFor<T>(what: string, ms: number, fn: () => T | undefined): Promise<T> {
  return until(fn, ms, what, 250)
}

/** The cached pristine Debian 12 root (scripts/debian-root.sh); never modify it. */
export function debianRoot(): string {
  const root = sh('bash', [join(repoRoot, 'scripts', 'debian-root.sh')])
  if (root.status !== 0) throw new Error(`debian-root.sh failed: ${root.stderr.slice(-2000)}`)
  return root.stdout.trim().split('\n').pop() as string
}

/** A writable overlay over the cached root at <base>/merged, for tools that write into a root. */
export function overlayRoot(base: string): { dir: string; remove: () => void } {
  const lower = debianRoot()
  for (const d of ['upper', 'work', 'merged']) mkdirSync(join(base, d), { recursive: true })
  const dir = join(base, 'merged')
  const m = sh('mount', [
    '-t',
    'overlay',
    'overlay',
    '-o',
    `lowerdir=${lower},upperdir=${base}/upper,workdir=${base}/work`,
    dir,
  ])
  if (m.status !== 0) throw new Error(`overlay mount failed: ${m.stderr}`)
  return {
    dir,
    remove: () => {
      sh('umount', [dir])
      rmSync(base, { recursive: true, force: true })
    },
  }
}

export class BootedRoot {
  private constructor(
    private readonly nspawn: ChildProcess,
    readonly init: number,
    readonly console: () => string,
  ) {}

  /**
   * Boots the cached root (an overlay over it: nothing survives) or, given dir, that directory as it
   * is, with share bound read-only at /pkg; resolves once systemd says running.
   */
  static async boot(share: string, name: string, dir?: string): Promise<BootedRoot> {
    const volatile = dir === undefined ? ['--volatile=overlay'] : []
    dir ??= debianRoot()
    const child = spawn(
      'systemd-nspawn',
      ['-q', '-D', dir, '-b', '--register=no', '--keep-unit', '--private-network', ...volatile].concat([
        `--bind-ro=${share}:/pkg`,
        '-M',
        name,
      ]),
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let log = ''
    child.stdout?.on('data', (c: Buffer) => {
      log += c.toString()
    })
    child.stderr?.on('data', (c: Buffer) => {
      log += c.toString()
    })
    try {
      // nspawn's first child is a short-lived helper: the container's init is the child named systemd
      const init = await waitFor('the container init', 30_000, () => {
        if (child.exitCode !== null) throw new Error(`systemd-nspawn exited ${child.exitCode}: ${log}`)
        const ps = sh('ps', ['-o', 'pid=,comm=', '--ppid', String(child.pid)]).stdout.trim()
        const m = /^(\d+)\s+systemd$/m.exec(ps)
        return m ? Number(m[1]) : undefined
      })
      const booted = new BootedRoot(child, init, () => log)
      await waitFor('systemd running in the container', 60_000, () => {
        const state = booted.exec('systemctl is-system-running').stdout.trim()
        return /^(running|degraded)$/.test(state) ? true : undefined
      })
      return booted
    } catch (e) {
      child.kill('SIGKILL')
      throw e
    }
  }

  /** A shell command inside the container (all its namespaces), with a clean environment. */
  exec(script: string): Run {
    return sh('nsenter', [
      '-t',
      String(this.init),
      '-a',
      'env',
      '-i',
      'PATH=/usr/sbin:/usr/bin:/sbin:/bin',
      'LANG=C.UTF-8',
      'sh',
      '-c',
      script,
    ])
  }

  /** Powers the container off (SIGTERM makes systemd-nspawn halt it) and waits for it to go. */
  async stop(): Promise<void> {
    if (this.nspawn.exitCode !== null) return
    const gone = new Promise((r) => this.nspawn.once('exit', r))
    this.nspawn.kill('SIGTERM')
    const timer = setTimeout(() => this.nspawn.kill('SIGKILL'), 30_000)
    await gone
    clearTimeout(timer)
  }
}
