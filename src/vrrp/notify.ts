// Notify programs run on state changes (keepalived's notify_master/backup/fault/stop and notify):
// per-state programs run as configured; `any` gets keepalived's arguments appended: type
// ("INSTANCE" or "GROUP"), name, state (MASTER, BACKUP, FAULT, STOP) and priority.
import { execFile } from 'node:child_process'
import type { Role } from './fsm.js'
import type { LogLevel } from './messages.js'

export interface NotifySpec {
  master?: string[]
  backup?: string[]
  fault?: string[]
  stop?: string[]
  any?: string[]
}

export type NotifyState = 'MASTER' | 'BACKUP' | 'FAULT' | 'STOP'

/** keepalived's state word for a role (INIT after a shutdown is STOP). */
export function notifyState(role: Role): NotifyState {
  return role === 'INIT' ? 'STOP' : role
}

export interface NotifyRun {
  argv: string[]
}

/** The programs to run for one transition, in order: the state's own, then `any`. */
export function notifyRuns(
  spec: NotifySpec,
  type: 'INSTANCE' | 'GROUP',
  name: string,
  state: NotifyState,
  priority: number,
): NotifyRun[] {
  const own = { MASTER: spec.master, BACKUP: spec.backup, FAULT: spec.fault, STOP: spec.stop }[state]
  const out: NotifyRun[] = []
  if (own) out.push({ argv: own })
  if (spec.any) out.push({ argv: [...spec.any, type, name, state, String(priority)] })
  return out
}

/** Runs notify programs one after another per instance, so they see transitions in order. */
export class Notifier {
  private readonly chains = new Map<string, Promise<void>>()
  constructor(
    private readonly specs: Map<string, NotifySpec>,
    private readonly log: (level: LogLevel, msg: string, fields: Record<string, unknown>) => void,
    private readonly timeoutMs = 30_000,
  ) {}

  transition(instance: string, to: Role, priority: number): void {
    const spec = this.specs.get(instance)
    if (!spec) return
    const runs = notifyRuns(spec, 'INSTANCE', instance, notifyState(to), priority)
    if (runs.length === 0) return
    const prev = this.chains.get(instance) ?? Promise.resolve()
    this.chains.set(
      instance,
      prev.then(async () => {
        for (const r of runs) await this.run(instance, r.argv)
      }),
    )
  }

  /** Resolves when every queued program has finished (the daemon waits for STOP programs). */
  async idle(): Promise<void> {
    await Promise.all(this.chains.values())
  }

  private run(instance: string, argv: string[]): Promise<void> {
    const [file, ...args] = argv as [string, ...string[]]
    return new Promise((resolve) => {
      execFile(file, args, { timeout: this.timeoutMs, killSignal: 'SIGKILL' }, (err) => {
        if (err) this.log('warn', 'notify program failed', { vrrp: instance, argv, err: err.message })
        resolve()
      })
    })
  }
}
