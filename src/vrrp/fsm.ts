// The VRRP state machine as a pure function, following RFC 5798 §6.4 (Initialize, Backup, Master)
// and RFC 3768 §6.4 for v2, plus keepalived's FAULT state. step() reads no clock and touches no
// socket: it returns the next state and the actions to perform, in order. Times are absolute
// monotonic milliseconds (deadlines). Choices beyond the RFC are described in docs/vrrp.md.
import { type Addr, compareAddr } from '../net/addr.js'
import { masterDownMs, skewMs } from './timers.js'

export type Role = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT'
export type Timer = 'adver' | 'masterDown' | 'preemptDelay'
export type Why =
  | 'startup' // Initialize → Backup
  | 'startup_owner' // Initialize → Master, priority 255
  | 'master_down' // Master_Down_Timer fired: the master went silent
  | 'priority_zero' // Master_Down_Timer fired after the master resigned (priority-0 advert)
  | 'preempt' // Master_Down_Timer fired while we were discarding a lower-priority master's adverts
  | 'higher_priority' // a master heard a higher priority (or equal priority, higher address)
  | 'shutdown'
  | 'fault'
  | 'fault_cleared'
  | 'sync' // forced by a sync group partner (keepalived's vrrp_sync_master / vrrp_sync_backup)

export interface FsmConfig {
  version: 2 | 3
  /** Configured priority 1..255; 255 = address owner. */
  priority: number
  /** Our Advertisement_Interval in ms (v2: whole seconds; v3: whole centiseconds). */
  advertMs: number
  /** Our primary address on the interface: the source of our adverts, compared in tie-breaks. */
  primary: Addr
  /** Preempt_Mode (RFC default true); false = keepalived's nopreempt. */
  preempt: boolean
  /** How long a preempting backup keeps treating a lower-priority master as live (docs/vrrp.md). */
  preemptDelayMs: number
  /** Accept_Mode: not used by the machine, carried for the runtime. */
  accept: boolean
  /** A master hearing a lower priority answers with an advert and a new announce (split brain). */
  lowerPrioAdvert: boolean
  /**
   * At most one such answer per this many ms: each answer is an advert plus a GARP/NA burst, so
   * without a bound every spoofed lower-priority advert is amplified on the wire.
   */
  lowerPrioAnswerMs: number
  /** A master stepping down sends one advert with its own priority so the winner re-announces. */
  higherPrioAdvert: boolean
}

export type DownCause = 'silence' | 'priority_zero' | 'preempt'

export interface FsmState {
  readonly config: FsmConfig
  readonly role: Role
  /** Sum of the tracking deltas (weights of failed tracked objects). */
  readonly trackDelta: number
  /** A tracked object that forces FAULT has failed (interface down, weight-0 track). */
  readonly faultFlag: boolean
  /** Master_Adver_Interval in ms: learned from the master's adverts (v3). */
  readonly masterAdverMs: number
  /** Armed timers and their deadlines; step() ignores expiries of timers not armed here. */
  readonly timers: Readonly<Partial<Record<Timer, number>>>
  /** Why Master_Down_Timer would fire now, for the transition's `why`. */
  readonly downCause: DownCause
  /** preempt_delay window: not started, running, or over (lower masters now discarded). */
  readonly preemptWindow: 'none' | 'waiting' | 'elapsed'
  /** A sync group partner does not want MASTER: our Master_Down_Timer expiry only records a wish. */
  readonly syncHold: boolean
  /** Master_Down_Timer fired while held: this member would be master but waits for its group. */
  readonly wantsMaster: boolean
  /**
   * Preemption is held (preempt_on_quorum: a service this instance carries has no quorum here): a
   * lower-priority master counts as live, as with Preempt_Mode false, until the hold is lifted.
   */
  readonly preemptHeld: boolean
  /** When a master last answered a lower-priority advert (the rate limit's clock). */
  readonly lowerAnsweredAt?: number
}

export type Event =
  | { kind: 'startup' }
  | { kind: 'shutdown' }
  | { kind: 'advert'; src: Addr; priority: number; intervalCs: number }
  | { kind: 'timer'; timer: Timer }
  | { kind: 'priority'; delta: number }
  | { kind: 'fault'; on: boolean }
  /** New tunables from a reload (same identity); `addrsChanged`: the advertised VIPs differ. */
  | { kind: 'reconfigure'; config: FsmConfig; addrsChanged: boolean }
  /** A sync group partner became MASTER, or left MASTER for BACKUP: follow it. */
  | { kind: 'sync'; to: 'MASTER' | 'BACKUP' }
  /** Whether a sync group partner does not want MASTER (set before each Master_Down expiry). */
  | { kind: 'syncHold'; on: boolean }
  /** Whether preemption is held (this node could not serve what it would take over). */
  | { kind: 'preemptHold'; on: boolean }

