// The VRRP worker's logic (VrrpWorkerCore) with fake sockets, rtnetlink and a manual clock: channel
// sharing, the waiting list, sync-group faults, reloads, and the events it sends the main thread.
import test from 'ava'
import { isLvsdError, LvsdError } from '../../src/errors.js'
import { parseAddr } from '../../src/net/addr.js'
import { VrrpRuntime } from '../../src/vrrp/main/runtime.js'
import type { Down, RuntimeInstance, SyncGroup, Up } from '../../src/vrrp/messages.js'
import { VrrpWorkerCore } from '../../src/vrrp/worker/worker-core.js'
import { webInstance } from '../helpers/vrrp-instance.js'
import { address, advert, flush, inProcessWorker, link, workerRig } from './vrrp-instance-fakes.js'

function rig() {
  const up: Up[] = []
  const { clock, net, channels, deps } = workerRig(undefined, (m) => up.push(m))
  const core = new VrrpWorkerCore(deps)
  const send = async (m: Down) => {
    core.handle(m)
    await core.settled()
    await flush()
  }
  const start = (instances: RuntimeInstance[], syncGroups: SyncGroup[] = []) =>
    send({ type: 'start', instances, rtPriority: 0, syncGroups })
  /** Runs timers up to `ms` later, letting VIP changes and sync steps settle between them. */
  const advance = async (ms: number) => {
    const end = clock.now() + ms
    while (clock.now() < end) {
      clock.advanceTo(Math.min(end, clock.now() + 10))
      await flush()
    }
  }
  const transitions = (name?: string) =>
    up.flatMap((m) =>
      m.type === 'transition' && (!name || m.instance === name) ? [`${m.instance} ${m.from}>${m.to}`] : [],
    )
  const roles = () => {
    const r: Record<string, string> = {}
    for (const m of up) if (m.type === 'transition') r[m.instance] = m.to
    return r
  }
  const counters = async () => {
    await send({ type: 'counters' })
    const last = up.filter((m) => m.type === 'counters').at(-1)
    return last?.type === 'counters' ? last.counters : {}
  }
  return { clock, net, channels, up, core, send, start, advance, transitions, roles, counters }
}

const inst = (name: string, vrid: number, over: Partial<RuntimeInstance> = {}) =>
  webInstance(`10.0.0.${100 + vrid - 50}/24`, { name, vrid, ...over })

test('two instances on one interface and family share one socket; a datagram reaches both; the socket closes with its last member', async (t) => {
  const r = rig()
  r.net.addLink(link(3, 'eth1'))
  r.net.addAddress(address(3, '10.1.0.1'))
  await r.start([inst('a', 51), inst('b', 52), inst('c', 53, { interface: 'eth1' })])
  t.deepEqual(
    r.channels.map((c) => c.spec.ifname),
    ['eth0', 'eth1'],
  )
  r.channels[0]?.receive(advert({ priority: 200, vrid: 51, vips: [parseAddr('10.0.0.101')] }))
  const c = await r.counters()
  t.is(c.a?.rx, 1)
  t.is(c.b?.drops.vrid, 1, 'the other instance on the socket saw it and dropped it for its VRID')
  t.is(c.c?.rx, 0)
  await r.send({
    type: 'update',
    id: 1,
    instances: [inst('b', 52), inst('c', 53, { interface: 'eth1' })],
    syncGroups: [],
  })
  t.false(r.channels[0]?.closed, 'b still uses the socket')
  await r.send({ type: 'update', id: 2, instances: [inst('c', 53, { interface: 'eth1' })], syncGroups: [] })
  t.true(r.channels[0]?.closed)
  t.false(r.channels[1]?.closed)
})

