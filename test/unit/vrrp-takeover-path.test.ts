// A backup's takeover on the worker's clock (src/vrrp/worker/instance.ts): Master_Down woken up
// ahead of its deadline, the steps and the advert prepared in that lead and the effects at the
// deadline; the VIPs added and the GARP sent in the same turn as the advert, reports to the main
// thread last; Master_Down counted from the advert's receive stamp, not from when it was read.
import test from 'ava'
import type { Addr } from '../../src/net/addr.js'
import type { InstanceDeps } from '../../src/vrrp/worker/instance.js'
import { advert, flush, newClock, PEER, setup, transitions } from './vrrp-instance-fakes.js'

const LEAD = 3

/** Master_Down of the first takeover after start-up at 1000: 3 × 100 + 156 × 100 / 256 ms. */
const DEADLINE = 1000 + 360.9375
const WAKE = DEADLINE - LEAD

/**
 * The worker's clock seen by the instance: the test's virtual time, and at the early wake-up the
 * time the instance's wait on the clock consumes (each read there moves it on by 0.25 ms, so
 * a few reads after the wait put the advert within 1 ms of the deadline).
 */
function spinningClock() {
  const clock = newClock()
  let spun = 0
  const now = () => {
    if (clock.now() !== WAKE) return clock.now()
    spun += 0.25
    return WAKE + spun
  }
  return { clock, now }
}

/** One ordered log of what the takeover does to the world, with the instance's time of each. */
function takeoverWorld(now: () => number) {
  const log: string[] = []
  const stamp = (what: string) => log.push(`${what}@${now()}`)
  let held = false
  const pending: string[] = []
  const net = {
    hold: () => {
      held = true
      stamp('hold')
      return {
        release: () => {
          if (!held) return
          held = false
          for (const p of pending.splice(0)) stamp(`vip ${p}`)
        },
        withdraw: () => {
          if (!held) return
          held = false
          stamp(`withdrawn ${pending.splice(0).join(' ')}`)
        },
        // a fake cannot say what it would send: the takeover sends it itself (takeover-wire.ts)
        outgoing: () => undefined,
      }
    },
    addVip: async (_i: number, v: { prefix: { addr: Addr } }) => {
      const a = Array.from(v.prefix.addr.bytes).join('.')
      if (held) pending.push(a)
      else stamp(`vip ${a}`)
    },
  }
  return { log, stamp, net }
}

function takeoverSetup(extra: Partial<InstanceDeps> = {}) {
  const c = spinningClock()
  const w = takeoverWorld(c.now)
  const s = setup({}, extra, c.clock)
  const deps = (s.inst as unknown as { d: InstanceDeps }).d
  const queued: Array<() => void> = []
  Object.assign(deps, {
    now: c.now,
    wall: c.now,
    takeoverLeadMs: LEAD,
    receiveQueued: () => {
      w.stamp('read socket')
      for (const f of queued.splice(0)) f()
    },
  })
  Object.assign(deps.net, { hold: w.net.hold, addVip: w.net.addVip })
  const send = deps.channel.send
  deps.channel.send = (pkt: Buffer, to: Addr) => {
    w.stamp('advert')
    return send(pkt, to)
  }
  deps.announcer.prepareFor = () => w.stamp('prepare')
  const garp = deps.announcer.garp
  deps.announcer.garp = (i: number, m: Uint8Array, vip: Addr) => {
    w.stamp('garp')
    return garp(i, m, vip)
  }
  const post = deps.post
  deps.post = (m) => {
    if (m.type === 'transition') w.stamp(`report ${m.to} at ${m.at}`)
    post(m)
  }
  return { ...s, log: w.log, queued }
}

/** Starts the instance and runs its clock to the early wake-up; what it did there, in order. */
async function wakeAndTakeOver(s: ReturnType<typeof takeoverSetup>): Promise<Array<string | undefined>> {
  await s.inst.start()
  s.log.length = 0
  s.clock.advanceTo(WAKE)
  return s.log.map((l) => l.split('@')[0]?.replace(/ at .*/, ''))
}

test('Master_Down wakes the worker a lead early; the advert still leaves at the deadline, not before', async (t) => {
  const s = takeoverSetup()
  await s.inst.start()
  s.log.length = 0
  s.clock.advanceTo(WAKE - 0.01)
  t.is(s.inst.role, 'BACKUP', 'nothing before the early wake-up')
  t.deepEqual(s.log, [])
  s.clock.advanceTo(WAKE)
  t.is(s.inst.role, 'MASTER')
  const first = s.log.find((l) => l.startsWith('advert'))
  t.truthy(first)
  const sentAt = Number(first?.split('@')[1])
  t.true(sentAt >= DEADLINE && sentAt <= DEADLINE + 1, `advert at ${sentAt}, deadline ${DEADLINE}`)
})

