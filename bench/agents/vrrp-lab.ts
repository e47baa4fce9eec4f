// The side-by-side VRRP lab of the benches: one bridge, namespaces d1/d2 that run either two lvsd
// or two keepalived (one pair at a time, same priorities, VRID, VIP and interval), a client
// namespace, and a capture of every bridge port. Daemons share one small interface so a bench
// treats both implementations alike; keepalived is Debian's 2.2.7 as in test/netns.
import type { ChildProcess } from 'node:child_process'
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { Lab } from '../../test/helpers/netns.js'
import { repoRoot } from '../../test/helpers/paths.js'
import { type ConfigDir, Director, MAC, vrrpConfig } from '../../test/netns/agents/vrrp-harness.js'

export type Impl = 'lvsd' | 'keepalived'
export type Role = 'MASTER' | 'BACKUP'

export interface VrrpSpec {
  version: 2 | 3
  /** Advert interval in ms (1000 or 100 in these benches). */
  intervalMs: number
  vrid: number
  vip: string
  priority: number
}

export interface Daemon {
  readonly impl: Impl
  readonly node: string
  waitState(to: Role, timeoutMs: number): Promise<void>
  /** A crash: the daemon stops advertising at once and cleans nothing up. */
  crash(): void
  /** SIGTERM: priority 0, VIPs removed, exit. Resolves at exit. */
  term(): Promise<void>
  /** Every process of the daemon (keepalived: parent and VRRP child). */
  pids(): number[]
}

export const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')

/** The processes in a namespace (`ip netns pids`). */
export function nsPids(ns: string): number[] {
  return spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean).map(Number)
}

/** CPU time of a process, all its threads, in ms (schedstat: ns on a CPU; exact, not 10 ms ticks). */
export function cpuMs(pid: number): number {
  let ns = 0
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0])
    }
  } catch {} // exited meanwhile
  return ns / 1e6
}

/**
 * What a thread of lvsd's is, by /proc: `pacer helper` (the lvsd-pacer process), `main` (tid =
 * pid), `rt` (SCHED_RR/FIFO: lvsd's VRRP worker), `other` (V8 platform and libuv threads; Node
 * names them all "node"). Throws if the thread is gone.
 */
export function threadKind(pid: number, tid: number): 'pacer helper' | 'main' | 'rt' | 'other' {
  if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'lvsd-pacer') return 'pacer helper'
  if (tid === pid) return 'main'
  const f = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
  const policy = Number(f[41 - 3])
  return policy === 1 || policy === 2 ? 'rt' : 'other'
}

/** A thread's schedstat: ms on a CPU and times it was put on one. Throws if the thread is gone. */
export function schedstat(pid: number, tid: number): { ms: number; runs: number } {
  const [ns = 0, , runs = 0] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number)
  return { ms: ns / 1e6, runs }
}

/** CPU ms per kind of thread (threadKind), from schedstat. */
export function cpuByThread(pids: number[]): Map<string, number> {
  const m = new Map<string, number>()
  for (const pid of pids) {
    try {
      for (const tid of readdirSync(`/proc/${pid}/task`).map(Number)) {
        const kind = threadKind(pid, tid)
        m.set(kind, (m.get(kind) ?? 0) + schedstat(pid, tid).ms)
      }
    } catch {} // exited meanwhile
  }
  return m
}

/** RssAnon / RssFile of a process in MiB (/proc/<pid>/status). */
export function rssParts(pid: number): { anon: number; file: number } {
  const st = readFileSync(`/proc/${pid}/status`, 'utf8')
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(st)?.[1] ?? 0) / 1024
  return { anon: kb('RssAnon'), file: kb('RssFile') + kb('RssShmem') }
}

/** The real-time threads of processes as `tid:RR/10` (policy from /proc/…/stat field 41, priority 40). */
export function realtimeThreads(pids: number[]): string[] {
  const names = ['OTHER', 'FIFO', 'RR', 'BATCH', 'ISO', 'IDLE', 'DEADLINE']
  const rt: string[] = []
  for (const pid of pids) {
    try {
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const f = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
        // the list after the command name starts at field 3
        const [prio, policy] = [Number(f[40 - 3]), Number(f[41 - 3])]
        if (policy === 1 || policy === 2) rt.push(`${tid}:${names[policy]}/${prio}`)
      }
    } catch {} // exited meanwhile
  }
  return rt
}

