// A backup whose master's unchanged adverts the kernel sets aside (advert-filters.ts,
// advert-routing.ts): the instance must take the same decisions, at the same instants, as if it
// had read every advert at once. The "kernel" here runs the real filter programs on the BPF
// interpreter and queues each datagram where they say; the clock is the tier's virtual one.
import test from 'ava'
import { parseAddr } from '../../src/net/addr.js'
import type { ReceivedDatagram } from '../../src/sys/types.js'
import { masterDownMs, skewMs } from '../../src/vrrp/timers.js'
import type { RoutePrograms } from '../../src/vrrp/worker/advert-filters.js'
import { AdvertRouting } from '../../src/vrrp/worker/advert-routing.js'
import type { AsideTaken } from '../../src/vrrp/worker/side-queues.js'
import { runBpf } from '../helpers/bpf-run.js'
import { advert, newClock, setup, transitions } from './vrrp-instance-fakes.js'

/** The channel's three sockets: each datagram goes where the attached programs say. */
class FakeKernel {
  programs: RoutePrograms | undefined
  routed = 0
  readonly main: ReceivedDatagram[] = []
  readonly repeats: ReceivedDatagram[] = []
  readonly foreign: ReceivedDatagram[] = []
  queueDrops = 0
  route(p: RoutePrograms): void {
    this.programs = p
    this.routed++
  }
  takeAside(foreign: boolean): AsideTaken {
    const repeats = this.repeats.splice(0)
    if (!foreign) return { repeats, foreign: [], queueFull: 0 }
    const queueFull = this.queueDrops
    this.queueDrops = 0
    return { repeats, foreign: this.foreign.splice(0), queueFull }
  }
  /** Where `m` lands; `main` ones are handed to the poller at once. */
  arrive(m: ReceivedDatagram): 'main' | 'repeat' | 'foreign' {
    const p = this.programs
    const to = !p
      ? 'main'
      : runBpf(p.foreign, { data: m.data })
        ? 'foreign'
        : runBpf(p.repeat, { data: m.data })
          ? 'repeat'
          : 'main'
    if (p && to === 'main' && !runBpf(p.main, { data: m.data })) throw new Error('a packet no socket takes')
    if (to === 'repeat') this.repeats.push(m)
    else if (to === 'foreign') this.foreign.push(m)
    else this.main.push(m)
    return to
  }
}

function backup(over = {}) {
  const clock = newClock()
  const kernel = new FakeKernel()
  let routing: AdvertRouting | undefined
  const s = setup(
    { priority: 100, ...over },
    {
      aside: {
        catchUp: (all) => routing?.catchUp(all),
        expect: (m) => routing?.expect('web', m),
        forget: () => routing?.forget('web'),
      },
      // stamps are virtual ns; a datagram read late is trusted up to the age its queue allows
      receivedMsAgo: (ns: number, maxAgeMs?: number) => {
        const age = clock.now() - ns / 1e6
        return age >= 0 && age <= (maxAgeMs ?? 5) + 5 ? age : undefined
      },
    },
    clock,
  )
  routing = new AdvertRouting(
    4,
    { route: (p) => kernel.route(p), takeAside: (f) => kernel.takeAside(f) },
    {
      now: () => clock.now(),
      deliver: (m, maxAgeMs) => s.inst.receive(m, maxAgeMs),
      queueFull: (n) => s.inst.countQueueFull(n),
      failed: (err) => {
        throw err
      },
    },
  )
  routing.setVrids([51])
  const stamped = (m: ReceivedDatagram): ReceivedDatagram => ({ ...m, cmsg: { timestampNs: clock.now() * 1e6 } })
  /** One datagram on the wire now; what lands on the polled socket is read at once, as the poller would. */
  const wire = (m: ReceivedDatagram) => {
    const to = kernel.arrive(stamped(m))
    for (const x of kernel.main.splice(0)) s.inst.receive(x)
    return to
  }
  return { ...s, kernel, routing, wire }
}

