// The health scheduler on virtual time: spread, concurrency bound, hangs, no double starts, retries, reload.
import test from 'ava'
import type { RunCheck } from '../../src/health/check-runs.js'
import { nextSlot, phaseOf, Scheduler } from '../../src/health/scheduler.js'
import type { CheckSpec, Policy, Result, ServerSpec, Transition } from '../../src/health/types.js'
import { parseAddr } from '../../src/net/addr.js'
import { VirtualClock } from '../helpers/virtual-clock.js'

const policy = (p: Partial<Policy> = {}): Policy => ({
  rise: 1,
  fall: 1,
  retry: 0,
  retryDelayMs: 100,
  initial: 'up',
  weight: 10,
  slowStartMs: 0,
  ...p,
})
const tcp = (p: Partial<CheckSpec> = {}): CheckSpec =>
  ({ id: 'tcp', kind: 'tcp', opts: {}, intervalMs: 1000, timeoutMs: 300, ...p }) as CheckSpec
const server = (id: string, p: Partial<ServerSpec> = {}): ServerSpec => ({
  id,
  target: { addr: parseAddr('192.0.2.1'), port: 80 },
  checks: [tcp()],
  policy: policy(),
  ...p,
})
const ok: Result = { ok: true, ms: 1, detail: 'ok' }

interface Harness {
  clock: VirtualClock
  sched: Scheduler
  starts: Array<{ server: string; check: string; at: number }>
  out: Array<Transition & { at: number }>
  inFlight: () => number
  maxInFlight: () => number
}

/** A scheduler whose checks behave as `behave` says: a duration in ms and a result, or 'hang'. */
function harness(
  behave: (server: string, n: number) => { ms: number; result: Result } | 'hang' | 'hang-ignoring-abort',
  opts: { maxConcurrent?: number; warmupMs?: number } = {},
): Harness {
  const clock = new VirtualClock(10_000)
  const starts: Harness['starts'] = []
  const out: Harness['out'] = []
  const counts = new Map<string, number>()
  let inFlight = 0
  let maxInFlight = 0
  const run: RunCheck = (spec, target, signal) => {
    const id = (target as { id?: string }).id ?? '?'
    const n = (counts.get(id) ?? 0) + 1
    counts.set(id, n)
    starts.push({ server: id, check: spec.id, at: clock.now() })
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    const b = behave(id, n)
    return new Promise<Result>((resolve, reject) => {
      const end = () => {
        inFlight--
      }
      if (b === 'hang-ignoring-abort') return
      if (b === 'hang') {
        signal.addEventListener('abort', () => {
          end()
          reject(new Error('aborted'))
        })
        return
      }
      const h = clock.set(() => {
        end()
        resolve(b.result)
      }, b.ms)
      signal.addEventListener('abort', () => {
        clock.clear(h)
        end()
        reject(new Error('aborted'))
      })
    })
  }
  const sched = new Scheduler({
    runner: { run },
    clock,
    onTransition: (t) => out.push({ ...t, at: clock.now() }),
    random: () => 0.5,
    ...opts,
  })
  return { clock, sched, starts, out, inFlight: () => inFlight, maxInFlight: () => maxInFlight }
}

// the fake runner learns the server from an extra field on the target
const srv = (id: string, p: Partial<ServerSpec> = {}): ServerSpec => {
  const s = server(id, p)
  return { ...s, target: { ...s.target, id } as ServerSpec['target'] }
}

test('slots are aligned to a stable per-check phase', (t) => {
  t.is(nextSlot(10_000, 250, 1000), 10_250)
  t.is(nextSlot(10_250, 250, 1000), 10_250)
  t.is(nextSlot(10_251, 250, 1000), 11_250)
  t.is(phaseOf('a\u0000tcp', 1000), phaseOf('a\u0000tcp', 1000))
  t.not(phaseOf('a\u0000tcp', 1000), phaseOf('b\u0000tcp', 1000))
})

test('checks of many servers are spread over the interval, each once per interval', async (t) => {
  const h = harness(() => ({ ms: 5, result: ok }))
  h.sched.set(Array.from({ length: 200 }, (_, i) => srv(`rs${i}`)))
  await h.clock.run(5000)
  const perServer = new Map<string, number>()
  for (const s of h.starts) perServer.set(s.server, (perServer.get(s.server) ?? 0) + 1)
  t.is(perServer.size, 200)
  t.true(
    [...perServer.values()].every((n) => n === 5),
    'every check ran exactly once per second',
  )
  const buckets = new Array<number>(10).fill(0)
  for (const s of h.starts.filter((x) => x.at < 11_000)) buckets[Math.floor((s.at - 10_000) / 100)]! += 1
  t.true(
    buckets.every((b) => b >= 8 && b <= 35),
    `no 100 ms tenth holds a burst: ${buckets.join(',')}`,
  )
  t.is(h.sched.stats().late, 0)
  t.is(h.sched.stats().missed, 0)
})

