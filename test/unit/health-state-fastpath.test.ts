// The reducer's fast path (another pass of a healthy check) gives exactly what the general path
// gives: random event sequences over random policies, compared step by step.
import test from 'ava'
import {
  type HealthEvent,
  type HealthStep,
  init,
  onResultGeneral,
  type ServerState,
  step,
} from '../../src/health/state.js'
import type { Policy, Result } from '../../src/health/types.js'
import { prng } from '../helpers/prng.js'

function reference(s: ServerState, e: HealthEvent, now: number): HealthStep {
  return e.kind === 'result' ? onResultGeneral(s, e.check, e.result, now) : step(s, e, now)
}

test('step() equals the general path on 200 random sequences of 300 events', (t) => {
  let healthyPasses = 0
  let compared = 0
  for (let seed = 1; seed <= 200; seed++) {
    const rnd = prng(seed)
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T
    const policy: Policy = {
      rise: 1 + Math.floor(rnd() * 3),
      fall: 1 + Math.floor(rnd() * 3),
      retry: pick([0, 0, 1]),
      retryDelayMs: 300,
      initial: pick(['up', 'down'] as const),
      weight: pick([1, 10, 100]),
      slowStartMs: pick([0, 0, 5000]),
    }
    const checks = pick([['tcp'], ['tcp', 'http']])
    let s = init('rs', policy, checks, 0).state
    let now = 0
    for (let i = 0; i < 300; i++) {
      now += Math.floor(rnd() * 1500)
      const r = rnd()
      const result: Result =
        r < 0.75
          ? { ok: true, ms: 1, detail: 'ok', ...(rnd() < 0.1 ? { weight: pick([0, 5, 50]) } : {}) }
          : { ok: false, ms: 2, detail: 'refused', code: 'refused' }
      const e: HealthEvent =
        r > 0.97
          ? pick([{ kind: 'drain' }, { kind: 'undrain' }, { kind: 'tick' }] as const)
          : { kind: 'result', check: pick(checks), result }
      const c = e.kind === 'result' ? s.checks[e.check] : undefined
      if (e.kind === 'result' && e.result.ok && s.up && c?.up && c.fails === 0 && c.retried === 0) healthyPasses++
      const want = reference(s, e, now)
      const got = step(s, e, now)
      // stringified first (t.deepEqual on 60,000 steps takes seconds); the first difference is shown in full
      if (JSON.stringify(got) !== JSON.stringify(want)) {
        t.deepEqual(got, want, `seed ${seed} event ${i}`)
        return
      }
      compared++
      s = got.state
    }
  }
  t.is(compared, 200 * 300)
  // the sequences did exercise the fast path, many times
  t.true(healthyPasses > 10_000, String(healthyPasses))
})

test('once a healthy check has counted rise passes, another pass returns the same state object', (t) => {
  const policy: Policy = {
    rise: 2,
    fall: 2,
    retry: 0,
    retryDelayMs: 0,
    initial: 'up',
    weight: 1,
    slowStartMs: 0,
  }
  const pass: Result = { ok: true, ms: 1, detail: 'ok' }
  let s = init('rs', policy, ['tcp'], 0).state
  const counts: number[] = []
  for (let i = 1; i <= 4; i++) {
    const r = step(s, { kind: 'result', check: 'tcp', result: pass }, i)
    t.deepEqual(r.transitions, [])
    if (i >= 3) t.is(r.state, s, `pass ${i}: nothing new is allocated`)
    s = r.state
    counts.push(s.checks.tcp?.passes ?? -1)
  }
  t.deepEqual(counts, [1, 2, 2, 2], 'the pass count stops at rise')
  // a failure still resets the streak and counts toward fall
  const f = step(s, { kind: 'result', check: 'tcp', result: { ok: false, ms: 1, detail: 'x', code: 'refused' } }, 9)
  t.like(f.state.checks.tcp, { passes: 0, fails: 1, up: true })
})