export type Action =
  | { kind: 'send'; priority: number }
  | { kind: 'arm'; timer: Timer; at: number }
  | { kind: 'disarm'; timer: Timer }
  | { kind: 'vips'; op: 'add' | 'del' }
  | { kind: 'announce'; why: 'become_master' | 'lower_priority' }
  | { kind: 'transition'; from: Role; to: Role; why: Why }
  /** A lower-priority advert heard by a master was not answered: the last answer is too recent. */
  | { kind: 'suppressed'; why: 'lower_priority' }

export interface Step {
  state: FsmState
  actions: Action[]
}

export const DEFAULTS = {
  version: 3,
  priority: 100,
  advertMs: 1000,
  preempt: true,
  preemptDelayMs: 0,
  accept: false,
  lowerPrioAdvert: true,
  lowerPrioAnswerMs: 1000,
  higherPrioAdvert: true,
} as const

export function create(config: Partial<FsmConfig> & { primary: Addr }): FsmState {
  const c: FsmConfig = { ...DEFAULTS, ...config }
  return {
    config: c,
    role: 'INIT',
    trackDelta: 0,
    faultFlag: false,
    masterAdverMs: c.advertMs,
    timers: {},
    downCause: 'silence',
    preemptWindow: 'none',
    syncHold: false,
    wantsMaster: false,
    preemptHeld: false,
  }
}

/**
 * Priority after tracking: the owner stays 255; otherwise base + delta clamped to 1..254,
 * except that base + delta ≤ 0 means FAULT (returned as 0).
 */
export function effectivePriority(base: number, delta: number): number {
  if (base === 255) return 255
  const raw = base + delta
  return raw <= 0 ? 0 : Math.min(254, raw)
}

export const priorityOf = (s: FsmState): number => effectivePriority(s.config.priority, s.trackDelta)
export const inFault = (s: FsmState): boolean => s.faultFlag || priorityOf(s) === 0

const WHY_DOWN: Record<DownCause, Why> = { silence: 'master_down', priority_zero: 'priority_zero', preempt: 'preempt' }
const TIMER_ORDER: readonly Timer[] = ['adver', 'masterDown', 'preemptDelay']

/** Collects actions while updating a state; keeps the timer table in step with arm/disarm. */
class Out {
  readonly actions: Action[] = []
  timers: Partial<Record<Timer, number>>
  constructor(public s: FsmState) {
    this.timers = { ...s.timers }
  }
  push(a: Action): this {
    this.actions.push(a)
    return this
  }
  arm(timer: Timer, at: number): this {
    this.timers[timer] = at
    return this.push({ kind: 'arm', timer, at })
  }
  disarm(timer: Timer): this {
    if (this.timers[timer] === undefined) return this
    delete this.timers[timer]
    return this.push({ kind: 'disarm', timer })
  }
  disarmAll(): this {
    for (const t of TIMER_ORDER) this.disarm(t)
    return this
  }
  transition(to: Role, why: Why): this {
    this.push({ kind: 'transition', from: this.s.role, to, why })
    this.s = { ...this.s, role: to }
    return this
  }
  set(patch: Partial<FsmState>): this {
    this.s = { ...this.s, ...patch }
    return this
  }
  done(): Step {
    return { state: { ...this.s, timers: this.timers }, actions: this.actions }
  }
}

const mdi = (s: FsmState, masterAdverMs: number): number => masterDownMs(s.config.version, priorityOf(s), masterAdverMs)

/** RFC 5798 §6.4.1 (else branch) and §6.4.3 step-down share this: arm Master_Down_Timer. */
function enterBackup(o: Out, now: number, why: Why, masterAdverMs: number): Step {
  o.transition('BACKUP', why).set({ masterAdverMs, downCause: 'silence', preemptWindow: 'none', wantsMaster: false })
  return o.arm('masterDown', now + mdi(o.s, masterAdverMs)).done()
}

/** §6.4.1 (owner) and §6.4.2 (Master_Down_Timer fires): advertise, take the VIPs, announce. */
function becomeMaster(o: Out, now: number, why: Why): Step {
  o.transition('MASTER', why).disarmAll()
  o.set({ masterAdverMs: o.s.config.advertMs, downCause: 'silence', preemptWindow: 'none', wantsMaster: false })
  o.push({ kind: 'send', priority: priorityOf(o.s) })
  o.push({ kind: 'vips', op: 'add' }).push({ kind: 'announce', why: 'become_master' })
  return o.arm('adver', now + o.s.config.advertMs).done()
}

