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
  async status(): Promise<Line | undefined> {
    try {
      return (await this.api.status()) as unknown as Line
    } catch {
      return undefined
    }
  }
  ipvsadm(): string {
    return sh(this.name, 'ipvsadm', ['-Ln']).out
  }
}

export function writeConfig(name: string, self: string, other: string): string {
  const text = readFileSync(`conf/${name}.yaml`, 'utf8')
  const path = `${DIR}/${name}.yaml`
  writeFileSync(
    path,
    `${text}\ncontrol: { socket: ${DIR}/${name}.sock }\npeer:\n  address: ${other}\n  source: ${self}\n  key_file: ${DIR}/peer.key\n  state_file: ${DIR}/${name}-state.json\n`,
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
