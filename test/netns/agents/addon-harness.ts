// Test-side helpers for the addon agents: run an agent in a lab namespace and read its JSON lines.
import { fileURLToPath } from 'node:url'
import { onLines } from '../../helpers/lines.js'
import { type Lab, waitFor } from '../../helpers/netns.js'

export const agent = (name: string) => fileURLToPath(new URL(`./${name}.js`, import.meta.url))

export interface AgentEvent {
  event: string
  [k: string]: unknown
}

export interface RunningAgent {
  events: AgentEvent[]
  stderr: () => string
  exited: () => boolean
  /** The first event of that name, waiting up to `ms`. */
  next(event: string, ms?: number): Promise<AgentEvent>
}

/** Starts a long-running agent (killed by lab.dispose()) and parses its stdout lines as events. */
export function startAgent(lab: Lab, ns: string, name: string, args: string[]): RunningAgent {
  const p = lab.spawn(ns, process.execPath, [agent(name), ...args])
  const events: AgentEvent[] = []
  let err = ''
  let exited = false
  onLines(p.stdout, (line) => events.push(JSON.parse(line) as AgentEvent))
  p.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d
  })
  p.on('exit', () => {
    exited = true
  })
  return {
    events,
    stderr: () => err,
    exited: () => exited,
    next: async (event, ms = 10_000) => {
      try {
        return (await waitFor(() => events.find((e) => e.event === event), ms)) as AgentEvent
      } catch (e) {
        throw new Error(`agent ${name} gave no '${event}' (events ${JSON.stringify(events)}, stderr ${err})`, {
          cause: e,
        })
      }
    },
  }
}

/** Runs an agent to completion in a namespace; throws with its output if it fails. */
export function runAgent(lab: Lab, ns: string, name: string, args: string[], timeoutMs = 60_000): AgentEvent[] {
  const r = lab.node(ns, agent(name), args, timeoutMs)
  if (r.status !== 0) {
    throw new Error(`agent ${name} ${args.join(' ')}: status ${r.status} signal ${r.signal}\n${r.stdout}\n${r.stderr}`)
  }
  return r.stdout
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as AgentEvent)
}
