// The scheduler's TCP fast path (the path every production TCP check takes) on virtual time, through an
// injected prober: a target prepared once per job, probes that answer, refuse, hang past their timeout
// (cancelled, the slot freed), or fail to start; and other kinds still going through run().
import test from 'ava'
import type { CheckRunner, TcpProber } from '../../src/health/check-runs.js'
import { phaseOf, Scheduler } from '../../src/health/scheduler.js'
import type { Wire } from '../../src/health/tcp.js'
import type { CheckSpec, Policy, Result, ServerSpec, Transition } from '../../src/health/types.js'
import { parseAddr } from '../../src/net/addr.js'
import { VirtualClock } from '../helpers/virtual-clock.js'

const ECONNREFUSED = 111

const policy: Policy = {
  rise: 1,
  fall: 1,
  retry: 0,
  retryDelayMs: 100,
  initial: 'up',
  weight: 10,
  slowStartMs: 0,
}
const check = (kind: CheckSpec['kind']): CheckSpec =>
  ({ id: kind, kind, opts: {}, intervalMs: 1000, timeoutMs: 300 }) as CheckSpec
const server = (id: string, kind: CheckSpec['kind'] = 'tcp'): ServerSpec => ({
  id,
  target: { addr: parseAddr('192.0.2.1'), port: 80 },
  checks: [check(kind)],
  policy,
})

/** ms from the rig's start (10 s, a whole second) to the first run of a server's check. */
const firstRun = (id: string, kind = 'tcp') => phaseOf(`${id}\u0000${kind}`, 1000)

/** What the nth probe does: answer with an errno after `ms`, or never (until cancelled). */
type Answer = { ms: number; errno: number } | 'never'

function rig(opts: {
  answer?: (n: number) => Answer
  prepare?: () => Wire | Result
  start?: (n: number) => Result | undefined
  /** What run() (every kind but TCP) does; default: answers at once. */
  run?: CheckRunner['run']
  maxConcurrent?: number
}) {
  const clock = new VirtualClock(10_000)
  const log = { prepared: 0, started: [] as number[], cancelled: [] as number[], runs: 0 }
  const live = new Map<number, unknown>()
  let n = 0
  const tcp: TcpProber = {
    prepare: () => {
      log.prepared++
      // the wire's probe is the native prober's; a fake prober never looks inside it
      return opts.prepare?.() ?? ({ probe: {}, detail: 'connected to 192.0.2.1:80' } as unknown as Wire)
    },
    start: (_w, done) => {
      const id = ++n
      const failed = opts.start?.(id)
      if (failed) return failed
      log.started.push(clock.now())
      const a = opts.answer?.(id) ?? { ms: 5, errno: 0 }
      if (a !== 'never')
        live.set(
          id,
          clock.set(() => {
            live.delete(id)
            done(a.errno)
          }, a.ms),
        )
      return id
    },
    cancel: (id) => {
      log.cancelled.push(id)
      clock.clear(live.get(id))
      live.delete(id)
    },
  }
  const runner: CheckRunner = {
    run: async (spec, target, signal) => {
      log.runs++
      return opts.run ? opts.run(spec, target, signal) : { ok: true, ms: 1, detail: 'ran' }
    },
    tcp,
  }
  const results: Result[] = []
  const out: Transition[] = []
  const sched = new Scheduler({
    runner,
    clock,
    onResult: (_s, _c, r) => results.push(r),
    onTransition: (t) => out.push(t),
    random: () => 0.5,
    ...(opts.maxConcurrent === undefined ? {} : { maxConcurrent: opts.maxConcurrent }),
  })
  return { clock, log, sched, results, out }
}

test('a TCP check goes through the prober: its target prepared once, each run timed on the clock', async (t) => {
  const r = rig({ answer: () => ({ ms: 7, errno: 0 }) })
  r.sched.set([server('a')])
  await r.clock.run(3000)
  t.is(r.log.started.length, 3, 'one probe a second')
  t.is(r.log.prepared, 1, 'the target is prepared once per job, not per run')
  t.is(r.log.runs, 0, 'run() is not the TCP path')
  t.deepEqual(
    r.results.map((x) => [x.ok, x.ms, x.detail]),
    Array(3).fill([true, 7, 'connected to 192.0.2.1:80']),
  )
  t.true(r.sched.state('a')?.up)
  r.sched.stop()
})

