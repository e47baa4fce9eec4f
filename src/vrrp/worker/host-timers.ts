// The state machine's armed deadlines (fsm.ts: absolute monotonic ms) mirrored as host timers.
// Master_Down's may fire a lead before its deadline, so a takeover is readied before it is due
// (instance.ts); a timer woken earlier than its lead (libuv rounds to whole ms) goes back to sleep.
// Master_Down may instead be watched in C++ over the master's repeats (advert-routing.ts), which
// move it without JavaScript: when it passes in silence, what was read is caught up first.
import type { Timers } from '../../clock.js'
import type * as fsm from '../fsm.js'
import type { SilenceWatch } from './advert-routing.js'

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
  /** Hands Master_Down to the silence timer (AsideHandle.watch); false: a host timer keeps it. */
  watch?(w: SilenceWatch): boolean
  unwatch?(): void
  /** Hands over what the silence timer read (the deadline it moved) before a watched timer fires. */
  catchUp?(): void
}

interface Armed {
  at: number
  lead: number
  /** The host timer's handle; undefined when the silence timer holds it. */
  handle: unknown
  watched: boolean
}

export class HostTimers {
  private readonly armed = new Map<fsm.Timer, Armed>()

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
    if (t === 'masterDown' && this.d.watch) {
      const entry: Armed = { at, lead, handle: undefined, watched: true }
      this.armed.set(t, entry)
      const watched = this.d.watch({
        atMs: at,
        leadMs: lead,
        onDue: () => this.watchedDue(t, entry),
        onRevoke: () => this.revoked(t, entry),
      })
      if (watched) return
      this.armed.delete(t)
    }
    const handle = this.d.timers.set(() => this.fire(t, at), Math.max(0, at - lead - this.d.now()))
    this.armed.set(t, { at, lead, handle, watched: false })
  }

  clear(t: fsm.Timer): void {
    const h = this.armed.get(t)
    if (h) this.release(h)
    this.armed.delete(t)
  }

  private release(h: Armed): void {
    if (h.watched) this.d.unwatch?.()
    else this.d.timers.clear(h.handle)
  }

  /**
   * The silence timer's deadline passed with no new repeat: the repeats it read earlier are
   * handed over first (each moved the deadline; the state machine learns where it is now), then
   * the timer fires at the deadline that stands.
   */
  private watchedDue(t: fsm.Timer, entry: Armed): void {
    if (this.armed.get(t) !== entry) return
    this.d.catchUp?.()
    const h = this.armed.get(t)
    if (h) this.fire(t, h.at)
  }

  /** The silence timer let go of the deadline: a host timer takes it as it stands. */
  private revoked(t: fsm.Timer, entry: Armed): void {
    if (this.armed.get(t) !== entry) return
    this.armed.delete(t)
    this.set(t, entry.at, entry.lead)
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
    // a watched timer is due before the silence timer's own expiry when a catch-up moved it there
    if (h.watched) this.d.unwatch?.()
    const now = this.d.now()
    if (now < at - h.lead - EARLY_SLACK_MS) {
      this.set(t, at, h.lead)
      return
    }
    this.d.due(t, at, now)
  }
}