const MASTER = 200

test('a master heard every 100 ms: one advert read, the rest set aside, no takeover in 10 s', async (t) => {
  const b = backup()
  await b.inst.start()
  const where: string[] = []
  for (let at = 1010; at <= 11_000; at += 100) {
    b.clock.advanceTo(at)
    where.push(b.wire(advert({ priority: MASTER })))
  }
  t.is(where[0], 'main')
  t.true(
    where.slice(1).every((w) => w === 'repeat'),
    where.join(','),
  )
  t.is(b.inst.role, 'BACKUP')
  t.deepEqual(transitions(b.up), ['INIT>BACKUP:startup'])
  t.true(b.kernel.repeats.length > 0, 'the last ones wait in their queue')
  b.routing.catchUp(true) // as the worker does before it reports counters
  t.is(b.inst.countersNow().rx, 100, 'every advert counted once read')
})

test('repeats that differ only in their IPv4 identification route once, not once per advert', async (t) => {
  const b = backup()
  await b.inst.start()
  const routed = b.kernel.routed
  for (let at = 1010, id = 1; at <= 3010; at += 100, id++) {
    b.clock.advanceTo(at)
    const m = advert({ priority: MASTER })
    m.data.writeUInt16BE(id, 4)
    b.wire(m)
  }
  b.routing.catchUp(true)
  t.is(b.kernel.routed - routed, 1, 'one route for the expectation')
  t.is(b.inst.countersNow().rx, 21)
})

test('the master falls silent: the takeover comes Master_Down_Interval after its last advert, to the ms', async (t) => {
  const b = backup()
  await b.inst.start()
  let last = 0
  for (let at = 1010; at <= 3010; at += 100) {
    b.clock.advanceTo(at)
    b.wire(advert({ priority: MASTER }))
    last = at
  }
  const due = last + masterDownMs(3, 100, 100)
  b.clock.advanceTo(due - 0.001)
  t.is(b.inst.role, 'BACKUP')
  b.clock.advanceTo(due)
  t.is(b.inst.role, 'MASTER')
  t.deepEqual(transitions(b.up).at(-1), 'BACKUP>MASTER:master_down')
})

test('a changed advert is read at once: priority 0 takes over after Skew_Time, not Master_Down_Interval', async (t) => {
  const b = backup()
  await b.inst.start()
  for (let at = 1010; at <= 2010; at += 100) {
    b.clock.advanceTo(at)
    b.wire(advert({ priority: MASTER }))
  }
  b.clock.advanceTo(2050)
  t.is(b.wire(advert({ priority: 0 })), 'main')
  b.clock.advanceTo(2050 + skewMs(3, 100, 100))
  t.is(b.inst.role, 'MASTER')
  t.is(transitions(b.up).at(-1), 'BACKUP>MASTER:priority_zero')
})

test('another step of the instance forgets the expectation first, after taking what was set aside', async (t) => {
  const b = backup()
  await b.inst.start()
  for (let at = 1010; at <= 1510; at += 100) {
    b.clock.advanceTo(at)
    b.wire(advert({ priority: MASTER }))
  }
  // Master_Down (360.9 ms) came due at 1370.9 and took the three before it
  t.is(b.kernel.repeats.length, 2)
  b.inst.setDelta('track:eth1', -10)
  t.is(b.kernel.repeats.length, 0, 'the repeats were read before the priority changed')
  t.is(b.inst.countersNow().rx, 6)
  b.clock.advanceTo(1610)
  t.is(b.wire(advert({ priority: MASTER })), 'main', 'nothing set aside any more')
  b.clock.advanceTo(1710)
  t.is(b.wire(advert({ priority: MASTER })), 'repeat', 'until the next advert accepted')
})

test('a lower-priority master under preempt is never set aside: the backup takes over on time', async (t) => {
  const b = backup()
  await b.inst.start()
  for (let at = 1010; at <= 2010; at += 100) {
    b.clock.advanceTo(at)
    t.is(b.wire(advert({ priority: 50 })), 'main')
  }
  t.is(b.inst.role, 'MASTER')
})

