// Master_Down's takeover, prepared in the lead before its deadline (InstanceDeps.takeoverLeadMs).
// The state machine's steps are pure, so they are computed for the deadline as soon as the timer
// fires, with everything they send built ahead: the advert encoded, the VIP additions held, the
// GARP/NA frames made. Then the thread waits on the clock until the deadline itself and only the
// effects remain, so the cold path (run once per takeover) costs nothing after the deadline.
// Nothing else runs on the thread in between, so the state the steps were computed from is the
// state at the deadline; adverts that reached the host during the lead are heard first.
import * as fsm from '../fsm.js'
import { EARLY_SLACK_MS } from './host-timers.js'
import type { VipAddsAhead } from './vip-changes.js'

/** What the lead needs of its instance (instance.ts). */
export interface LeadHost {
  /** The machine's state now. */
  state(): fsm.FsmState
  now(): number
  /** The master's adverts the kernel set aside since the last step; any of them re-arms the timer. */
  catchUp(): void
  /** Sync groups: whether a partner holds this member in BACKUP; undefined outside a group. */
  syncHold(): boolean | undefined
  /** A step is taken at `when` (the floor of later receive times). */
  stepAt(when: number): void
  /** Builds what the steps send ahead: their adverts, the VIP additions (held) and the GARP/NA. */
  prepare(steps: fsm.Step[]): VipAddsAhead | undefined
  /** Reads the adverts that reached the host during the lead. */
  receiveQueued(): void
  /** Sends what prepare() built for the wire in one call (takeover-wire.ts); commit() follows at once. */
  sendAhead(): void
  /**
   * Waits for the deadline `at` in C and sends there what prepare() built, unless an advert is
   * queued for the channel by then: false, with nothing sent, when one is or when the host cannot
   * wait in C (a test's clock); commit() follows a true at once.
   */
  sendAt(at: number): boolean
  /** Applies the steps: their effects, then the timers. */
  commit(steps: fsm.Step[], ahead: VipAddsAhead | undefined): void
  /** Master_Down set again for `at`, with no lead. */
  rearm(at: number): void
}

/** Master_Down fired at `now`, up to the lead before its deadline `at`. */
export function masterDown(h: LeadHost, at: number, now: number): void {
  const fired = h.state()
  h.catchUp()
  if (h.state() !== fired) return
  const when = Math.max(now, at)
  h.stepAt(when)
  const steps: fsm.Step[] = []
  let s = h.state()
  const on = s.role === 'BACKUP' ? h.syncHold() : undefined
  if (on !== undefined && on !== s.syncHold) {
    steps.push(fsm.step(s, { kind: 'syncHold', on }, when))
    s = (steps.at(-1) as fsm.Step).state
  }
  steps.push(fsm.step(s, { kind: 'timer', timer: 'masterDown' }, when))
  if (!steps.some(hasEffects)) {
    // held by its sync group, the step only re-arms the timer: nothing to be early for, so it is
    // taken at the deadline like any other timer, never by spinning through the lead
    if (now < at - EARLY_SLACK_MS) h.rearm(at)
    else h.commit(steps, undefined)
    return
  }
  const ahead = h.prepare(steps)
  try {
    // the lead is a few ms at most: wait on the clock, not for an event-loop turn, which would be
    // late; in C where it can (no JavaScript, so no scavenge, between the deadline and the wire)
    if (!h.sendAt(at)) {
      while (h.now() < at) {
        // a test's clock, or the C wait came back at the deadline with an advert queued
      }
      // an advert that reached the host during the lead is heard before the deadline acts on the
      // master's silence: any step it causes voids the takeover computed for the old state
      const before = h.state()
      h.receiveQueued()
      if (h.state() !== before) {
        ahead?.held.withdraw()
        return
      }
      h.sendAhead()
    }
    h.commit(steps, ahead)
  } finally {
    // held requests must never stay held: every later rtnetlink request would wait behind them
    ahead?.held.release()
  }
}

/** What a step does beyond its own timers: an advert, VIPs, a transition the world must see. */
function hasEffects(r: fsm.Step): boolean {
  return r.actions.some((a) => a.kind !== 'arm' && a.kind !== 'disarm')
}
