// The reconciler against the fake IPVS kernel in virtual time: config passes, drift repaired by the periodic
// re-read within one interval and counted apart from config ops, retries, read errors, ownership, no overlap.
import test from 'ava'
import { IpvsClient } from '../../src/ipvs/client.js'
import type { Destination } from '../../src/ipvs/domain.js'
import { defaultDest, defaultService, type ServiceState, serviceId } from '../../src/ipvs/model.js'
import { type OpEvent, type PassReport, Reconciler } from '../../src/ipvs/reconciler.js'
import { parseAddr } from '../../src/net/addr.js'
import { type FakeIpvs, fakeIpvs } from '../fixtures/ipvs/fake-ipvs.js'
import { fakeClient } from '../helpers/fake-kernel.js'
import { VirtualClock } from '../helpers/virtual-clock.js'

const vip = parseAddr('10.0.0.3')
const seedKey = { protocol: 'tcp', addr: vip, port: 80 } as const
const rs = (last: number, over: Partial<Destination> = {}) =>
  defaultDest(parseAddr(`10.0.0.${last}`), 80, 'droute', over)
const seed: ServiceState[] = [{ service: defaultService(seedKey, 'wrr'), dests: [rs(7), rs(8, { weight: 2 })] }]
const other = { protocol: 'tcp', addr: parseAddr('10.0.0.4'), port: 80 } as const

async function setup(intervalMs = 5000) {
  return setupOn(fakeIpvs(), intervalMs)
}

/** A reconciler on a given fake kernel (a second one sees the same table). */
async function setupOn(k: FakeIpvs | ReturnType<typeof fakeIpvs>, intervalMs = 5000) {
  const { fake, nl } = 'nl' in k ? k : { fake: k, nl: fakeClient(k.handle).client }
  const c = await IpvsClient.open(nl)
  const clock = new VirtualClock()
  const events: OpEvent[] = []
  const passes: PassReport[] = []
  const r = new Reconciler(c, {
    intervalMs,
    clock,
    onEvent: (e) => events.push(e),
    onPass: (p) => passes.push(p),
  })
  return { fake, c, clock, events, passes, r }
}

const brief = (e: OpEvent) => `${e.cause} ${e.op.op} ${e.target} ${e.ok ? 'ok' : e.error?.details.code}`

test('apply programs the desired table, one event per op, and a second apply sends nothing', async (t) => {
  const { fake, events, r } = await setup()
  const p = await r.apply(seed)
  t.like(p, { cause: 'config', ops: 3, failed: 0 })
  t.deepEqual(events.map(brief), [
    'config add-service tcp 10.0.0.3:80 ok',
    'config add-dest tcp 10.0.0.3:80 -> 10.0.0.7:80 ok',
    'config add-dest tcp 10.0.0.3:80 -> 10.0.0.8:80 ok',
  ])
  t.is(fake.services.get('tcp/10.0.0.3/80')?.dests.length, 2)
  t.like(await r.apply(seed), { ops: 0 })
  t.like(r.counters, { configOps: 3, driftRepairs: 0, passes: 2 })
  t.deepEqual([...r.owned], ['tcp/10.0.0.3/80'])
})

test('a destination deleted behind lvsd’s back is restored by the loop within one interval, as a drift repair', async (t) => {
  const { fake, clock, events, r } = await setup(5000)
  await r.apply(seed)
  r.start()
  t.deepEqual(clock.armed, [5000])
  clock.advance(5000)
  await r.idle()
  t.is(events.length, 3, 'a pass over an unchanged kernel sends nothing')
  // "ipvsadm -d -t 10.0.0.3:80 -r 10.0.0.8:80" at t = 6 s
  clock.advance(1000)
  const svc = fake.services.get('tcp/10.0.0.3/80')
  svc?.dests.splice(
    svc.dests.findIndex((d) => d.addr.bytes[3] === 8),
    1,
  )
  clock.advance(3999)
  await r.idle()
  t.is(fake.services.get('tcp/10.0.0.3/80')?.dests.length, 1, 'not yet: the next pass is at 10 s')
  clock.advance(1)
  await r.idle()
  t.deepEqual(events.slice(3).map(brief), ['drift add-dest tcp 10.0.0.3:80 -> 10.0.0.8:80 ok'])
  t.like(
    fake.services.get('tcp/10.0.0.3/80')?.dests.find((d) => d.addr.bytes[3] === 8),
    { weight: 2 },
  )
  t.like(r.counters, { configOps: 3, driftRepairs: 1 })
  t.deepEqual(clock.armed, [5000], 'the loop re-arms after each pass')
  await r.stop()
  t.deepEqual(clock.armed, [])
})

