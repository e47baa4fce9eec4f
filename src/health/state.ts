// The pure health reducer of one real server: results, drain and time in; up/down/weight transitions out.
// It owns rise, fall, retry, the initial state (alpha), multi-check AND, dynamic weight and slow start.
import type { Policy, Result, Transition } from './types.js'

export interface CheckState {
  readonly up: boolean
  /**
   * Consecutive passes in the current streak, counted up to `rise` (more change nothing, and a
   * count that stops lets another pass of a healthy check leave the state untouched).
   */
  readonly passes: number
  /** Consecutive counted failures in the current streak. */
  readonly fails: number
  /** Extra attempts already spent on the current failure. */
  readonly retried: number
  /** The last dynamic weight a passing result reported. */
  readonly weight: number | undefined
}

export interface ServerState {
  readonly id: string
  readonly policy: Policy
  readonly checks: Readonly<Record<string, CheckState>>
  readonly up: boolean
  readonly drained: boolean
  /** Start of the slow-start ramp (the last down → up), if ramping applies. */
  readonly upSince: number | undefined
  /** The weight last announced (0 while down). */
  readonly weight: number
}

export type HealthEvent =
  | { kind: 'result'; check: string; result: Result }
  | { kind: 'drain' }
  | { kind: 'undrain' }
  /** Time passed: recompute the slow-start weight. */
  | { kind: 'tick' }

export interface HealthStep {
  state: ServerState
  transitions: readonly Transition[]
  /** Run this check again at `at` (a retry that does not count yet). */
  retry?: { check: string; at: number }
  /** Send a tick at this time: the slow-start weight changes then. */
  wakeAt?: number
}

/** The transitions of a step that announces nothing (shared: never mutated). */
const NONE: Transition[] = []

/** Weight steps of a slow-start ramp, at most; fewer when the weight is small. */
const RAMP_STEPS = 10

function freshCheck(up: boolean): CheckState {
  return { up, passes: 0, fails: 0, retried: 0, weight: undefined }
}

function baseWeight(s: Pick<ServerState, 'checks' | 'policy'>): number {
  let w: number | undefined
  for (const c of Object.values(s.checks))
    if (c.weight !== undefined) w = w === undefined ? c.weight : Math.min(w, c.weight)
  return w ?? s.policy.weight
}

/** The slow-start weight at `now`: never 0 while ramping a non-zero weight, so a recovering server gets some traffic. */
export function rampWeight(base: number, upSince: number | undefined, slowStartMs: number, now: number): number {
  if (base <= 0 || upSince === undefined || slowStartMs <= 0) return Math.max(0, base)
  const e = now - upSince
  if (e >= slowStartMs) return base
  const steps = Math.min(base, RAMP_STEPS)
  const k = Math.floor((Math.max(0, e) * steps) / slowStartMs)
  return Math.max(1, Math.floor((base * k) / steps))
}

function nextRampAt(base: number, upSince: number | undefined, slowStartMs: number, now: number): number | undefined {
  if (base <= 0 || upSince === undefined || slowStartMs <= 0) return undefined
  const e = now - upSince
  if (e >= slowStartMs) return undefined
  const steps = Math.min(base, RAMP_STEPS)
  const k = Math.floor((Math.max(0, e) * steps) / slowStartMs)
  return upSince + Math.ceil(((k + 1) * slowStartMs) / steps)
}

/** The weight the server should have at `now` (0 when down or drained). */
export function weightAt(s: ServerState, now: number): number {
  if (!s.up || s.drained) return 0
  return rampWeight(baseWeight(s), s.upSince, s.policy.slowStartMs, now)
}

function wakeOf(s: ServerState, now: number): number | undefined {
  if (!s.up || s.drained) return undefined
  return nextRampAt(baseWeight(s), s.upSince, s.policy.slowStartMs, now)
}

/** Recomputes up and weight after a change and says what the outside world must hear. */
function settle(
  prev: ServerState,
  next: Omit<ServerState, 'up' | 'weight'>,
  now: number,
  why: string,
  latency?: number,
): HealthStep {
  const up = Object.values(next.checks).every((c) => c.up)
  const upSince = up && !prev.up ? now : up ? next.upSince : undefined
  const draft: ServerState = { ...next, up, upSince, weight: 0 }
  const weight = weightAt(draft, now)
  const state: ServerState = { ...draft, weight }
  const transitions: Transition[] = []
  const t = (kind: Transition['kind'], reason: string): Transition =>
    latency === undefined
      ? { server: state.id, kind, weight, reason }
      : { server: state.id, kind, weight, reason, latency }
  if (up !== prev.up) transitions.push(t(up ? 'up' : 'down', why))
  else if (weight !== prev.weight) transitions.push(t('weight', why))
  const wakeAt = wakeOf(state, now)
  return wakeAt === undefined ? { state, transitions } : { state, transitions, wakeAt }
}