test('a refused probe fails the check with the errno named, and the server goes down', async (t) => {
  const r = rig({ answer: (n) => (n === 1 ? { ms: 3, errno: 0 } : { ms: 2, errno: ECONNREFUSED }) })
  r.sched.set([server('a')])
  await r.clock.run(2000)
  t.like(r.results[1], { ok: false, ms: 2, code: 'refused' })
  t.regex(r.results[1]?.detail ?? '', /ECONNREFUSED/)
  t.deepEqual(
    r.out.map((x) => x.kind),
    ['up', 'down'],
  )
  r.sched.stop()
})

test('a probe that never answers is cancelled at its timeout, its slot freed, and the next run starts on time', async (t) => {
  const r = rig({ answer: (n) => (n === 1 ? 'never' : { ms: 4, errno: 0 }) })
  r.sched.set([server('a')])
  await r.clock.run(firstRun('a') + 299)
  t.deepEqual(r.log.cancelled, [], 'in flight until its timeout')
  t.is(r.sched.stats().running, 1)
  await r.clock.run(1)
  t.deepEqual(r.log.cancelled, [1], 'the hung probe is cancelled at 300 ms')
  t.like(r.results[0], { ok: false, ms: 300, code: 'timeout' })
  t.is(r.sched.stats().running, 0, 'its slot is free')
  t.is(r.sched.stats().timeouts, 1)
  await r.clock.run(1000)
  t.is(r.log.started.length, 2)
  t.is((r.log.started[1] as number) - (r.log.started[0] as number), 1000, 'the next run at its slot')
  t.like(r.results[1], { ok: true, ms: 4 })
  t.is(r.results.length, 2, 'the cancelled probe produced one result, not two')
  r.sched.stop()
})

test('a target that cannot be probed, or a probe that cannot start, is a failed check and no exception', async (t) => {
  const unprobeable = rig({ prepare: () => ({ ok: false, ms: 0, code: 'error', detail: 'no such interface' }) })
  unprobeable.sched.set([server('a')])
  await unprobeable.clock.run(2000)
  t.is(unprobeable.log.started.length, 0)
  t.deepEqual(
    unprobeable.results.map((x) => x.detail),
    ['no such interface', 'no such interface'],
  )
  t.is(unprobeable.sched.stats().running, 0)
  unprobeable.sched.stop()

  const emfile = rig({ start: () => ({ ok: false, ms: 0, code: 'error', detail: 'EMFILE' }) })
  emfile.sched.set([server('b')])
  await emfile.clock.run(1000)
  t.like(emfile.results[0], { ok: false, detail: 'EMFILE' })
  t.false(emfile.sched.state('b')?.up)
  t.is(emfile.sched.stats().running, 0)
  emfile.sched.stop()
})

test('stop() cancels a probe in flight; checks of other kinds still go through run()', async (t) => {
  const r = rig({ answer: () => 'never' })
  r.sched.set([server('a'), server('h', 'http')])
  await r.clock.run(Math.max(firstRun('a'), firstRun('h', 'http')) + 1)
  t.is(r.log.started.length, 1)
  t.is(r.log.runs, 1, 'the HTTP check ran through run()')
  t.is(r.sched.stats().running, 1, 'the probe is in flight (within its 300 ms)')
  r.sched.stop()
  t.deepEqual(r.log.cancelled, [1])
  t.deepEqual(r.clock.armed, [], 'nothing left armed')
})