test('services lvsd does not own are never edited, deleted or flushed; owned ones leaving the table are deleted', async (t) => {
  const { fake, c, clock, events, r } = await setup(1000)
  await c.addService(defaultService(other, 'rr'))
  await c.addDest(other, rs(9))
  await r.apply([...seed, { service: defaultService({ ...seedKey, port: 443 }, 'rr'), dests: [rs(7, { port: 443 })] }])
  r.start()
  clock.advance(3000)
  await r.idle()
  await r.apply(seed)
  t.deepEqual(events.slice(-1).map(brief), ['config del-service tcp 10.0.0.3:443 ok'])
  t.deepEqual([...fake.services.keys()].sort(), ['tcp/10.0.0.3/80', 'tcp/10.0.0.4/80'])
  t.is(fake.services.get(serviceId(other))?.dests.length, 1)
  t.false(fake.log.includes('FLUSH'))
  t.false(fake.log.includes('DEL_DEST') || fake.log.includes('SET_SERVICE'))
  t.deepEqual([...r.owned], ['tcp/10.0.0.3/80'])
  await r.stop()
})

test('an op the kernel refused is retried by the next pass and counted as a retry, not a drift repair', async (t) => {
  const { fake, clock, events, r } = await setup(5000)
  fake.failNext = { cmd: 5, errno: 'EINVAL' } // the first NEW_DEST
  const p = await r.apply(seed)
  t.like(p, { ops: 3, failed: 1 })
  t.is(brief(events[1] as OpEvent), 'config add-dest tcp 10.0.0.3:80 -> 10.0.0.7:80 EINVAL')
  r.start()
  clock.advance(5000)
  await r.idle()
  t.deepEqual(events.slice(3).map(brief), ['retry add-dest tcp 10.0.0.3:80 -> 10.0.0.7:80 ok'])
  t.like(r.counters, { configOps: 2, retries: 1, driftRepairs: 0, failedOps: 1 })
  await r.stop()
})

test('a failed read is reported and the loop keeps going', async (t) => {
  const { fake, clock, passes, r } = await setup(5000)
  await r.apply(seed)
  r.start()
  fake.failNext = { cmd: 4, errno: 'ENOMEM' } // GET_SERVICE
  clock.advance(5000)
  await r.idle()
  t.is(passes[1]?.readError?.details.code, 'ENOMEM')
  t.is(r.counters.readErrors, 1)
  t.deepEqual(clock.armed, [5000])
  fake.services.clear()
  clock.advance(5000)
  await r.idle()
  t.like(passes[2], { cause: 'drift', ops: 3, failed: 0 })
  t.is(r.counters.driftRepairs, 3)
  await r.stop()
})

test('passes never overlap: two applies issued together run one after the other', async (t) => {
  const { fake, r } = await setup(0)
  const [a, b] = await Promise.all([r.apply(seed), r.apply(seed)])
  t.is(a.ops, 3)
  t.is(b.ops, 0, 'the second read saw the first pass’s result')
  t.is(fake.log.filter((x) => x === 'NEW_SERVICE').length, 1)
})

test('an invalid desired table is refused before anything is sent', async (t) => {
  const { fake, r } = await setup(0)
  const dup = [...seed, ...seed]
  t.is(t.throws(() => r.apply(dup))?.name, 'LvsdError')
  t.deepEqual(fake.log, [])
})

const withWeight = (table: ServiceState[], last: number, weight: number): ServiceState[] =>
  table.map((s) => ({ ...s, dests: s.dests.map((d) => (d.addr.bytes[3] === last ? { ...d, weight } : d)) }))

test('after the first pass, a changed weight costs exactly one netlink request: one SET_DEST, no dump', async (t) => {
  const { fake, passes, r } = await setup(0)
  const first = await r.apply(seed)
  t.like(first, { read: true, requests: 1 + 3 }, 'GET_SERVICE of the empty table, then 3 commands')
  t.deepEqual(fake.log, ['GET_SERVICE', 'NEW_SERVICE', 'NEW_DEST', 'NEW_DEST'])
  fake.log.length = 0
  const before = r.counters.requests
  const p = await r.apply(withWeight(seed, 8, 5))
  t.deepEqual(fake.log, ['SET_DEST'])
  t.is(r.counters.requests - before, 1)
  t.like(p, { cause: 'config', ops: 1, failed: 0, read: false, requests: 1 })
  t.like(
    fake.services.get('tcp/10.0.0.3/80')?.dests.find((d) => d.addr.bytes[3] === 8),
    { weight: 5 },
  )
  t.like(await r.apply(withWeight(seed, 8, 5)), { ops: 0, requests: 0 }, 'an unchanged table sends nothing')
  t.is(passes.length, 3)
})

