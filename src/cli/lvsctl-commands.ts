// lvsctl's commands that talk to a running lvsd (besides status): drain, undrain, weight, release,
// resume, reload and events. Each parses its own arguments, calls the client and prints one line
// (or JSON with --json); the CLI maps the result to an exit status.
import { parseArgs } from 'node:util'
import { ControlClient } from '../api/client.js'
import type { InstanceStatus, ServerStatus } from '../api/types.js'
import { isLvsdError } from '../errors.js'
import type { CommandResult } from './lvsctl-status.js'
import { issueLines, type ReloadIssue, reloadedLine } from './reload-text.js'

export interface CommandOptions {
  socketPath: string
  stdout?: NodeJS.WritableStream
  stderr?: NodeJS.WritableStream
  /** Ends `events` (lvsctl wires SIGINT to it). */
  signal?: AbortSignal
}

export const CONTROL_USAGE = `Usage:
  lvsctl drain SERVICE ADDRESS:PORT      weight 0 until undrain (connections in progress go on)
  lvsctl undrain SERVICE ADDRESS:PORT
  lvsctl weight SERVICE ADDRESS:PORT N   operator weight 0-65535; "none" removes it
  lvsctl release INSTANCE                give up VRRP mastership until resume
  lvsctl resume INSTANCE
  lvsctl reload                          re-read the configuration; nothing changes if it is invalid
  lvsctl events [--after SEQ] [--names a,b.] [--no-follow]
Options: --json (print the reply as JSON). IPv6 servers are written [address]:port.
`

export const CONTROL_COMMANDS = ['drain', 'undrain', 'weight', 'release', 'resume', 'reload', 'events'] as const
export type ControlCommand = (typeof CONTROL_COMMANDS)[number]

const ARITY: Record<ControlCommand, number> = {
  drain: 2,
  undrain: 2,
  weight: 3,
  release: 1,
  resume: 1,
  reload: 0,
  events: 0,
}

function serverLine(service: string, r: ServerStatus): string {
  const w = r.weight
  const op = w.operator === undefined ? '' : `, operator weight ${w.operator}`
  return `${service} ${r.server}: ${r.health}${r.drained ? ', drained' : ''}, weight ${w.effective} (configured ${w.configured}${op})\n`
}

function instanceLine(i: InstanceStatus): string {
  return `${i.name}: ${i.state}${i.released ? ' (released)' : ''}, priority ${i.priority}, effective ${i.effectivePriority}\n`
}

/** Runs `lvsctl <command> args…`. */
export async function controlCommand(
  command: ControlCommand,
  args: string[],
  opts: CommandOptions,
): Promise<CommandResult> {
  const out = opts.stdout ?? process.stdout
  const err = opts.stderr ?? process.stderr
  let values: { json?: boolean; after?: string; names?: string; 'no-follow'?: boolean }
  let pos: string[]
  try {
    ;({ values, positionals: pos } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        json: { type: 'boolean' },
        after: { type: 'string' },
        names: { type: 'string' },
        'no-follow': { type: 'boolean' },
      },
    }))
    if (command !== 'events' && (values.after ?? values.names ?? values['no-follow']) !== undefined) {
      throw new Error('--after, --names and --no-follow belong to events')
    }
    if (pos.length !== ARITY[command]) throw new Error(`${command} takes ${ARITY[command]} argument(s)`)
    if (command === 'weight' && pos[2] !== 'none' && !/^\d{1,5}$/.test(pos[2] ?? '')) {
      throw new Error(`weight must be 0-65535 or "none", not ${JSON.stringify(pos[2])}`)
    }
    if (values.after !== undefined && !/^\d+$/.test(values.after)) throw new Error('--after takes a sequence number')
  } catch (e) {
    err.write(`lvsctl ${command}: ${(e as Error).message}\n${CONTROL_USAGE}`)
    return 'usage'
  }
  const c = new ControlClient(opts.socketPath)
  const json = values.json === true
  const print = (reply: unknown, line: string) => out.write(json ? `${JSON.stringify(reply)}\n` : line)
  const [a = '', b = '', w = ''] = pos
  try {
    switch (command) {
      case 'drain':
      case 'undrain': {
        const r = command === 'drain' ? await c.drain(a, b) : await c.undrain(a, b)
        print(r, serverLine(a, r))
        break
      }
      case 'weight': {
        const r = await c.setWeight(a, b, w === 'none' ? null : Number(w))
        print(r, serverLine(a, r))
        break
      }
      case 'release':
      case 'resume': {
        const r = command === 'release' ? await c.release(a) : await c.resume(a)
        print(r, instanceLine(r))
        break
      }
      case 'reload': {
        const r = await c.reload()
        print(r, `${reloadedLine(r.config, r.changes)}\n`)
        break
      }
      case 'events': {
        const names = values.names?.split(',').filter((x) => x !== '')
        const stream = c.events({
          ...(values.after === undefined ? {} : { after: Number(values.after) }),
          follow: values['no-follow'] !== true,
          ...(names ? { names } : {}),
          ...(opts.signal ? { signal: opts.signal } : {}),
        })
        // always NDJSON: the stream is for jq and scripts
        for await (const e of stream) out.write(`${JSON.stringify(e)}\n`)
        break
      }
    }
  } catch (e) {
    if (isLvsdError(e)) {
      // a refused reload lists every configuration error, as lvsd check does
      const issues = (e.details.errors ?? []) as ReloadIssue[]
      err.write(`lvsctl ${command}: ${e.code}: ${e.message}\n`)
      const file = (e.details.config as { source?: string } | undefined)?.source
      for (const line of issueLines(issues, file)) err.write(`${line}\n`)
    } else err.write(`lvsctl ${command}: ${(e as Error).message}\n`)
    return 'failure'
  }
  return 'ok'
}
