// The state machine's armed deadlines (fsm.ts: absolute monotonic ms) mirrored as host timers.
// Master_Down's may fire a lead before its deadline, so a takeover is readied before it is due
// (instance.ts); a timer woken earlier than its lead (libuv rounds to whole ms) goes back to sleep.
import type { Timers } from '../../clock.js'
import type * as fsm from '../fsm.js'

const TIMERS: readonly fsm.Timer[] = ['adver', 'masterDown', 'preemptDelay']

/** A host timer that fires this little before its deadline counts as on time (libuv ms clock). */
export const EARLY_SLACK_MS = 1

export interface HostTimerDeps {
  timers: Timers
  /** Monotonic ms, the clock of the deadlines. */
  now(): number
  /** How long before its deadline `t` fires by default (ms; 0: at the deadline). */
  leadOf(t: fsm.Timer): number
  /** Runs before a firing timer is looked at (a sync group applies its partners' moves first). */
  settle?(): void
  /** `t` is due: its deadline, and the clock when it fired (up to its lead before the deadline). */
  due(t: fsm.Timer, at: number, now: number): void
}

export class HostTimers {
  private readonly armed = new Map<fsm.Timer, { at: number; lead: number; handle: unknown }>()

  constructor(private readonly d: HostTimerDeps) {}

  /** Arms what the machine has armed and clears the rest; an unchanged deadline keeps its timer. */
  sync(want: fsm.FsmState['timers']): void {
    for (const t of TIMERS) {
      const at = want[t]
      if (at === this.armed.get(t)?.at) continue
      this.clear(t)
      if (at !== undefined) this.set(t, at)
    }
  }

  /** Arms `t` for `at`, firing `lead` ms before it. */
  set(t: fsm.Timer, at: number, lead = this.d.leadOf(t)): void {
    const handle = this.d.timers.set(() => this.fire(t, at), Math.max(0, at - lead - this.d.now()))
    this.armed.set(t, { at, lead, handle })
  }

  clear(t: fsm.Timer): void {
    const h = this.armed.get(t)
    if (h) this.d.timers.clear(h.handle)
    this.armed.delete(t)
  }

  clearAll(): void {
    for (const t of TIMERS) this.clear(t)
  }

  private fire(t: fsm.Timer, at: number): void {
    if (this.armed.get(t)?.at !== at) return
    this.d.settle?.()
    const h = this.armed.get(t)
    if (h?.at !== at) return // a partner's move re-armed or disarmed it
    this.armed.delete(t)
    const now = this.d.now()
    if (now < at - h.lead - EARLY_SLACK_MS) {
      this.set(t, at, h.lead)
      return
    }
    this.d.due(t, at, now)
  }
}