test('the view follows every accepted op: adds, edits, deletions and mh re-orders need no read', async (t) => {
  const { fake, r } = await setup(0)
  await r.apply(seed)
  const mhKey = { ...seedKey, port: 81 }
  const mh = (lasts: number[]): ServiceState => ({
    service: defaultService(mhKey, 'mh'),
    dests: lasts.map((l) => rs(l)),
  })
  const steps: ServiceState[][] = [
    [...seed, mh([9, 7])],
    [withWeight(seed, 7, 3)[0] as ServiceState, mh([7, 8, 9])],
    [{ service: defaultService(seedKey, 'rr'), dests: [rs(8)] }, mh([7, 9])],
    [mh([6, 9])],
  ]
  for (const table of steps) {
    fake.log.length = 0
    const p = await r.apply(table)
    t.false(p.read)
    t.false(
      fake.log.some((c) => c.startsWith('GET_')),
      fake.log.join(' '),
    )
    // a fresh reconciler that reads the kernel finds nothing left to do: the view was the kernel's table
    const { r: fresh } = await setupOn(fake)
    t.like(await fresh.apply(table), { ops: 0, read: true })
  }
  t.deepEqual(
    fake.services.get('tcp/10.0.0.3/81')?.dests.map((d) => d.addr.bytes[3]),
    [9, 6],
    'mh: the kernel lists them newest first, so the list is in canonical order',
  )
})

test('a config pass whose view is stale (a destination deleted behind lvsd’s back) reads the kernel and repairs it in the same pass', async (t) => {
  const { fake, events, r } = await setup(0)
  await r.apply(seed)
  const svc = fake.services.get('tcp/10.0.0.3/80')
  svc?.dests.splice(
    svc.dests.findIndex((d) => d.addr.bytes[3] === 8),
    1,
  )
  fake.log.length = 0
  const p = await r.apply(withWeight(seed, 8, 4))
  t.deepEqual(fake.log, ['SET_DEST', 'GET_SERVICE', 'GET_DEST', 'NEW_DEST'])
  t.like(p, { ops: 1, failed: 0, read: true, requests: 4, stale: { ops: 1, failed: 1 } })
  t.deepEqual(events.slice(3).map(brief), [
    'config edit-dest tcp 10.0.0.3:80 -> 10.0.0.8:80 ENOENT',
    'config add-dest tcp 10.0.0.3:80 -> 10.0.0.8:80 ok',
  ])
  t.like(
    fake.services.get('tcp/10.0.0.3/80')?.dests.find((d) => d.addr.bytes[3] === 8),
    { weight: 4 },
  )
  t.is(r.counters.staleViews, 1)
  fake.log.length = 0
  t.like(await r.apply(withWeight(seed, 8, 4)), { ops: 0, read: false, requests: 0 })
})

test('a refused op leaves the view in doubt: the next config pass reads the kernel', async (t) => {
  const { fake, r } = await setup(0)
  await r.apply(seed)
  fake.failNext = { cmd: 6, errno: 'EINVAL' } // SET_DEST
  const p = await r.apply(withWeight(seed, 8, 4))
  t.like(p, { ops: 1, failed: 1, read: false })
  t.is(p.stale, undefined, 'EINVAL is a refusal, not a sign of a stale view')
  fake.log.length = 0
  t.like(await r.apply(withWeight(seed, 8, 4)), { ops: 1, failed: 0, read: true })
  t.deepEqual(fake.log, ['GET_SERVICE', 'GET_DEST', 'SET_DEST'])
})

test('the drift pass always reads the kernel and refreshes the view', async (t) => {
  const { fake, r } = await setup(0)
  await r.apply(seed)
  // ipvsadm -e … -w 9 behind lvsd's back: a config pass would not see it, the drift pass does
  const svc = fake.services.get('tcp/10.0.0.3/80')
  if (svc) svc.dests = svc.dests.map((d) => (d.addr.bytes[3] === 7 ? { ...d, weight: 9 } : d))
  t.like(await r.apply(seed), { ops: 0, read: false })
  fake.log.length = 0
  t.like(await r.check(), { cause: 'drift', ops: 1, read: true, requests: 3 })
  t.deepEqual(fake.log, ['GET_SERVICE', 'GET_DEST', 'SET_DEST'])
  t.like(await r.apply(withWeight(seed, 7, 2)), { ops: 1, read: false, requests: 1 })
  t.like(
    fake.services.get('tcp/10.0.0.3/80')?.dests.find((d) => d.addr.bytes[3] === 7),
    { weight: 2 },
  )
})