/** A server before any result; announces its initial state (the consumer has none yet). */
export function init(id: string, policy: Policy, checkIds: readonly string[], _now: number): HealthStep {
  const checks: Record<string, CheckState> = {}
  for (const c of checkIds) checks[c] = freshCheck(policy.initial === 'up')
  const up = Object.values(checks).every((c) => c.up)
  const state: ServerState = { id, policy, checks, up, drained: false, upSince: undefined, weight: 0 }
  const weight = up ? baseWeight(state) : 0
  return {
    state: { ...state, weight },
    transitions: [{ server: id, kind: up ? 'up' : 'down', weight, reason: `initial state ${up ? 'up' : 'down'}` }],
  }
}

/** A reload: checks kept by id keep their state, new ones start at the initial state, removed ones go. */
export function reconfigure(s: ServerState, policy: Policy, checkIds: readonly string[], now: number): HealthStep {
  const checks: Record<string, CheckState> = {}
  for (const c of checkIds) checks[c] = s.checks[c] ?? freshCheck(policy.initial === 'up')
  return settle(s, { ...s, policy, checks }, now, 'reconfigured')
}

function onResult(s: ServerState, check: string, r: Result, now: number): HealthStep {
  const c = s.checks[check]
  if (!c) return { state: s, transitions: [] }
  // The common case by far: another pass of a healthy check of an up server, with no slow start
  // under way. settle() (and its reason text) is skipped; once the pass count has reached `rise`
  // nothing changes at all and the same state object comes back, so the scheduler keeps no new
  // objects per check (each would live one interval and be promoted). The result is the same as the
  // general path's (a differential unit test keeps them equal).
  if (
    r.ok &&
    c.up &&
    s.up &&
    c.fails === 0 &&
    c.retried === 0 &&
    r.weight === c.weight &&
    (s.policy.slowStartMs <= 0 || s.upSince === undefined)
  ) {
    if (c.passes === s.policy.rise) return { state: s, transitions: NONE }
    const passes = Math.min(c.passes + 1, s.policy.rise)
    const next: CheckState = { up: true, passes, fails: 0, retried: 0, weight: r.weight }
    return { state: { ...s, checks: { ...s.checks, [check]: next } }, transitions: NONE }
  }
  return onResultGeneral(s, check, r, now)
}

/** @internal onResult without its fast path; exported for the differential test only. */
export function onResultGeneral(s: ServerState, check: string, r: Result, now: number): HealthStep {
  const c = s.checks[check]
  if (!c) return { state: s, transitions: [] }
  const p = s.policy
  let next: CheckState
  let why: string
  if (r.ok) {
    const passes = Math.min(c.passes + 1, p.rise)
    const up = c.up || passes >= p.rise
    // a pass without a weight means "the configured weight" again (misc_dynamic exit 0)
    next = { up, passes, fails: 0, retried: 0, weight: r.weight }
    why = c.up
      ? `${check}: dynamic weight ${r.weight ?? p.weight}`
      : `${check} passed ${passes} time(s) (rise ${p.rise})`
  } else {
    // a retry only matters when a failure would change something: a check that is up or rising
    if (c.retried < p.retry && (c.up || c.passes > 0)) {
      const state = { ...s, checks: { ...s.checks, [check]: { ...c, retried: c.retried + 1 } } }
      return { state, transitions: [], retry: { check, at: now + p.retryDelayMs } }
    }
    const fails = c.fails + 1
    const up = c.up && fails < p.fall
    next = { up, passes: 0, fails, retried: 0, weight: c.weight }
    why = `${check} failed ${fails} time(s) (fall ${p.fall}): ${r.detail}`
  }
  return settle(s, { ...s, checks: { ...s.checks, [check]: next } }, now, why, r.ms)
}

export function step(s: ServerState, e: HealthEvent, now: number): HealthStep {
  switch (e.kind) {
    case 'result':
      return onResult(s, e.check, e.result, now)
    case 'drain':
      return settle(s, { ...s, drained: true }, now, 'drained by operator')
    case 'undrain':
      return settle(s, { ...s, drained: false }, now, 'undrained by operator')
    case 'tick':
      return settle(s, s, now, 'slow start')
  }
}
