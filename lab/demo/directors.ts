// The two directors: `lvsd run -c <per-node copy of conf/lbNN.yaml> --log-format json` in their
// namespaces, with each JSON log line watched for VRRP transitions and for what the daemon manages.
import type { ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Transition } from './events.js'
import type { DemoTopology } from './topology.js'

/** One lvsd JSON log line → a transition, or null. pino's `time` is an ISO string here. */
export function parseTransition(line: string, node: string): Transition | null {
  let j: Record<string, unknown>
  try {
    j = JSON.parse(line)
  } catch {
    return null
  }
  if (typeof j.vrrp !== 'string' || typeof j.to !== 'string' || typeof j.from !== 'string') return null
  if (j.event !== undefined && j.event !== 'vrrp.transition') return null
  const logged = typeof j.time === 'number' ? j.time : Date.parse(String(j.time))
  // `at` is the worker's own stamp of the transition (epoch ms) where the daemon logs one; the log
  // line's time is later by the hop to the main thread
  const at = typeof j.at === 'number' && Math.abs(j.at - logged) < 60_000 ? j.at : logged
  const t = Math.round(at * 1000) / 1000
  return { t, node, instance: j.vrrp, from: j.from, to: j.to, why: String(j.why ?? '') }
}

export class Director {
  readonly transitions: Transition[] = []
  private tail = ''
  started = false

  constructor(
    readonly node: string,
    readonly proc: ChildProcess,
  ) {
    const onLine = (line: string) => {
      this.tail = `${this.tail}${line}\n`.slice(-30000)
      // "lvsd ready" once everything runs; older daemons logged "lvsd started"
      if (/lvsd (started|ready)|VRRP worker runs/.test(line)) this.started = true
      const tr = parseTransition(line, node)
      if (tr) {
        this.started = true
        // a daemon may log a transition twice (its own line and the event stream's): count it once
        const last = this.transitions.at(-1)
        const same = last && last.from === tr.from && last.to === tr.to && Math.abs(last.t - tr.t) < 5
        if (!same) this.transitions.push(tr)
      }
    }
    createInterface({ input: proc.stdout! }).on('line', onLine)
    createInterface({ input: proc.stderr! }).on('line', onLine)
  }

  static start(lab: DemoTopology, repoRoot: string, node: string, configPath: string): Director {
    const p = lab.spawn(node, process.execPath, [
      join(repoRoot, 'bin', 'lvsd.js'),
      ...['run', '-c', configPath, '--log-format', 'json'],
    ])
    return new Director(node, p)
  }

  get state(): string | null {
    return this.transitions.at(-1)?.to ?? null
  }

  get exited(): boolean {
    return this.proc.exitCode !== null || this.proc.signalCode !== null
  }

  get log(): string {
    return this.tail
  }

  freeze(): void {
    this.proc.kill('SIGSTOP')
  }

  thaw(): void {
    this.proc.kill('SIGCONT')
  }

  /** SIGTERM (lvsd's clean stop: a priority-0 advert, VIPs removed), resolved when it has exited. */
  stop(): Promise<number | null> {
    if (this.exited) return Promise.resolve(this.proc.exitCode)
    const done = new Promise<number | null>((resolve) => this.proc.once('exit', (code) => resolve(code)))
    this.proc.kill('SIGTERM')
    return done
  }
}