test('an instance whose interface or source address is missing waits, and starts when they appear', async (t) => {
  const r = rig()
  await r.start([inst('a', 51, { interface: 'eth1' })])
  const waits = () =>
    r.up.flatMap((m) => (m.type === 'log' && m.msg.startsWith('instance waits') ? [m.fields.reason] : []))
  t.deepEqual(waits(), ['no interface eth1'])
  t.is(r.channels.length, 0)
  t.deepEqual(r.transitions(), [])
  r.net.addLink(link(3, 'eth1'))
  await r.core.settled()
  await flush()
  t.deepEqual(waits(), ['no interface eth1', 'no IPv4 source address on eth1'])
  t.deepEqual(r.transitions(), [])
  r.net.addAddress(address(3, '10.1.0.1'))
  await r.core.settled()
  await flush()
  t.deepEqual(r.transitions(), ['a INIT>BACKUP'])
  t.is(r.channels[0]?.spec.ifname, 'eth1')
  await r.advance(1000)
  t.is(r.roles().a, 'MASTER', 'alone on its link it is elected')
})

test('sync group: one member’s own fault puts the whole group in FAULT, and its recovery brings the group back', async (t) => {
  const r = rig()
  r.net.addLink(link(3, 'eth1'))
  r.net.addAddress(address(3, '10.1.0.1'))
  await r.start(
    [inst('a', 51), inst('b', 52, { interface: 'eth1' }), inst('solo', 53)],
    [{ name: 'g', members: ['a', 'b'] }],
  )
  await r.advance(1000)
  t.deepEqual(r.roles(), { a: 'MASTER', b: 'MASTER', solo: 'MASTER' })
  r.net.addLink(link(3, 'eth1', false))
  await flush()
  await flush()
  t.deepEqual(
    r.roles(),
    { a: 'FAULT', b: 'FAULT', solo: 'MASTER' },
    'a follows b, the instance outside the group does not',
  )
  r.net.addLink(link(3, 'eth1', true))
  await r.advance(1000)
  t.deepEqual(r.roles(), { a: 'MASTER', b: 'MASTER', solo: 'MASTER' })
  t.deepEqual(r.transitions('solo'), ['solo INIT>BACKUP', 'solo BACKUP>MASTER'])
})

test('sync group: a partner that went MASTER in the same turn moves the member before its own Master_Down decides', async (t) => {
  const r = rig()
  await r.start([inst('a', 51), inst('b', 52)], [{ name: 'g', members: ['a', 'b'] }])
  // a hears a live master; b hears nobody, so its Master_Down fires every 360.9375 ms from 1000,
  // held in BACKUP by a (b at 1360.9375, then again at 1721.875)
  const heard = () => r.channels[0]?.receive(advert({ priority: 200, vrid: 51, vips: [parseAddr('10.0.0.101')] }))
  while (r.clock.now() < 1359.9375) {
    heard()
    await r.advance(Math.min(100, 1359.9375 - r.clock.now()))
  }
  heard() // the master's last advert: a's Master_Down at 1720.875, 1 ms before b's next one
  t.deepEqual(r.roles(), { a: 'BACKUP', b: 'BACKUP' })
  // both timers fall due in one turn, with no microtask between them
  r.clock.advanceTo(1800)
  await flush()
  const why = (name: string) =>
    r.up.flatMap((m) => (m.type === 'transition' && m.instance === name && m.to === 'MASTER' ? [m.why] : []))
  t.deepEqual(why('a'), ['master_down'])
  t.deepEqual(why('b'), ['sync'], 'b followed a; its own timer, due 1 ms later, did not decide alone')
})

test('a reload changes, removes and adds instances while the others keep running untouched', async (t) => {
  const r = rig()
  await r.start([inst('a', 51), inst('b', 52), inst('c', 53)])
  await r.advance(1000)
  t.deepEqual(r.roles(), { a: 'MASTER', b: 'MASTER', c: 'MASTER' })
  const before = r.up.length
  await r.send({
    type: 'update',
    id: 7,
    instances: [inst('a', 51), inst('b', 52, { priority: 120 }), inst('d', 54)],
    syncGroups: [],
  })
  const updated = r.up.find((m) => m.type === 'updated')
  t.deepEqual(updated?.type === 'updated' ? updated.report : undefined, {
    added: ['d'],
    removed: ['c'],
    changed: ['b'],
    unchanged: ['a'],
  })
  const after = r.up.slice(before).flatMap((m) => (m.type === 'transition' ? [`${m.instance} ${m.from}>${m.to}`] : []))
  t.deepEqual(after, ['c MASTER>INIT', 'd INIT>BACKUP'], 'a and b (changed in place) keep their state')
  t.false(r.net.api.has(2, parseAddr('10.0.0.103')), 'the removed master took its VIP with it')
  t.true(r.net.api.has(2, parseAddr('10.0.0.101')))
  t.is(r.channels.length, 1, 'one socket for all, kept across the reload')
  await r.advance(1000)
  t.deepEqual(r.roles(), { a: 'MASTER', b: 'MASTER', c: 'INIT', d: 'MASTER' })
  const c = await r.counters()
  t.deepEqual(Object.keys(c).sort(), ['a', 'b', 'd'])
})

