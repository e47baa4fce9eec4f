// Notify programs run on state changes (keepalived's notify_master/backup/fault/stop and notify):
// per-state programs run as configured; `any` gets keepalived's arguments appended: type
// ("INSTANCE" or "GROUP"), name, state (MASTER, BACKUP, FAULT, STOP) and priority (0 for groups).
import { describeResult, type ProgramResult, runProgram } from '../../sys/program.js'
import type { Role } from '../fsm.js'
import type { LogLevel } from '../messages.js'
import { type GroupState, groupState } from '../sync.js'

export interface NotifySpec {
  master?: string[]
  backup?: string[]
  fault?: string[]
  stop?: string[]
  any?: string[]
}

/** A sync group's notify programs; the group's state is derived from its members' (sync.ts). */
export interface GroupNotifySpec {
  name: string
  members: string[]
  spec: NotifySpec
}

/**
 * Notify programs by instance name, plus the sync groups' (a Map, so code that knows only the
 * instances' programs keeps working).
 */
export class NotifySpecs extends Map<string, NotifySpec> {
  groups: GroupNotifySpec[] = []
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

/**
 * Runs notify programs one after another per instance (and per group), so they see transitions in
 * order. A group's programs run when its state changes (keepalived: "GROUP", name, state, and
 * priority 0; groups have no STOP), after the member's own programs that caused the change.
 */
export class Notifier {
  private readonly chains = new Map<string, Promise<void>>()
  private readonly roles = new Map<string, Role>()
  private readonly groupStates = new Map<string, GroupState>()
  private readonly groups: GroupNotifySpec[]
  constructor(
    private readonly specs: Map<string, NotifySpec> & { groups?: GroupNotifySpec[] },
    private readonly log: (level: LogLevel, msg: string, fields: Record<string, unknown>) => void,
    private readonly timeoutMs = 30_000,
    /** A program that did not exit 0 (or could not start): the director turns it into an event and a metric. */
    private readonly onFailed: (owner: string, argv: readonly string[], r: ProgramResult) => void = () => {},
    /** Run the programs as this user (lvsd resolves programs.user; absent: lvsd's own). */
    private readonly ids?: { uid: number; gid: number },
  ) {
    this.groups = specs.groups ?? []
  }

  transition(instance: string, to: Role, priority: number): void {
    this.roles.set(instance, to)
    const spec = this.specs.get(instance)
    if (spec) this.queue(instance, notifyRuns(spec, 'INSTANCE', instance, notifyState(to), priority))
    for (const g of this.groups) {
      if (!g.members.includes(instance)) continue
      const state = groupState(g.members.map((m) => this.roles.get(m) ?? 'INIT'))
      if (state === undefined || state === this.groupStates.get(g.name)) continue
      this.groupStates.set(g.name, state)
      this.queue(`group:${g.name}`, notifyRuns(g.spec, 'GROUP', g.name, state, 0))
    }
  }

  private queue(key: string, runs: NotifyRun[]): void {
    if (runs.length === 0) return
    const prev = this.chains.get(key) ?? Promise.resolve()
    this.chains.set(
      key,
      prev.then(async () => {
        for (const r of runs) await this.run(key, r.argv)
      }),
    )
  }

  /** Resolves when every queued program has finished (the daemon waits for STOP programs). */
  async idle(): Promise<void> {
    await Promise.all(this.chains.values())
  }

  private async run(instance: string, argv: string[]): Promise<void> {
    // completes when the program exits: a child it leaves running no longer holds up the next notify
    const r = await runProgram(argv, {
      timeoutMs: this.timeoutMs,
      ...(this.ids ? { uid: this.ids.uid, gid: this.ids.gid } : {}),
    })
    if (r.kind === 'exit' && r.code === 0) return
    const owner = instance.startsWith('group:') ? instance.slice(6) : instance
    this.log('warn', 'notify program failed', { vrrp: owner, argv, err: describeResult(argv[0] ?? '', r) })
    this.onFailed(owner, argv, r)
  }
}
