// Netns helpers for the VRRP tests: lvsd daemons (`node bin/lvsd.js run`) spawned inside lab
// namespaces with configs in a temp dir, their JSON log lines collected and awaited, and small
// probes of the namespaces (addresses, neighbour entries, captures).
import { type ChildProcess, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Lab } from '../../helpers/netns.js'
import { repoRoot } from '../../helpers/paths.js'

export interface LogLine {
  msg: string
  level: number
  vrrp?: string
  from?: string
  to?: string
  why?: string
  at?: number
  counters?: { drops: Record<string, number>; rx: number; tx: number; garp: number; na: number; lateAdverts: number }
  [k: string]: unknown
}

export const MAC = (n: number) => `02:c0:00:00:00:${n.toString(16).padStart(2, '0')}`

export class ConfigDir {
  readonly dir = mkdtempSync(join(tmpdir(), 'lvsd-vrrp-'))
  write(name: string, yaml: string): string {
    const p = join(this.dir, name)
    writeFileSync(p, yaml)
    return p
  }
  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true })
  }
}

/** One running lvsd; every JSON line it logs is kept (and parsed), stray output too. */
export class Director {
  readonly lines: LogLine[] = []
  readonly raw: string[] = []
  readonly proc: ChildProcess
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  private waiters: Array<() => void> = []

  /** `argv`: a node script and its arguments to run instead of `lvsd run -c config`. */
  constructor(
    lab: Lab,
    readonly node: string,
    config: string,
    argv?: string[],
  ) {
    this.proc = lab.spawn(
      node,
      process.execPath,
      argv ?? [join(repoRoot, 'bin/lvsd.js'), 'run', '-c', config, '--log-format', 'json'],
    )
    for (const stream of [this.proc.stdout, this.proc.stderr]) {
      if (!stream) continue
      createInterface({ input: stream }).on('line', (l) => {
        this.raw.push(l)
        try {
          this.lines.push(JSON.parse(l) as LogLine)
        } catch {}
        for (const w of this.waiters) w()
      })
    }
    this.exited = new Promise((r) => this.proc.once('exit', (code, signal) => r({ code, signal })))
  }

  /** The first line (from index `from`) matching `pred`, waiting up to `timeoutMs` of wall clock. */
  async waitLine(pred: (l: LogLine) => boolean, timeoutMs: number, from = 0): Promise<LogLine> {
    const end = Date.now() + timeoutMs
    for (;;) {
      const hit = this.lines.slice(from).find(pred)
      if (hit) return hit
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
        throw new Error(`${this.node} exited while waiting; log:\n${this.raw.slice(-30).join('\n')}`)
      }
      const left = end - Date.now()
      if (left <= 0)
        throw new Error(`${this.node}: no matching line in ${timeoutMs} ms; log:\n${this.raw.slice(-30).join('\n')}`)
      await new Promise<void>((r) => {
        const t = setTimeout(done, Math.min(left, 200))
        function done() {
          clearTimeout(t)
          r()
        }
        this.waiters.push(done)
      })
      this.waiters = []
    }
  }

  /** Waits for a transition of `instance` into `to` logged after line index `from`. */
  waitState(to: string, timeoutMs: number, from = 0, instance = 'web'): Promise<LogLine> {
    return this.waitLine((l) => l.vrrp === instance && l.to === to && l.from !== undefined, timeoutMs, from)
  }

  /**
   * Waits until the last transition of `instance` is into `to` and no other follows for `quietMs`
   * (two daemons started together may pass through other states before they settle).
   */
  async waitSettled(to: string, timeoutMs: number, quietMs = 1000, instance = 'web'): Promise<void> {
    const end = Date.now() + timeoutMs
    const count = () => this.lines.filter((l) => l.vrrp === instance && l.to !== undefined).length
    for (;;) {
      await this.waitLine(() => this.state(instance) === to, Math.max(1, end - Date.now()))
      const n = count()
      await sleep(quietMs)
      if (count() === n && this.state(instance) === to) return
      if (Date.now() > end) throw new Error(`${this.node}: ${instance} did not settle in ${to} within ${timeoutMs} ms`)
    }
  }

  /** The state of the last logged transition. */
  state(instance = 'web'): string | undefined {
    return this.lines.filter((l) => l.vrrp === instance && l.to !== undefined).at(-1)?.to
  }

  mark(): number {
    return this.lines.length
  }

  kill(signal: NodeJS.Signals): void {
    this.proc.kill(signal)
  }
}

