// The health reducer: rise/fall counts, retry, alpha, multi-check AND, slow start, drain, dynamic weight.
import test from 'ava'
import {
  type HealthEvent,
  type HealthStep,
  init,
  rampWeight,
  reconfigure,
  type ServerState,
  step,
} from '../../src/health/state.js'
import type { Policy, Result, Transition } from '../../src/health/types.js'

const policy = (p: Partial<Policy> = {}): Policy => ({
  rise: 2,
  fall: 3,
  retry: 0,
  retryDelayMs: 1000,
  initial: 'up',
  weight: 100,
  slowStartMs: 0,
  ...p,
})
const pass = (ms = 5, weight?: number): Result =>
  weight === undefined ? { ok: true, ms, detail: 'ok' } : { ok: true, ms, detail: 'ok', weight }
const fail = (ms = 7): Result => ({ ok: false, ms, detail: 'connection refused', code: 'refused' })
const res = (check: string, result: Result): HealthEvent => ({ kind: 'result', check, result })

/** Feeds events at 1-second steps, returning the final state and every transition with its time. */
function run(
  s0: ServerState,
  events: HealthEvent[],
  start = 1000,
): { s: ServerState; out: Array<Transition & { at: number }>; last: HealthStep } {
  let s = s0
  const out: Array<Transition & { at: number }> = []
  let last: HealthStep = { state: s, transitions: [] }
  events.forEach((e, i) => {
    const at = start + i * 1000
    last = step(s, e, at)
    s = last.state
    for (const t of last.transitions) out.push({ ...t, at })
  })
  return { s, out, last }
}

test('an initially-up server goes down on exactly the fall-th consecutive failure', (t) => {
  const { state } = init('rs1', policy({ fall: 3 }), ['tcp'], 0)
  const { out } = run(state, [res('tcp', fail()), res('tcp', fail()), res('tcp', fail()), res('tcp', fail())])
  t.deepEqual(
    out.map((o) => [o.kind, o.at, o.weight]),
    [['down', 3000, 0]],
  )
  t.is(out[0]?.latency, 7)
  t.regex(out[0]?.reason ?? '', /tcp failed 3/)
})

test('a pass in between restarts the failure count', (t) => {
  const { state } = init('rs1', policy({ fall: 2 }), ['tcp'], 0)
  const { s, out } = run(state, [res('tcp', fail()), res('tcp', pass()), res('tcp', fail())])
  t.deepEqual(out, [])
  t.true(s.up)
})

test('alpha: a server starting down needs exactly rise passes', (t) => {
  const first = init('rs1', policy({ initial: 'down', rise: 3 }), ['tcp'], 0)
  t.deepEqual(first.transitions, [{ server: 'rs1', kind: 'down', weight: 0, reason: 'initial state down' }])
  const { out } = run(first.state, [
    res('tcp', pass()),
    res('tcp', pass()),
    res('tcp', fail()),
    res('tcp', pass()),
    res('tcp', pass()),
    res('tcp', pass()),
  ])
  t.deepEqual(
    out.map((o) => [o.kind, o.at, o.weight]),
    [['up', 6000, 100]],
  )
})

test('without alpha the server is announced up with its weight at once', (t) => {
  t.deepEqual(init('rs1', policy(), ['tcp'], 0).transitions, [
    { server: 'rs1', kind: 'up', weight: 100, reason: 'initial state up' },
  ])
})

test('a failure is retried `retry` times after retryDelay before it counts once', (t) => {
  const { state } = init('rs1', policy({ fall: 1, retry: 2, retryDelayMs: 500 }), ['tcp'], 0)
  const a = step(state, res('tcp', fail()), 1000)
  t.deepEqual(a.transitions, [])
  t.deepEqual(a.retry, { check: 'tcp', at: 1500 })
  const b = step(a.state, res('tcp', fail()), 1500)
  t.deepEqual(b.retry, { check: 'tcp', at: 2000 })
  const c = step(b.state, res('tcp', fail()), 2000)
  t.is(c.retry, undefined)
  t.deepEqual(
    c.transitions.map((x) => x.kind),
    ['down'],
  )
})

test('a successful retry clears the failure, and the next failure gets fresh retries', (t) => {
  const { state } = init('rs1', policy({ fall: 1, retry: 1 }), ['tcp'], 0)
  const { s, out, last } = run(state, [res('tcp', fail()), res('tcp', pass()), res('tcp', fail())])
  t.deepEqual(out, [])
  t.true(s.up)
  t.deepEqual(last.retry, { check: 'tcp', at: 3000 + 1000 })
})

test('a check that is already down is not retried (nothing to decide)', (t) => {
  const { state } = init('rs1', policy({ initial: 'down', retry: 3 }), ['tcp'], 0)
  const r = step(state, res('tcp', fail()), 1000)
  t.is(r.retry, undefined)
})