test('warmup delays each first run by a random share of warmupMs', async (t) => {
  const h = harness(() => ({ ms: 5, result: ok }), { warmupMs: 4000 })
  h.sched.set([srv('a')])
  await h.clock.run(1999)
  t.is(h.starts.length, 0, 'random 0.5 × 4000 ms: nothing before 12 s')
  await h.clock.run(1001)
  t.is(h.starts.length, 1)
})

test('no more than maxConcurrent checks are in flight; the rest wait and count as late', async (t) => {
  const h = harness(() => ({ ms: 400, result: ok }), { maxConcurrent: 3 })
  // a 1 ms interval puts every phase at 0: all six are due at once
  h.sched.set(Array.from({ length: 6 }, (_, i) => srv(`rs${i}`, { checks: [tcp({ intervalMs: 1, timeoutMs: 1000 })] })))
  await h.clock.run(400)
  t.is(h.maxInFlight(), 3)
  t.deepEqual(
    h.starts.map((s) => s.at - 10_000),
    [0, 0, 0, 400, 400, 400],
  )
  t.is(h.sched.stats().late, 3)
  t.is(h.sched.stats().running, 3)
})

test('a check that hangs is timed out and does not hold back the others', async (t) => {
  const h = harness((s) => (s === 'stuck' ? 'hang' : { ms: 5, result: ok }), { maxConcurrent: 1 })
  h.sched.set([srv('stuck'), srv('a'), srv('b')])
  await h.clock.run(3000)
  const count = (id: string) => h.starts.filter((s) => s.server === id).length
  t.is(count('a'), 3)
  t.is(count('b'), 3)
  t.is(count('stuck'), 3, 'it aborts at its timeout and runs again at its next slot')
  t.is(h.sched.stats().timeouts, 3)
  t.deepEqual(
    h.out.filter((o) => o.server === 'stuck').map((o) => o.kind),
    ['up', 'down'],
  )
  t.regex(h.out.find((o) => o.kind === 'down')?.reason ?? '', /no answer within 300 ms/)
})

test('a checker that ignores the abort gives its slot back but is never started twice', async (t) => {
  const h = harness((s) => (s === 'stuck' ? 'hang-ignoring-abort' : { ms: 5, result: ok }), { maxConcurrent: 1 })
  h.sched.set([srv('stuck'), srv('a')])
  await h.clock.run(4000)
  t.is(h.starts.filter((s) => s.server === 'stuck').length, 1)
  t.is(h.starts.filter((s) => s.server === 'a').length, 4)
  t.is(h.sched.stats().missed, 3)
  t.is(h.sched.stats().running, 0, 'the slot came back at the timeout')
})

test('a run slower than the interval is not started again while in flight', async (t) => {
  const h = harness(() => ({ ms: 2500, result: ok }))
  h.sched.set([srv('slow', { checks: [tcp({ timeoutMs: 5000 })] })])
  await h.clock.run(6000)
  const at = h.starts.map((s) => s.at)
  t.is(at.length, 2)
  t.true((at[1] ?? 0) - (at[0] ?? 0) >= 2500)
  t.true(h.sched.stats().missed >= 2)
})

test('the reducer sees results in order: fall 3 goes down on the third failure', async (t) => {
  const bad: Result = { ok: false, ms: 2, detail: 'refused', code: 'refused' }
  const h = harness((_s, n) => ({ ms: 2, result: n >= 2 ? bad : ok }))
  h.sched.set([srv('a', { policy: policy({ fall: 3 }) })])
  await h.clock.run(10_000)
  const starts = h.starts.map((s) => s.at)
  const down = h.out.filter((o) => o.kind === 'down')
  t.is(down.length, 1)
  t.is(down[0]?.at, (starts[3] ?? 0) + 2, 'the fourth run is the third failure')
  t.is(down[0]?.latency, 2)
})

test('a failure is retried after retryDelay before it counts', async (t) => {
  const bad: Result = { ok: false, ms: 1, detail: 'refused', code: 'refused' }
  const h = harness((_s, n) => ({ ms: 1, result: n === 2 ? bad : ok }))
  h.sched.set([srv('a', { policy: policy({ retry: 1, retryDelayMs: 200 }) })])
  await h.clock.run(3000)
  const at = h.starts.map((s) => s.at)
  t.is((at[2] ?? 0) - (at[1] ?? 0), 201, 'the retry starts 200 ms after the failed run ended')
  t.is((at[3] ?? 0) - (at[1] ?? 0), 1000, 'the regular cadence continues')
  t.deepEqual(
    h.out.map((o) => o.kind),
    ['up'],
  )
})

