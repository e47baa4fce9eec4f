// The lab pieces of the peer VM agent (peer-agent.ts): the two lvsd daemons in their namespaces with
// their logs and API, their config files (conf/ plus `peer:`), commands in a namespace, waiting on a
// condition with a deadline, and the client's bursts of GETs through the VIP.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { ControlClient } from '../../../src/api/client.js'

export const DIR = '/tmp/lvsd-peer'
export const PEER = 'dist/test/vm/agents/ipvs-dr-peer.js'
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export function sh(ns: string, cmd: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8' })
  return { status: r.status, out: (r.stdout ?? '') + (r.stderr ?? '') }
}

export async function waitFor<T>(
  what: () => T | undefined | false | Promise<T | undefined | false>,
  ms: number,
  every = 100,
) {
  const t0 = Date.now()
  while (Date.now() - t0 < ms) {
    const v = await what()
    if (v !== undefined && v !== false) return v
    await sleep(every)
  }
  return null
}

// biome-ignore lint/suspicious/noExplicitAny: log lines and status are JSON
export type Line = Record<string, any>

export class Daemon {
  readonly lines: Line[] = []
  proc!: ChildProcess
  exited!: Promise<number | null>
  readonly api: ControlClient
  constructor(
    readonly name: string,
    readonly config: string,
  ) {
    this.api = new ControlClient(`${DIR}/${name}.sock`)
    this.start()
  }
  start(): void {
    this.proc = spawn(
      'ip',
      ['netns', 'exec', this.name, 'node', 'bin/lvsd.js', 'run', '-c', this.config, '--log-format', 'json'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    for (const stream of [this.proc.stdout, this.proc.stderr])
      if (stream)
        createInterface({ input: stream }).on('line', (l) => {
          try {
            this.lines.push(JSON.parse(l) as Line)
          } catch {
            this.lines.push({ msg: l, raw: true })
          }
        })
    this.exited = new Promise((r) => this.proc.once('exit', (code) => r(code)))
  }
  find(pred: (l: Line) => boolean, from = 0): Line | undefined {
    return this.lines.slice(from).find(pred)
  }
  lvsctl(args: string[]): { status: number | null; out: string } {
    return sh(this.name, 'node', ['bin/lvsctl.js', '-s', `${DIR}/${this.name}.sock`, ...args])
  }
  /** Every failed status call, with when: callers poll, but a failure is a fact to report. */
  readonly statusErrors: string[] = []
  async status(): Promise<Line | undefined> {
    try {
      return (await this.api.status()) as unknown as Line
    } catch (e) {
      const err = e as Error & { code?: string; details?: unknown; cause?: unknown }
      this.statusErrors.push(
        `${new Date().toISOString()} ${err.code ?? ''} ${err.message} ${JSON.stringify(err.details ?? {})} ${String(err.cause ?? '')}`,
      )
      return undefined
    }
  }
  ipvsadm(): string {
    return sh(this.name, 'ipvsadm', ['-Ln']).out
  }
}

/** The sync-lag alarm's settings in both files: conns_after short enough for the run, the default ratio. */
export const CONNS_AFTER_MS = 2000
export const CONNS_RATIO = 50
/** src/peer/watch.ts MIN_MASTER_CONNS: services with fewer on the master are never compared. */
export const MIN_MASTER_CONNS = 100

/**
 * conf/NAME.yaml plus the control socket and `peer:`. Two test changes: tcp_fin 120 s (the kernel's own
 * default) instead of the seed's 5 s, because a DR director sees only the client's half of a connection
 * and keeps a closed one in FIN_WAIT for tcp_fin: the sync-lag step needs hundreds of short connections
 * counted at once on both nodes. `web02Weight` changes one real server of `web` (the drift step).
 */
export function writeConfig(name: string, self: string, other: string, web02Weight = 1): string {
  const seed = readFileSync(`conf/${name}.yaml`, 'utf8')
  const text = seed
    .replace('tcp_fin: 5s', 'tcp_fin: 120s')
    .replace('{ address: 10.0.0.8, port: 80, weight: 1 }', `{ address: 10.0.0.8, port: 80, weight: ${web02Weight} }`)
  if (!text.includes('tcp_fin: 120s') || !text.includes(`10.0.0.8, port: 80, weight: ${web02Weight} }`))
    throw new Error(`conf/${name}.yaml no longer has the lines this agent edits`)
  const path = `${DIR}/${name}.yaml`
  writeFileSync(
    path,
    `${text}\ncontrol: { socket: ${DIR}/${name}.sock }\npeer:\n  address: ${other}\n  source: ${self}\n  key_file: ${DIR}/peer.key\n  state_file: ${DIR}/${name}-state.json\n  conns_after: ${CONNS_AFTER_MS / 1000}s\n  conns_ratio: ${CONNS_RATIO}\n`,
  )
  return path
}

export const weightOf = (table: string, server: string): number | undefined => {
  const m = new RegExp(`-> ${server.replace(/\./g, '\\.')} +Route +(\\d+) `).exec(table)
  return m ? Number(m[1]) : undefined
}

export function burst(n: number): { counts: Record<string, number>; failures: number } {
  const r = sh('client', 'node', [PEER, 'burst', String(n)]).out
  try {
    return JSON.parse(r) as { counts: Record<string, number>; failures: number }
  } catch {
    return { counts: {}, failures: n }
  }
}

/** The same N GETs without blocking the agent (its status polls run meanwhile). */
export function burstAsync(n: number): Promise<{ counts: Record<string, number>; failures: number }> {
  return new Promise((resolve) => {
    const p = spawn('ip', ['netns', 'exec', 'client', 'node', PEER, 'burst', String(n)], {
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    let text = ''
    p.stdout?.on('data', (d) => (text += d))
    p.once('exit', () => {
      try {
        resolve(JSON.parse(text) as { counts: Record<string, number>; failures: number })
      } catch {
        resolve({ counts: {}, failures: n })
      }
    })
  })
}

/** /metrics of the lvsd in namespace `ns` (it listens on that namespace's loopback). */
export function metrics(ns: string): string {
  return sh(ns, 'node', [
    '-e',
    "fetch('http://127.0.0.1:9478/metrics').then(r=>r.text()).then(t=>process.stdout.write(t))",
  ]).out
}

export const grepLines = (text: string, re: RegExp): string[] => text.split('\n').filter((l) => re.test(l))

// the absolute path: under npx, node_modules/.bin has an unrelated `nft` (node-file-trace)
export const NFT = '/usr/sbin/nft'