test('with several checks the server is up only while all of them pass', (t) => {
  const { state } = init('rs1', policy({ fall: 1, rise: 1 }), ['http', 'tcp'], 0)
  const { out } = run(state, [
    res('http', fail()),
    res('tcp', pass()),
    res('http', pass()),
    res('tcp', fail()),
    res('tcp', pass()),
  ])
  t.deepEqual(
    out.map((o) => [o.kind, o.at]),
    [
      ['down', 1000],
      ['up', 3000],
      ['down', 4000],
      ['up', 5000],
    ],
  )
})

test('an up server whose other check is still down stays down until that one rises', (t) => {
  const { state } = init('rs1', policy({ initial: 'down', rise: 2 }), ['a', 'b'], 0)
  const { out } = run(state, [res('a', pass()), res('a', pass()), res('b', pass()), res('b', pass())])
  t.deepEqual(
    out.map((o) => [o.kind, o.at]),
    [['up', 4000]],
  )
})

test('slow start ramps the weight from the recovery time to the configured weight', (t) => {
  const { state } = init('rs1', policy({ initial: 'down', rise: 1, slowStartMs: 10_000, weight: 100 }), ['tcp'], 0)
  const up = step(state, res('tcp', pass()), 50_000)
  t.deepEqual(
    up.transitions.map((x) => [x.kind, x.weight]),
    [['up', 1]],
  )
  t.is(up.wakeAt, 51_000)
  const seen: number[] = []
  let s = up.state
  let wake = up.wakeAt
  while (wake !== undefined) {
    const r = step(s, { kind: 'tick' }, wake)
    for (const x of r.transitions) {
      t.is(x.kind, 'weight')
      seen.push(x.weight)
    }
    s = r.state
    wake = r.wakeAt
  }
  t.deepEqual(seen, [10, 20, 30, 40, 50, 60, 70, 80, 90, 100])
})

test('the ramp is a function of now: partial steps round down, never 0 while ramping', (t) => {
  t.is(rampWeight(100, 0, 10_000, 0), 1)
  t.is(rampWeight(100, 0, 10_000, 999), 1)
  t.is(rampWeight(100, 0, 10_000, 4_999), 40)
  t.is(rampWeight(100, 0, 10_000, 10_000), 100)
  t.is(rampWeight(3, 0, 9_000, 3_000), 1)
  t.is(rampWeight(3, 0, 9_000, 6_000), 2)
  t.is(rampWeight(0, 0, 9_000, 6_000), 0)
  t.is(rampWeight(50, undefined, 9_000, 6_000), 50)
})

test('drain sets weight 0 while checks keep counting; undrain restores the weight', (t) => {
  const { state } = init('rs1', policy({ fall: 2 }), ['tcp'], 0)
  const d = step(state, { kind: 'drain' }, 1000)
  t.deepEqual(d.transitions, [{ server: 'rs1', kind: 'weight', weight: 0, reason: 'drained by operator' }])
  const { s, out } = run(d.state, [res('tcp', fail()), res('tcp', fail())], 2000)
  t.deepEqual(
    out.map((o) => [o.kind, o.weight]),
    [['down', 0]],
  )
  const back = run(s, [res('tcp', pass()), res('tcp', pass())], 5000)
  t.deepEqual(
    back.out.map((o) => [o.kind, o.weight]),
    [['up', 0]],
    'a drained server comes back up with weight 0',
  )
  const u = step(back.s, { kind: 'undrain' }, 9000)
  t.deepEqual(
    u.transitions.map((x) => [x.kind, x.weight]),
    [['weight', 100]],
  )
})

test('dynamic weights from passing checks replace the configured one; the lowest wins', (t) => {
  const { state } = init('rs1', policy({ weight: 100 }), ['exec', 'file'], 0)
  const { out } = run(state, [
    res('exec', pass(3, 40)),
    res('file', pass(1, 25)),
    res('file', pass(1, 60)),
    res('exec', pass(3)),
  ])
  t.deepEqual(
    out.map((o) => [o.kind, o.weight]),
    [
      ['weight', 40],
      ['weight', 25],
      ['weight', 40],
      ['weight', 60],
    ],
  )
})

test('reconfigure keeps the state of checks that stay and starts new ones at the initial state', (t) => {
  const { state } = init('rs1', policy({ fall: 1 }), ['tcp'], 0)
  const down = step(state, res('tcp', fail()), 1000).state
  const r = reconfigure(down, policy({ fall: 1, weight: 7 }), ['tcp', 'http'], 2000)
  t.deepEqual(r.transitions, [])
  t.false(r.state.up)
  t.deepEqual(Object.keys(r.state.checks), ['tcp', 'http'])
  const r2 = reconfigure(r.state, policy({ fall: 1, weight: 7 }), ['http'], 3000)
  t.deepEqual(
    r2.transitions.map((x) => [x.kind, x.weight]),
    [['up', 7]],
  )
})

test('a result for an unknown check changes nothing', (t) => {
  const { state } = init('rs1', policy(), ['tcp'], 0)
  const r = step(state, res('gone', fail()), 1000)
  t.is(r.state, state)
  t.deepEqual(r.transitions, [])
})
