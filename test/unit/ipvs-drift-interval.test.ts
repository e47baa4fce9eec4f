// The drift loop's adaptive interval in virtual time: a pass that takes long stretches the wait before the
// next one so the loop never takes more than its share of a core, a fast pass brings the configured interval
// back, the timing is reported for the metrics, and new settings apply from the next arm.
import test from 'ava'
import { IpvsClient } from '../../src/ipvs/client.js'
import { defaultDest, defaultService, type ServiceState } from '../../src/ipvs/model.js'
import { driftDelay, type PassReport, Reconciler } from '../../src/ipvs/reconciler.js'
import { parseAddr } from '../../src/net/addr.js'
import { fakeIpvs } from '../fixtures/ipvs/fake-ipvs.js'
import { VirtualClock } from '../helpers/virtual-clock.js'

const seed: ServiceState[] = [
  {
    service: defaultService({ protocol: 'tcp', addr: parseAddr('10.0.0.3'), port: 80 }, 'wrr'),
    dests: [defaultDest(parseAddr('10.0.0.7'), 80, 'droute')],
  },
]

/** A reconciler whose table read takes `readMs.value` of virtual time (the kernel's dumps, say). */
async function slowSetup(intervalMs: number, maxDriftShare?: number) {
  const { nl } = fakeIpvs()
  const c = await IpvsClient.open(nl)
  const clock = new VirtualClock()
  const readMs = { value: 0 }
  const passes: PassReport[] = []
  const slow = {
    addService: c.addService.bind(c),
    editService: c.editService.bind(c),
    delService: c.delService.bind(c),
    addDest: c.addDest.bind(c),
    editDest: c.editDest.bind(c),
    delDest: c.delDest.bind(c),
    listDests: c.listDests.bind(c),
    listServices: (o?: { stats?: boolean }) => {
      clock.spend(readMs.value)
      return c.listServices(o)
    },
  }
  const r = new Reconciler(slow, {
    intervalMs,
    ...(maxDriftShare === undefined ? {} : { maxDriftShare }),
    clock,
    onPass: (p) => passes.push(p),
  })
  return { clock, readMs, passes, r }
}

test('driftDelay: the configured interval, stretched so that passes take at most the share', (t) => {
  t.is(driftDelay(5000, undefined, 0.1), 5000, 'before the first pass')
  t.is(driftDelay(5000, 100, 0.1), 5000, 'a fast pass keeps the interval')
  t.is(driftDelay(5000, 3000, 0.25), 9000, '3 s of pass, 9 s of wait: 25 %')
  t.is(driftDelay(5000, 7700, 0.1), 69_300)
  t.is(driftDelay(5000, 7700, 1), 5000, 'a share of a whole core never stretches')
  t.is(driftDelay(0, 7700, 0.1), 69_300)
})

test('a slow drift pass stretches the wait before the next one; a fast pass brings the interval back', async (t) => {
  const { clock, readMs, passes, r } = await slowSetup(5000, 0.25)
  await r.apply(seed)
  r.start()
  t.deepEqual(clock.armed, [5000])
  t.like(r.drift, { intervalMs: 5000, lastPassMs: undefined, effectiveIntervalMs: 5000 })
  readMs.value = 3000
  clock.advance(5000)
  await r.idle()
  t.like(passes.at(-1), { cause: 'drift', ms: 3000 })
  t.deepEqual(clock.armed, [9000], '3 s pass at 25 %: 9 s of wait')
  t.like(r.drift, { lastPassMs: 3000, effectiveIntervalMs: 9000 })
  clock.advance(8999)
  t.is(passes.length, 2, 'no pass before the stretched wait is over')
  readMs.value = 10
  clock.advance(1)
  await r.idle()
  t.is(passes.length, 3)
  t.deepEqual(clock.armed, [5000], 'a fast pass: the configured interval again')
  t.like(r.drift, { lastPassMs: 10, effectiveIntervalMs: 5000 })
  await r.stop()
})

test('the default share is 10 % of a core: a 7.7 s pass waits 69.3 s', async (t) => {
  const { clock, readMs, r } = await slowSetup(5000)
  await r.apply(seed)
  r.start()
  readMs.value = 7700
  clock.advance(5000)
  await r.idle()
  t.deepEqual(clock.armed, [69_300])
  t.like(r.drift, { maxShare: 0.1, effectiveIntervalMs: 69_300 })
  await r.stop()
})

test('config passes do not count as drift passes, and setDrift applies from the next arm or stops the loop', async (t) => {
  const { clock, readMs, passes, r } = await slowSetup(5000, 0.5)
  readMs.value = 4000
  await r.apply(seed)
  t.like(passes[0], { cause: 'config', ms: 4000, read: true })
  t.is(r.drift.lastPassMs, undefined)
  r.start()
  t.deepEqual(clock.armed, [5000])
  r.setDrift(2000, 0.5)
  clock.advance(5000)
  await r.idle()
  t.deepEqual(clock.armed, [4000], '4 s pass at 50 %: 4 s, over the new 2 s interval')
  r.setDrift(0, 0.5)
  t.deepEqual(clock.armed, [], 'interval 0 stops the loop')
  clock.advance(60_000)
  await r.idle()
  t.is(passes.length, 2)
  r.setDrift(1000, 0.5)
  r.start()
  t.deepEqual(clock.armed, [4000])
  await r.stop()
})