/** Resident set size of a process in MiB (VmRSS). */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return Number(m?.[1] ?? 0) / 1024
}

/** keepalived's config for one instance `web`, started in BACKUP like lvsd (preempt on). */
export function keepalivedConf(s: VrrpSpec, node: string, rtPriority?: number): string {
  return (
    `global_defs {\n  router_id ${node}\n${rtPriority ? `  vrrp_rt_priority ${rtPriority}\n` : ''}}\n` +
    `vrrp_instance web {\n  version ${s.version}\n  state BACKUP\n  interface eth0\n` +
    `  virtual_router_id ${s.vrid}\n  priority ${s.priority}\n  advert_int ${s.intervalMs / 1000}\n` +
    `  virtual_ipaddress {\n    ${s.vip}\n  }\n}\n`
  )
}

/** keepalived -P in a namespace, console log collected (-l -D, no syslog, no respawn). */
export class Keepalived implements Daemon {
  readonly impl = 'keepalived'
  private static runs = 0
  readonly proc: ChildProcess
  log = ''
  private readonly gone: Promise<void>
  constructor(
    private readonly lab: Lab,
    readonly node: string,
    cfg: ConfigDir,
    s: VrrpSpec,
    rtPriority?: number,
  ) {
    const conf = cfg.write(`${node}-keepalived.conf`, keepalivedConf(s, node, rtPriority))
    // fresh pid files per start: keepalived refuses to start over a file naming a live process
    const run = ++Keepalived.runs
    const pid = (n: string) => `${cfg.dir}/${node}-${run}-${n}.pid`
    this.proc = lab.spawn(node, 'keepalived', [
      ...['-P', '-n', '-l', '-D', '-G', '-R', '-f', conf],
      ...['-p', pid('k'), '-r', pid('v'), '-c', pid('c'), '-b', pid('b')],
    ])
    for (const st of [this.proc.stdout, this.proc.stderr]) st?.on('data', (b: Buffer) => (this.log += b.toString()))
    this.gone = new Promise((r) => this.proc.once('exit', () => r()))
  }
  async waitState(to: Role, timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs
    while (!this.log.includes(`(web) Entering ${to} STATE`)) {
      if (this.proc.exitCode !== null) throw new Error(`keepalived on ${this.node} exited:\n${this.log}`)
      if (Date.now() > end) throw new Error(`keepalived on ${this.node} not ${to} in ${timeoutMs} ms:\n${this.log}`)
      await new Promise((r) => setTimeout(r, 10))
    }
  }
  /** A crash as §3.2 of the reference models it: SIGSTOP every process first, then SIGKILL. */
  crash(): void {
    const pids = this.pids()
    for (const p of pids) process.kill(p, 'SIGSTOP')
    for (const p of pids) process.kill(p, 'SIGKILL')
  }
  async term(): Promise<void> {
    this.proc.kill('SIGTERM')
    await this.gone
  }
  pids(): number[] {
    return nsPids(this.lab.ns(this.node))
  }
}

/** `lvsd run` (the real daemon) in a namespace. */
export class Lvsd implements Daemon {
  readonly impl = 'lvsd'
  readonly d: Director
  constructor(
    private readonly lab: Lab,
    readonly node: string,
    cfg: ConfigDir,
    s: VrrpSpec,
    /** Node/V8 flags before the script, e.g. the VRRP-only profile's `--lite-mode`. */
    readonly nodeArgs: string[] = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
  ) {
    const yaml = vrrpConfig({
      node,
      priority: s.priority,
      vip: s.vip,
      vrid: s.vrid,
      version: s.version,
      interval: s.intervalMs >= 1000 ? `${s.intervalMs / 1000}s` : `${s.intervalMs}ms`,
    })
    const file = cfg.write(`${node}-lvsd.yaml`, yaml)
    const argv = [...nodeArgs, join(repoRoot, 'bin/lvsd.js'), 'run', '-c', file, '--log-format', 'json']
    this.d = new Director(lab, node, file, nodeArgs.length > 0 ? argv : undefined)
  }
  async waitState(to: Role, timeoutMs: number): Promise<void> {
    await this.d.waitState(to, timeoutMs)
  }
  crash(): void {
    this.d.kill('SIGKILL')
  }
  async term(): Promise<void> {
    this.d.kill('SIGTERM')
    await this.d.exited
  }
  pids(): number[] {
    return nsPids(this.lab.ns(this.node))
  }
}