test("other routers' adverts are counted when counters are read, and what a full queue dropped", async (t) => {
  const b = backup()
  await b.inst.start()
  b.clock.advanceTo(1010)
  for (let i = 0; i < 7; i++) t.is(b.wire(advert({ priority: MASTER, vrid: 52 })), 'foreign')
  b.kernel.queueDrops = 3
  t.is(b.inst.countersNow().drops.vrid ?? 0, 0, 'not read yet')
  b.routing.catchUp(true)
  t.is(b.inst.countersNow().drops.vrid, 7)
  t.is(b.inst.countersNow().drops.queue_full, 3)
  t.like(
    b.up.find((m) => m.type === 'drop' && m.reason === 'vrid'),
    { from: '10.0.0.2' },
  )
  t.truthy(b.up.find((m) => m.type === 'drop' && m.reason === 'queue_full'))
})

test('a repeat whose stamp cannot be trusted counts from when it was read: later, never earlier', async (t) => {
  const b = backup()
  await b.inst.start()
  b.clock.advanceTo(1010)
  b.wire(advert({ priority: MASTER }))
  b.clock.advanceTo(1110)
  // a stamp 10 s in the future: the wall clock stepped back since
  b.kernel.repeats.push({ ...advert({ priority: MASTER }), cmsg: { timestampNs: (b.clock.now() + 10_000) * 1e6 } })
  const due = 1010 + masterDownMs(3, 100, 100)
  b.clock.advanceTo(due)
  t.is(b.inst.role, 'BACKUP', 'the repeat was read at the deadline and counted from then')
  b.clock.advanceTo(due + masterDownMs(3, 100, 100))
  t.is(b.inst.role, 'MASTER')
})

test('the same sender from another address is read at once', async (t) => {
  const b = backup()
  await b.inst.start()
  b.clock.advanceTo(1010)
  b.wire(advert({ priority: MASTER }))
  b.clock.advanceTo(1110)
  t.is(b.wire(advert({ priority: MASTER, src: parseAddr('10.0.0.3') })), 'main')
})

test('the foreign queue is read before it fills, at the pace of what arrives, even with nobody asking', (t) => {
  const clock = newClock()
  const kernel = new FakeKernel()
  const reads: { at: number; queued: number }[] = []
  const routing = new AdvertRouting(
    4,
    {
      route: (p) => kernel.route(p),
      takeAside: (f) => {
        if (f) reads.push({ at: clock.now(), queued: kernel.foreign.length })
        return kernel.takeAside(f)
      },
    },
    { now: () => clock.now(), deliver: () => {}, queueFull: () => {}, failed: () => {}, timers: clock },
  )
  routing.setVrids([51])
  clock.advanceTo(61_000)
  t.deepEqual(
    reads.map((r) => r.at),
    [21_000, 41_000, 61_000],
    'nothing arrives: every 20 s',
  )
  // another router at 10 adverts a second: half the queue (128) takes 12.8 s
  for (let at = 61_000; at < 181_000; at += 100) {
    clock.advanceTo(at)
    kernel.arrive(advert({ priority: 100, vrid: 60 }))
  }
  const later = reads.filter((r) => r.at > 81_000)
  t.true(later.length >= 5, `reads at ${reads.map((r) => r.at).join(', ')}`)
  for (let i = 1; i < later.length; i++) {
    const gap = (later[i]?.at ?? 0) - (later[i - 1]?.at ?? 0)
    t.true(gap >= 12_700 && gap <= 12_900, `gap ${gap}`)
  }
  t.true(
    reads.every((r) => r.queued <= 201),
    `queued at reads: ${reads.map((r) => r.queued).join(', ')}`,
  )
  routing.close()
  const n = reads.length
  clock.advanceTo(400_000)
  t.is(reads.length, n, 'closed: no more reads')
})