/** keepalived's FAULT: a master resigns with priority 0 and gives up its VIPs. */
function enterFault(o: Out): Step {
  const wasMaster = o.s.role === 'MASTER'
  o.transition('FAULT', 'fault').disarmAll().set({ wantsMaster: false })
  if (wasMaster) o.push({ kind: 'send', priority: 0 }).push({ kind: 'vips', op: 'del' })
  return o.done()
}

function leaveFault(o: Out, now: number): Step {
  if (priorityOf(o.s) === 255) return becomeMaster(o, now, 'fault_cleared')
  return enterBackup(o, now, 'fault_cleared', o.s.config.advertMs)
}

/** Whether an advert from `src` at `priority` beats us (RFC 5798 §6.4.3: priority, then address). */
function beats(s: FsmState, src: Addr, priority: number): boolean {
  const mine = priorityOf(s)
  return priority > mine || (priority === mine && compareAddr(src, s.config.primary) > 0)
}

/** The interval a backup learns: v3 takes the master's (RFC 5798 §6.4.2); v2 has only its own. */
const learned = (s: FsmState, intervalCs: number): number =>
  s.config.version === 3 ? intervalCs * 10 : s.config.advertMs

export function step(s: FsmState, e: Event, now: number): Step {
  const o = new Out(s)
  if (e.kind === 'timer') {
    const at = s.timers[e.timer]
    if (at === undefined || at > now) return o.done() // stale or early expiry: not ours to act on
    delete o.timers[e.timer]
  }
  if (e.kind === 'syncHold') return o.set({ syncHold: e.on }).done()
  // takes effect at the next lower-priority advert: a held backup accepts it, a released one discards it
  if (e.kind === 'preemptHold') return o.set({ preemptHeld: e.on }).done()
  if (e.kind === 'sync') return stepSync(o, e.to, now)
  if (e.kind === 'priority' || e.kind === 'fault' || e.kind === 'reconfigure') {
    let readvertise = false
    if (e.kind === 'priority') o.set({ trackDelta: e.delta })
    else if (e.kind === 'fault') o.set({ faultFlag: e.on })
    else readvertise = reconfigure(o, e.config, e.addrsChanged)
    const faulty = inFault(o.s)
    if (s.role === 'INIT') return o.done()
    if (s.role === 'FAULT') return faulty ? o.done() : leaveFault(o, now)
    if (faulty) return enterFault(o)
    if (s.role === 'MASTER' && (readvertise || priorityOf(o.s) !== priorityOf(s))) {
      // what we advertise changed (tracking, a reload): tell the backups now, not at the next tick
      o.push({ kind: 'send', priority: priorityOf(o.s) })
      return o.arm('adver', now + o.s.config.advertMs).done()
    }
    return o.done()
  }
  switch (s.role) {
    case 'INIT':
      return stepInit(o, e, now)
    case 'BACKUP':
      return stepBackup(o, e, now)
    case 'MASTER':
      return stepMaster(o, e, now)
    case 'FAULT':
      if (e.kind === 'shutdown') return o.transition('INIT', 'shutdown').done()
      return o.done()
  }
}

/**
 * A reload's new tunables. The state is kept (a master stays master and simply advertises a lower
 * priority: the backups preempt per RFC if they now win). Returns whether a master must advertise
 * at once (interval or advertised addresses changed; a priority change is seen by the caller).
 */
function reconfigure(o: Out, config: FsmConfig, addrsChanged: boolean): boolean {
  const before = o.s.config
  o.set({ config })
  if (!config.preempt || config.preemptDelayMs !== before.preemptDelayMs) {
    o.disarm('preemptDelay').set({ preemptWindow: 'none' })
  }
  // v2 backups time the master with their own interval; v3 keeps what it learned from the master
  if (o.s.role === 'MASTER' || config.version === 2) o.set({ masterAdverMs: config.advertMs })
  return addrsChanged || config.advertMs !== before.advertMs
}

/**
 * keepalived's sync group rule: a member follows a partner into MASTER (only from BACKUP: FAULT and
 * INIT stay) and out of MASTER into BACKUP. A forced master announces like any new master; a
 * forced backup goes silent without a priority-0 advert (the partner's peer takes over by its own
 * election) and times the master as at start-up.
 */
function stepSync(o: Out, to: 'MASTER' | 'BACKUP', now: number): Step {
  const s = o.s
  if (to === 'MASTER' && s.role === 'BACKUP') return becomeMaster(o, now, 'sync')
  if (to === 'BACKUP' && s.role === 'MASTER') {
    o.transition('BACKUP', 'sync').disarmAll().push({ kind: 'vips', op: 'del' })
    o.set({ masterAdverMs: s.config.advertMs, downCause: 'silence', preemptWindow: 'none', wantsMaster: false })
    return o.arm('masterDown', now + mdi(o.s, s.config.advertMs)).done()
  }
  return o.done()
}