test('at the deadline: advert, then the VIPs held since the lead, then the GARPs, all in one turn; the report last', async (t) => {
  const s = takeoverSetup()
  // nothing awaited yet: everything below happened synchronously in the timer's callback
  t.deepEqual(await wakeAndTakeOver(s), [
    'hold',
    'prepare',
    'read socket',
    'advert',
    'vip 10.0.0.100',
    ...Array(5).fill('garp'),
    'report MASTER',
  ])
  t.true(Number(s.log[1]?.split('@')[1]) < DEADLINE, 'the additions and the GARP socket were readied in the lead')
  // the virtual clock stands at the wake-up while the instance's moved on by its wait: the advert
  // timer is armed about 100 ms after the deadline, not 100 ms after the wake-up
  t.is(s.clock.armed.length, 2, 'the next advert and the second burst')
  t.is(s.clock.armed[1], 5000)
  const [, reportedAt = 0] = / at ([\d.]+)@/.exec(s.log.at(-1) ?? '')?.map(Number) ?? []
  t.true(reportedAt >= DEADLINE && reportedAt <= DEADLINE + 1, `reported at ${reportedAt}`)
  await flush()
  t.deepEqual(transitions(s.up), ['INIT>BACKUP:startup', 'BACKUP>MASTER:master_down'])
})

test('the lead rehearses the burst with its sends withheld: nothing counted, nothing armed, then the real burst', async (t) => {
  const s = takeoverSetup()
  const deps = (s.inst as unknown as { d: InstanceDeps }).d
  let withheld = false
  const garp = deps.announcer.garp
  deps.announcer.garp = (i: number, m: Uint8Array, vip: Addr) =>
    withheld ? (s.log.push('withheld'), false) : garp(i, m, vip)
  deps.announcer.rehearse = (fn: () => void) => {
    withheld = true
    try {
      fn()
    } finally {
      withheld = false
    }
    return []
  }
  t.deepEqual(await wakeAndTakeOver(s), [
    'hold',
    'prepare',
    ...Array(5).fill('withheld'),
    'read socket',
    'advert',
    'vip 10.0.0.100',
    ...Array(5).fill('garp'),
    'report MASTER',
  ])
  t.is(s.inst.counters.garp, 5, 'only the real burst is counted')
  t.is(s.clock.armed.length, 2, 'the rehearsal armed nothing: the next advert and the second burst')
})

test('without a lead (a virtual clock) the VIP add and the GARPs still go in the advert’s turn', async (t) => {
  const s = setup()
  await s.inst.start()
  s.clock.advanceTo(1000 + 361)
  t.is(s.inst.role, 'MASTER')
  t.deepEqual(s.vipOps, ['add 10.0.0.100'], 'added before any await')
  t.is(s.garps.length, 5)
})

test('a takeover while a VIP change is still under way waits for it: VIPs and GARPs stay in order', async (t) => {
  const s = setup()
  const deps = (s.inst as unknown as { d: InstanceDeps }).d
  let release: () => void = () => {}
  const slow = new Promise<void>((r) => (release = r))
  const del = deps.net.deleteVip
  deps.net.deleteVip = async (i, v) => {
    await slow
    return del(i, v)
  }
  await s.inst.start()
  s.clock.advanceTo(1000 + 361)
  t.is(s.inst.role, 'MASTER')
  t.is(s.garps.length, 5)
  // a higher priority is heard: the master steps down, and its VIP deletion hangs
  s.inst.receive(advert({ priority: 200 }))
  t.is(s.inst.role, 'BACKUP')
  await flush()
  s.clock.advanceTo(s.clock.now() + 361)
  t.is(s.inst.role, 'MASTER')
  t.deepEqual(s.vipOps, ['add 10.0.0.100'], 'the add waits behind the deletion')
  t.is(s.garps.length, 5, 'no GARP before the VIP changes ahead of it are done')
  release()
  await flush()
  await flush()
  t.deepEqual(s.vipOps, ['add 10.0.0.100', 'del 10.0.0.100', 'add 10.0.0.100'])
  t.is(s.garps.length, 10)
})