export function startDaemon(impl: Impl, lab: Lab, node: string, cfg: ConfigDir, s: VrrpSpec, kaRt?: number): Daemon {
  return impl === 'lvsd' ? new Lvsd(lab, node, cfg, s) : new Keepalived(lab, node, cfg, s, kaRt)
}

/** A bridge (switch namespace `sw`) with d1, d2 and a client c on 10.91.0.0/24 and fd00:91::/64, fixed MACs. */
export class VrrpLab {
  readonly lab = new Lab('vb')
  readonly net = '10.91.0'
  readonly vip = '10.91.0.100/24'
  /** The VIP of the IPv6 trials (VRRPv3 over IPv6, NA instead of GARP). */
  readonly vip6 = 'fd00:91::100/64'
  readonly ifindex = new Map<string, number>()
  constructor(readonly nodes: string[] = ['d1', 'd2', 'c']) {
    this.lab.addSwitch()
    nodes.forEach((name, i) => {
      this.lab.addNode({ name, ipv4: `${this.net}.${i + 1}/24`, ipv6: `fd00:91::${i + 1}/64`, mac: MAC(i + 1) })
    })
    const links = JSON.parse(this.lab.exec('sw', 'ip', ['-j', 'link', 'show'])) as Array<{
      ifindex: number
      ifname: string
    }>
    for (const l of links) if (l.ifname.startsWith('p-')) this.ifindex.set(l.ifname.slice(2), l.ifindex)
  }
  addr(node: string): string {
    const i = this.nodes.indexOf(node)
    return `${this.net}.${i + 1}`
  }
  port(node: string): number {
    const i = this.ifindex.get(node)
    if (i === undefined) throw new Error(`no bridge port for ${node}`)
    return i
  }
  /**
   * Between trials: no process left in the daemons' namespaces, no VIP left by a crashed master,
   * the client's neighbour entries gone.
   */
  async reset(nodes: string[]): Promise<void> {
    for (const n of nodes) {
      for (const p of nsPids(this.lab.ns(n))) {
        try {
          process.kill(p, 'SIGKILL')
        } catch {}
      }
    }
    const end = Date.now() + 10_000
    while (nodes.some((n) => nsPids(this.lab.ns(n)).length > 0)) {
      if (Date.now() > end) throw new Error('processes left in the lab after 10 s')
      await new Promise((r) => setTimeout(r, 20))
    }
    for (const n of nodes)
      for (const vip of [this.vip, this.vip6])
        spawnSync('ip', ['-n', this.lab.ns(n), 'addr', 'del', vip, 'dev', 'eth0'])
    for (const n of this.ifindex.keys()) spawnSync('ip', ['-n', this.lab.ns(n), 'neigh', 'flush', 'dev', 'eth0'])
  }
  dispose(): void {
    this.lab.dispose()
  }
}

/** median (min–max) and n, the way the tables print it. */
export function summary(xs: number[], digits = 1): { med: number; min: number; max: number; text: string } {
  const s = [...xs].sort((a, b) => a - b)
  if (s.length === 0) return { med: Number.NaN, min: Number.NaN, max: Number.NaN, text: '–' }
  const med = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
  const f = (x: number) => x.toFixed(digits)
  return { med, min: s[0]!, max: s.at(-1)!, text: `${f(med)} (${f(s[0]!)}–${f(s.at(-1)!)})` }
}

/** The q-quantile of a sorted sample (nearest rank). */
export function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
}