test('slow start weight steps are delivered by the clock', async (t) => {
  const bad: Result = { ok: false, ms: 1, detail: 'x', code: 'refused' }
  const h = harness((_s, n) => ({ ms: 1, result: n === 1 ? bad : ok }))
  h.sched.set([srv('a', { policy: policy({ slowStartMs: 4000, weight: 4 }) })])
  await h.clock.run(9000)
  t.deepEqual(
    h.out.map((o) => [o.kind, o.weight]),
    [
      ['up', 4],
      ['down', 0],
      ['up', 1],
      ['weight', 2],
      ['weight', 3],
      ['weight', 4],
    ],
  )
  const up = h.out[2]?.at ?? 0
  t.deepEqual(
    h.out.slice(3).map((o) => o.at - up),
    [2000, 3000, 4000],
  )
})

test('reload: unchanged servers keep state and timing, removed ones stop, changed ones keep check state', async (t) => {
  const bad: Result = { ok: false, ms: 1, detail: 'x', code: 'refused' }
  const h = harness((s) => ({ ms: 1, result: s === 'b' ? bad : ok }))
  h.sched.set([srv('a'), srv('b'), srv('c')])
  await h.clock.run(2000)
  const before = h.starts.filter((s) => s.server === 'a').map((s) => s.at % 1000)
  const outBefore = h.out.length
  h.sched.set([srv('a'), srv('b', { policy: policy({ weight: 50 }) }), srv('d')])
  await h.clock.run(3000)
  t.deepEqual(
    h.starts.filter((s) => s.server === 'a').map((s) => s.at % 1000),
    Array(5).fill(before[0]),
    'a keeps its phase',
  )
  t.is(h.starts.filter((s) => s.server === 'c' && s.at > 12_000).length, 0, 'c stopped')
  t.false(h.sched.state('b')?.up, 'b stays down through the reload')
  t.deepEqual(
    h.out.slice(outBefore).map((o) => [o.server, o.kind]),
    [['d', 'up']],
    'only the new server announced itself',
  )
  t.is(h.sched.state('c'), undefined)
})

test('removing a server aborts its check in flight', async (t) => {
  const h = harness(() => ({ ms: 800, result: ok }))
  h.sched.set([srv('a')])
  while (h.starts.length === 0) await h.clock.run(100)
  t.is(h.inFlight(), 1)
  h.sched.remove('a')
  await h.clock.run(1)
  t.is(h.inFlight(), 0)
  h.sched.stop()
  await h.clock.run(5000)
  t.is(h.starts.length, 1)
  t.is(h.clock.armed.length, 0, 'no timer left behind')
})

test('drain and undrain go through the reducer and reach the consumer', async (t) => {
  const h = harness(() => ({ ms: 1, result: ok }))
  h.sched.set([srv('a')])
  h.sched.drain('a')
  await h.clock.run(3000)
  h.sched.undrain('a')
  t.deepEqual(
    h.out.map((o) => [o.kind, o.weight]),
    [
      ['up', 10],
      ['weight', 0],
      ['weight', 10],
    ],
  )
  t.is(h.starts.length, 3, 'checks kept running while drained')
})

test('reload with a changed check interval keeps the health state and runs at the new cadence', async (t) => {
  const bad: Result = { ok: false, ms: 1, detail: 'x', code: 'refused' }
  const h = harness(() => ({ ms: 1, result: bad }))
  h.sched.set([srv('a')])
  await h.clock.run(2000)
  t.false(h.sched.state('a')?.up)
  const n = h.starts.length
  const outBefore = h.out.length
  h.sched.set([srv('a', { checks: [tcp({ intervalMs: 250 })] })])
  await h.clock.run(1000)
  t.is(h.starts.length - n, 4, 'four runs in a second at 250 ms')
  t.false(h.sched.state('a')?.up)
  t.is(h.out.length, outBefore, 'no transition: it was down and stays down')
})

test('a consumer that throws does not stop checking or corrupt the counts', async (t) => {
  const clock = new VirtualClock(0)
  const errors: unknown[] = []
  let runs = 0
  const sched = new Scheduler({
    clock,
    runner: {
      run: async () => {
        runs++
        return ok
      },
    },
    onTransition: () => {
      throw new Error('consumer bug')
    },
    onResult: () => {
      throw new Error('metrics bug')
    },
    onError: (e) => errors.push(e),
  })
  sched.set([srv('a')])
  await clock.run(3000)
  t.is(runs, 3)
  t.is(sched.stats().running, 0)
  t.is(sched.stats().completed, 3)
  t.is(errors.length, 1 + 3, 'the initial transition and three results')
  sched.stop()
})