test('Master_Down counts from the advert’s receive stamp when its age is known', async (t) => {
  const ages: number[] = []
  const s = setup({}, {
    receivedMsAgo: (ns: number) => {
      ages.push(ns)
      return 0.75
    },
  } as Partial<InstanceDeps>)
  await s.inst.start()
  s.clock.advanceTo(1050)
  s.inst.receive({ ...advert({ priority: 200, src: PEER }), cmsg: { timestampNs: 42 } })
  t.deepEqual(ages, [42])
  t.deepEqual(s.clock.armed, [360.9375 - 0.75], 'heard 0.75 ms before it was read')
  s.inst.receive(advert({ priority: 200 }))
  t.deepEqual(s.clock.armed, [360.9375], 'no stamp: from now')
})

test('a stamp never puts the advert before a step already taken', async (t) => {
  const s = setup({}, { receivedMsAgo: () => 4 } as Partial<InstanceDeps>)
  await s.inst.start() // a step at 1000
  s.clock.advanceTo(1002)
  s.inst.receive({ ...advert({ priority: 200 }), cmsg: { timestampNs: 1 } })
  t.deepEqual(s.clock.armed, [360.9375 - 2], 'from 1000, the start-up step, not 998')
})

test('an untrusted stamp (receivedMsAgo undefined) counts from now', async (t) => {
  const s = setup({}, { receivedMsAgo: () => undefined } as Partial<InstanceDeps>)
  await s.inst.start()
  s.clock.advanceTo(1050)
  s.inst.receive({ ...advert({ priority: 200 }), cmsg: { timestampNs: 1 } })
  t.deepEqual(s.clock.armed, [360.9375])
})

test('an advert that reached the host during the lead calls the takeover off: nothing sent, the VIPs withdrawn', async (t) => {
  const s = takeoverSetup()
  await s.inst.start()
  s.log.length = 0
  // the master's advert is in the socket when the wait ends (it arrived during the lead)
  s.queued.push(() => s.inst.receive(advert({ priority: 200 })))
  s.clock.advanceTo(WAKE)
  t.is(s.inst.role, 'BACKUP')
  t.deepEqual(
    s.log.map((l) => l.split('@')[0]),
    ['hold', 'prepare', 'read socket', 'withdrawn 10.0.0.100'],
    'no advert, no VIP, no GARP',
  )
  t.is(s.sent.length, 0)
  t.is(s.garps.length, 0)
  await flush()
  t.deepEqual(transitions(s.up), ['INIT>BACKUP:startup'])
  t.is(s.clock.armed.length, 1, 'Master_Down armed again from the advert')
})

test('a member its sync group holds in BACKUP does not spin through the lead: its step waits for the deadline', async (t) => {
  const s = takeoverSetup()
  const deps = (s.inst as unknown as { d: InstanceDeps }).d
  deps.syncHold = () => true
  const now = deps.now
  let readsAtWake = 0
  deps.now = () => {
    if (s.clock.now() === WAKE) readsAtWake++
    return now()
  }
  await s.inst.start()
  s.log.length = 0
  s.clock.advanceTo(WAKE)
  t.deepEqual(s.log, [], 'nothing prepared: the held step sends nothing and adds no VIP')
  t.true(readsAtWake <= 3, `${readsAtWake} clock reads at the early wake-up (the lead's wait reads it ≥ 12 times)`)
  // armed is relative: the instance read its (spinning) clock twice, WAKE + 0.5, before arming
  t.deepEqual(s.clock.armed, [LEAD - 0.5], 'the step re-armed at its deadline, no lead')
  s.clock.advanceTo(DEADLINE)
  t.is(s.inst.role, 'BACKUP')
  t.is(s.sent.length, 0)
  t.deepEqual(s.clock.armed, [360.9375 - LEAD], 'held: Master_Down runs again from the deadline (woken a lead early)')
  await flush()
  t.deepEqual(transitions(s.up), ['INIT>BACKUP:startup'])
})

test('a held VIP addition the kernel refuses is still logged after the GARPs left', async (t) => {
  const logged: string[] = []
  const s = takeoverSetup({ log: (level, msg) => logged.push(`${level} ${msg}`) })
  const deps = (s.inst as unknown as { d: InstanceDeps }).d
  const add = deps.net.addVip
  deps.net.addVip = async (...a: Parameters<typeof add>) => {
    await add(...a)
    throw new Error('EADDRNOTAVAIL')
  }
  t.deepEqual((await wakeAndTakeOver(s)).slice(3, 6), ['advert', 'vip 10.0.0.100', 'garp'])
  await flush()
  t.true(logged.includes('error VIP change failed'), logged.join('; '))
})