test('a tracked interface going down posts the new effective priority (vrrp.priority)', async (t) => {
  const r = rig()
  r.net.addLink(link(3, 'eth1'))
  await r.start([inst('a', 51, { trackInterfaces: [{ name: 'eth1', weight: -30 }] })])
  r.net.addLink(link(3, 'eth1', false))
  r.net.addLink(link(3, 'eth1', true))
  t.deepEqual(
    r.up.filter((m) => m.type === 'priority'),
    [
      { type: 'priority', instance: 'a', configured: 100, effective: 70, source: 'track:eth1' },
      { type: 'priority', instance: 'a', configured: 100, effective: 100, source: 'track:eth1' },
    ],
  )
})

test('a flood of bad adverts is one drop message per reason and source per 10 s (vrrp.drop)', async (t) => {
  const r = rig()
  await r.start([inst('a', 51)])
  // a second source (its first byte above 127: the source is keyed as an unsigned 32-bit number)
  // and a second reason from the first source are each reported apart
  const other = parseAddr('200.1.2.3')
  for (let i = 0; i < 50; i++) {
    r.channels[0]?.receive(advert({ priority: 200, ttl: 64 }))
    r.channels[0]?.receive(advert({ priority: 200, ttl: 64, src: other }))
    r.channels[0]?.receive(advert({ priority: 200, vrid: 52 }))
  }
  r.clock.spend(10_000)
  r.channels[0]?.receive(advert({ priority: 200, ttl: 64 }))
  t.deepEqual(
    r.up.filter((m) => m.type === 'drop'),
    [
      { type: 'drop', instance: 'a', reason: 'ttl', from: '10.0.0.2' },
      { type: 'drop', instance: 'a', reason: 'ttl', from: '200.1.2.3' },
      { type: 'drop', instance: 'a', reason: 'vrid', from: '10.0.0.2' },
      { type: 'drop', instance: 'a', reason: 'ttl', from: '10.0.0.2' },
    ],
  )
  const drops = (await r.counters()).a?.drops
  t.is(drops?.ttl, 101)
  t.is(drops?.vrid, 50)
})

test('an advert timer that fires more than half an interval late posts a late message (vrrp.advert_late)', async (t) => {
  const r = rig()
  await r.start([inst('a', 51)])
  await r.advance(1000)
  t.is(r.roles().a, 'MASTER')
  t.deepEqual(
    r.up.filter((m) => m.type === 'late'),
    [],
  )
  // the thread stalls: the clock moves on without the timer running, then it fires 80 ms late
  r.clock.spend(180)
  r.clock.advance(0)
  const late = r.up.filter((m) => m.type === 'late')
  t.is(late.length, 1)
  t.like(late[0], { instance: 'a' })
  t.true(late[0]?.type === 'late' && late[0].lateMs >= 50)
})

test('a worker failure reaches the main thread as an LvsdError with its code, errno and details', async (t) => {
  const rig = workerRig()
  rig.deps.openTimers = () => {
    throw new LvsdError('LVSD_SYS_CALL', 'timerfd_create failed', { errno: 'EMFILE', syscall: 'timerfd_create' })
  }
  const { port } = inProcessWorker(rig)
  const runtime = new VrrpRuntime([], { rtPriority: 0, worker: () => port, nft: '/nonexistent/nft' })
  const err = await new Promise<Error>((resolve) => runtime.once('error', resolve))
  t.true(isLvsdError(err, 'LVSD_SYS_CALL'))
  t.deepEqual((err as LvsdError).details, { errno: 'EMFILE', syscall: 'timerfd_create' })
  await runtime.stop()
})