/** The addresses on an interface of a namespace, as `a.b.c.d/len` strings. */
export function addrs(lab: Lab, node: string, dev = 'eth0'): string[] {
  const j = JSON.parse(lab.exec(node, 'ip', ['-j', 'addr', 'show', 'dev', dev])) as Array<{
    addr_info: Array<{ local: string; prefixlen: number }>
  }>
  return j.flatMap((i) => i.addr_info.map((a) => `${a.local}/${a.prefixlen}`))
}

/** The MAC a namespace's neighbour table holds for `ip` (undefined if none or incomplete). */
export function neighMac(lab: Lab, node: string, ip: string): string | undefined {
  const j = JSON.parse(lab.exec(node, 'ip', ['-j', 'neigh', 'show', ip])) as Array<{ lladdr?: string }>
  return j[0]?.lladdr
}

/** Sends one UDP datagram to `ip` so the node's kernel resolves it (and keeps a neighbour entry). */
export function poke(lab: Lab, node: string, ip: string): void {
  lab.exec(node, 'bash', ['-c', `echo x > /dev/udp/${ip}/9 || true`])
}

/** The MAC that answers an ARP request for `ip` from `node` (arping), or undefined. */
export function arpAnswer(lab: Lab, node: string, ip: string): string | undefined {
  try {
    return lab.exec(node, 'arping', ['-c', '1', '-w', '2', '-r', '-i', 'eth0', ip]).trim().split('\n')[0]
  } catch {
    return undefined
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/**
 * The `control:` section giving each daemon its own API socket in the config's directory: the
 * namespaces share the file system, so the default /run/lvsd/lvsd.sock would be taken by the first.
 */
export function controlSocket(cfg: ConfigDir, node: string): string {
  return `control:\n  socket: ${join(cfg.dir, `${node}.sock`)}\n`
}

/**
 * The `programs:` section for tests whose scripts read or write files in their ConfigDir: that
 * directory is private to root (mkdtemp, 0700), and lvsd running as root runs programs as an
 * unprivileged user unless told otherwise.
 */
export const PROGRAMS_AS_ROOT = 'programs: { user: root }\n'

/** A VRRP-only lvsd config for one instance `web`, with a control socket of its own (see above). */
export function vrrpConfig(o: {
  node: string
  /** Top-level sections added after `control:` (e.g. PROGRAMS_AS_ROOT). */
  top?: string
  priority: number
  vip: string
  vrid?: number
  version?: 2 | 3
  interval?: string
  preempt?: boolean
  extra?: string
}): string {
  return `node: ${o.node}
control:
  socket: ${join(tmpdir(), `lvsd-test-${process.pid}-${o.node}.sock`)}
${o.top ?? ''}vrrp:
  version: ${o.version ?? 3}
  advert_interval: ${o.interval ?? '100ms'}
  instances:
    - name: web
      interface: eth0
      vrid: ${o.vrid ?? 51}
      priority: ${o.priority}
      preempt: ${o.preempt ?? true}
      vips: [${o.vip}]
${o.extra ?? ''}`
}

/** `lvsctl -s SOCKET ARGS…` run inside a namespace (the API socket is a file, the VIPs and peers are not). */
export function lvsctlIn(
  lab: Lab,
  node: string,
  socket: string,
  args: string[],
): { status: number | null; out: string; err: string } {
  const r = spawnSync(
    'ip',
    ['netns', 'exec', lab.ns(node), process.execPath, join(repoRoot, 'bin/lvsctl.js'), '-s', socket, ...args],
    { encoding: 'utf8', timeout: 30_000 },
  )
  return { status: r.status, out: r.stdout, err: r.stderr }
}

/** The body of an HTTP GET made from inside a namespace (metrics listen on the namespace's loopback). */
export function fetchIn(lab: Lab, node: string, url: string): string {
  const r = spawnSync(
    'ip',
    [
      'netns',
      'exec',
      lab.ns(node),
      process.execPath,
      '-e',
      `fetch(${JSON.stringify(url)}).then(r=>r.text()).then(t=>process.stdout.write(t))`,
    ],
    { encoding: 'utf8', timeout: 30_000 },
  )
  return r.stdout
}