// RFC 5798 §6.4.1
function stepInit(o: Out, e: Event, now: number): Step {
  if (e.kind !== 'startup') return o.done()
  if (inFault(o.s)) return o.transition('FAULT', 'fault').done()
  if (priorityOf(o.s) === 255) return becomeMaster(o, now, 'startup_owner')
  return enterBackup(o, now, 'startup', o.s.config.advertMs)
}

// RFC 5798 §6.4.2
function stepBackup(o: Out, e: Event, now: number): Step {
  const s = o.s
  if (e.kind === 'shutdown') return o.transition('INIT', 'shutdown').disarmAll().done()
  if (e.kind === 'timer') {
    if (e.timer === 'masterDown') {
      // a sync group prefers BACKUP to thrashing: go master only when every partner wants to too
      if (s.syncHold)
        return o
          .set({ wantsMaster: true })
          .arm('masterDown', now + mdi(s, s.masterAdverMs))
          .done()
      return becomeMaster(o, now, WHY_DOWN[s.downCause])
    }
    if (e.timer === 'preemptDelay') return o.set({ preemptWindow: 'elapsed' }).done()
    return o.done()
  }
  if (e.kind !== 'advert') return o.done()
  if (e.priority === 0) {
    // the master resigned: wait only Skew_Time, so the highest-priority backup goes first
    o.set({ downCause: 'priority_zero' })
    return o.arm('masterDown', now + skewMs(s.config.version, priorityOf(s), s.masterAdverMs)).done()
  }
  const lower = e.priority < priorityOf(s)
  if (lower && s.config.preempt && !s.preemptHeld) {
    if (s.config.preemptDelayMs <= 0 || s.preemptWindow === 'elapsed') {
      // RFC: discard; Master_Down_Timer runs out and we preempt
      return o.set({ downCause: 'preempt' }).done()
    }
    if (s.preemptWindow === 'none') {
      o.set({ preemptWindow: 'waiting' }).arm('preemptDelay', now + s.config.preemptDelayMs)
    }
    // within preempt_delay the lower master counts as live: fall through and accept
  } else if (!lower) {
    o.disarm('preemptDelay').set({ preemptWindow: 'none' })
  }
  const masterAdverMs = learned(s, e.intervalCs)
  o.set({ masterAdverMs, downCause: 'silence', wantsMaster: false })
  return o.arm('masterDown', now + mdi(o.s, masterAdverMs)).done()
}

// RFC 5798 §6.4.3
function stepMaster(o: Out, e: Event, now: number): Step {
  const s = o.s
  const prio = priorityOf(s)
  if (e.kind === 'shutdown') {
    o.transition('INIT', 'shutdown').disarmAll()
    return o.push({ kind: 'send', priority: 0 }).push({ kind: 'vips', op: 'del' }).done()
  }
  if (e.kind === 'timer') {
    if (e.timer !== 'adver') return o.done()
    return o
      .push({ kind: 'send', priority: prio })
      .arm('adver', now + s.config.advertMs)
      .done()
  }
  if (e.kind !== 'advert') return o.done()
  if (e.priority === 0) {
    // another router resigned: advertise at once so the backups need not time out (§6.4.3)
    return o
      .push({ kind: 'send', priority: prio })
      .arm('adver', now + s.config.advertMs)
      .done()
  }
  // our own advert looped back (validate drops these; a stale priority must not unseat us)
  if (compareAddr(e.src, s.config.primary) === 0) return o.done()
  if (beats(s, e.src, e.priority)) {
    o.transition('BACKUP', 'higher_priority').disarmAll()
    if (s.config.higherPrioAdvert) o.push({ kind: 'send', priority: prio })
    o.push({ kind: 'vips', op: 'del' })
    const masterAdverMs = learned(s, e.intervalCs)
    o.set({ masterAdverMs, downCause: 'silence', preemptWindow: 'none' })
    return o.arm('masterDown', now + mdi(o.s, masterAdverMs)).done()
  }
  if (!s.config.lowerPrioAdvert) return o.done() // RFC: discard
  const last = s.lowerAnsweredAt
  if (last !== undefined && now - last < s.config.lowerPrioAnswerMs)
    return o.push({ kind: 'suppressed', why: 'lower_priority' }).done()
  // Two masters (split brain healing): assert ourselves at once and re-announce the VIPs, so
  // hosts that followed the other master's GARPs come back (keepalived #1528, #2649).
  o.set({ lowerAnsweredAt: now })
  o.push({ kind: 'send', priority: prio }).arm('adver', now + s.config.advertMs)
  return o.push({ kind: 'announce', why: 'lower_priority' }).done()
}
