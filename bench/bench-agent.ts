// A bench agent: a process in a lab namespace that prints one JSON object per line on stdout.
import { onLines } from '../test/helpers/lines.js'
import type { Lab } from '../test/helpers/netns.js'

export type AgentEvent = { event: string; [k: string]: unknown }

export interface BenchAgent {
  /** Every line the agent printed so far, parsed. */
  readonly events: AgentEvent[]
  /** SIGTERM, then up to 3 s to exit (a --cpu-prof profile is written at exit). */
  stop(): Promise<void>
}

export function startBenchAgent(lab: Lab, ns: string, cmd: readonly string[]): BenchAgent {
  const p = lab.spawn(ns, cmd[0] as string, cmd.slice(1))
  const events: AgentEvent[] = []
  onLines(p.stdout, (line) => events.push(JSON.parse(line) as AgentEvent))
  p.stderr?.setEncoding('utf8').on('data', (d: string) => process.stderr.write(d))
  const exited = new Promise<void>((r) => p.once('exit', () => r()))
  const stop = async () => {
    p.kill('SIGTERM')
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))])
  }
  return { events, stop }
}