test('checks that hang until their timeout fill only their own lane: TCP probes keep every slot on time', async (t) => {
  // one slot per lane; two HTTP checks that never answer hold the other lane's slot 900 ms of every 1000
  const r = rig({
    maxConcurrent: 1,
    answer: () => ({ ms: 3, errno: 0 }),
    run: (_spec, _target, signal) =>
      new Promise((resolve) =>
        signal.addEventListener('abort', () => resolve({ ok: false, ms: 900, code: 'timeout', detail: 'hung' })),
      ),
  })
  const hung = (id: string): ServerSpec => ({
    ...server(id, 'http'),
    checks: [{ ...check('http'), timeoutMs: 900 }],
  })
  r.sched.set([server('a'), hung('h1'), hung('h2')])
  await r.clock.run(firstRun('a') + 4000)
  t.true(r.log.runs >= 3, `the hung checks ran (${r.log.runs})`)
  t.true(r.sched.stats().queued >= 1, 'the other lane is saturated: an HTTP check waits for its slot')
  t.is(r.log.started.length, 5, 'a TCP probe at each of its slots')
  const starts = r.log.started.map((x) => x - (r.log.started[0] as number))
  t.deepEqual(starts, [0, 1000, 2000, 3000, 4000], 'each exactly on its slot, never behind a hung check')
  t.is(r.log.started[0], 10_000 + firstRun('a'))
  r.sched.stop()
})

/** An HTTP server at its own port: `hangs(n)` says whether its nth run hangs until the timeout (900 ms). */
function httpOn(id: string, port: number): ServerSpec {
  return {
    ...server(id, 'http'),
    target: { addr: parseAddr('192.0.2.1'), port },
    checks: [{ ...check('http'), timeoutMs: 900 }],
  }
}

function hangingRun(hangs: (port: number, n: number) => boolean, clock: VirtualClock, starts: Map<number, number[]>) {
  return (_spec: CheckSpec, target: ServerSpec['target'], signal: AbortSignal): Promise<Result> => {
    const list = starts.get(target.port) ?? []
    list.push(clock.now())
    starts.set(target.port, list)
    if (!hangs(target.port, list.length)) return Promise.resolve({ ok: true, ms: 5, detail: 'HTTP 200' })
    return new Promise((resolve) =>
      signal.addEventListener('abort', () => resolve({ ok: false, ms: 900, code: 'timeout', detail: 'hung' })),
    )
  }
}

test('HTTP checks that hang move to a slow lane of their own: the HTTP checks that answer keep their slots', async (t) => {
  // one slot per lane; two HTTP servers that never answer hold a slot 900 ms of every 1000, beside
  // one that answers at once. Sharing a lane, the good check would start late most seconds.
  const starts = new Map<number, number[]>()
  let clockRef: VirtualClock | undefined
  const r = rig({
    maxConcurrent: 1,
    run: (spec, target, signal) =>
      hangingRun((port) => port !== 80, clockRef as VirtualClock, starts)(spec, target, signal),
  })
  clockRef = r.clock
  r.sched.set([httpOn('good', 80), httpOn('h1', 81), httpOn('h2', 82)])
  await r.clock.run(firstRun('good', 'http') + 10_000)
  const good = starts.get(80) ?? []
  t.true(good.length >= 10, `the good check ran (${good.length})`)
  const gaps = good.slice(1).map((x, i) => x - (good[i] as number))
  // from its third run on (once each hung check has timed out once and moved), every start on its slot
  t.deepEqual(gaps.slice(2), Array(gaps.length - 2).fill(1000), `gaps ${gaps.join(' ')}`)
  t.is(r.sched.stats().slow, 2, 'the two hung checks are the slow ones')
  t.true((starts.get(81)?.length ?? 0) >= 4, 'the hung checks still run, in their own lane')
  r.sched.stop()
})

test('a slow check returns to its lane once it answers within half its timeout', async (t) => {
  const starts = new Map<number, number[]>()
  let clockRef: VirtualClock | undefined
  const r = rig({
    maxConcurrent: 1,
    run: (spec, target, signal) =>
      hangingRun((_p, n) => n <= 2, clockRef as VirtualClock, starts)(spec, target, signal),
  })
  clockRef = r.clock
  r.sched.set([httpOn('flaky', 80)])
  await r.clock.run(firstRun('flaky', 'http') + 1500)
  t.is(r.sched.stats().slow, 1, 'after a run that hung to its timeout')
  await r.clock.run(3000)
  t.is(starts.get(80)?.length, 5, 'ran at each slot')
  t.is(r.sched.stats().slow, 0, 'after a run that answered in 5 ms')
  t.true(r.sched.state('flaky')?.up)
  r.sched.stop()
})
