// A backup whose master's unchanged adverts the kernel sets aside (advert-filters.ts,
// advert-routing.ts): the instance must take the same decisions, at the same instants, as if it
// had read every advert at once. The "kernel" here runs the real filter programs on the BPF
// interpreter and queues each datagram where they say; the clock is the tier's virtual one. With
// `silence`, Master_Down is read over the repeat queue by a model of native/silence.cc on that
// clock (the addon itself is tested on real sockets in the netns tier).
import test from 'ava'
import { parseAddr } from '../../src/net/addr.js'
import type { SilenceEvents, SilenceTaken } from '../../src/sys/silence-timer.js'
import type { ReceivedDatagram } from '../../src/sys/types.js'
import { masterDownMs, skewMs } from '../../src/vrrp/timers.js'
import type { RoutePrograms } from '../../src/vrrp/worker/advert-filters.js'
import { AdvertRouting } from '../../src/vrrp/worker/advert-routing.js'
import type { AsideTaken } from '../../src/vrrp/worker/side-queues.js'
import { runBpf } from '../helpers/bpf-run.js'
import type { VirtualClock } from '../helpers/virtual-clock.js'
import { advert, newClock, setup, transitions } from './vrrp-instance-fakes.js'

/** The channel's three sockets: each datagram goes where the attached programs say. */
class FakeKernel {
  programs: RoutePrograms | undefined
  routed = 0
  readonly main: ReceivedDatagram[] = []
  readonly repeats: ReceivedDatagram[] = []
  readonly foreign: ReceivedDatagram[] = []
  queueDrops = 0
  silence: FakeSilence | undefined
  route(p: RoutePrograms): void {
    this.programs = p
    this.routed++
  }
  /** As SideQueues.take: what the silence timer kept comes first, the ones it read before it are counted. */
  takeAside(foreign: boolean): AsideTaken {
    const held = this.silence?.take()
    const repeats = this.repeats.splice(0)
    let skipped = 0
    if (held?.newest) {
      repeats.unshift(held.newest)
      skipped = held.count - 1
    }
    if (!foreign) return { repeats, skipped, foreign: [], queueFull: 0 }
    const queueFull = this.queueDrops
    this.queueDrops = 0
    return { repeats, skipped, foreign: this.foreign.splice(0), queueFull }
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

/**
 * native/silence.cc on the virtual clock: at each deadline it reads the repeat queue; the newest
 * datagram's arrival (its stamp, if its queue's age allows it) + extend is the next deadline, and
 * only a deadline passing with nothing read calls back.
 */
class FakeSilence {
  private timer: unknown
  private extend = 0
  private heard = 0
  private since = 0
  private held: ReceivedDatagram | undefined
  private count = 0
  expiries = 0
  moved = 0
  dueCalls = 0

  constructor(
    private readonly kernel: FakeKernel,
    private readonly clock: VirtualClock,
    private readonly events: SilenceEvents,
  ) {}

  get armed(): boolean {
    return this.timer !== undefined
  }

  arm(dueMs: number, extendMs: number, heardMs: number, sinceMs: number): void {
    this.disarm()
    Object.assign(this, { extend: extendMs, heard: heardMs, since: sinceMs })
    this.timer = this.clock.set(() => this.expired(), dueMs - this.clock.now())
  }

  disarm(): void {
    if (this.timer !== undefined) this.clock.clear(this.timer)
    this.timer = undefined
  }

  take(): SilenceTaken {
    const out = { count: this.count, newest: this.count > 0 ? this.held : undefined }
    this.count = 0
    return out
  }

  private expired(): void {
    this.timer = undefined
    this.expiries++
    const now = this.clock.now()
    let heard: number | undefined
    for (const m of this.kernel.repeats.splice(0)) {
      this.held = m
      this.count++
      const age = now - (m.cmsg.timestampNs ?? Number.NaN) / 1e6
      heard = age >= 0 && age <= now - this.since + 5 ? now - age : now
    }
    this.since = now
    if (heard !== undefined) {
      heard = Math.max(heard, this.heard)
      if (heard + this.extend > now) {
        this.heard = heard
        this.moved++
        this.timer = this.clock.set(() => this.expired(), heard + this.extend - now)
        return
      }
    }
    this.dueCalls++
    this.events.due()
  }
}

function backup(over = {}, opts: { silence?: boolean } = {}) {
  const clock = newClock()
  const kernel = new FakeKernel()
  let routing: AdvertRouting | undefined
  /** Datagrams handed to the instance: each one an entry into JavaScript's advert path. */
  let delivered = 0
  const s = setup(
    { priority: 100, ...over },
    {
      aside: {
        catchUp: (all) => routing?.catchUp(all),
        expect: (m, timing) => routing?.expect('web', m, timing),
        forget: () => routing?.forget('web'),
        watch: (w) => routing?.handle('web').watch(w) ?? false,
        unwatch: () => routing?.handle('web').unwatch(),
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
    {
      route: (p) => kernel.route(p),
      takeAside: (f) => kernel.takeAside(f),
      ...(opts.silence
        ? {
            silence: (events: SilenceEvents) => {
              kernel.silence ??= new FakeSilence(kernel, clock, events)
              return kernel.silence
            },
          }
        : {}),
    },
    {
      now: () => clock.now(),
      deliver: (m, maxAgeMs, repeat, copies) => {
        delivered++
        s.inst.receive(m, maxAgeMs, repeat, copies)
      },
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
    for (const x of kernel.main.splice(0)) {
      delivered++
      s.inst.receive(x)
    }
    return to
  }
  return {
    ...s,
    /** The host's addresses (setup's fake kernel address table). */
    hostAddrs: s.kernel,
    kernel,
    routing,
    wire,
    get delivered() {
      return delivered
    },
  }
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
    {
      now: () => clock.now(),
      deliver: () => {},
      queueFull: () => {},
      failed: () => {},
      timers: clock,
    },
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

/** The master at 100 ms from 1010 to `until`, each advert on the wire in turn. */
function masterUntil(b: ReturnType<typeof backup>, until: number, from = 1010): number {
  let last = from
  for (let at = from; at <= until; at += 100) {
    b.clock.advanceTo(at)
    b.wire(advert({ priority: MASTER }))
    last = at
  }
  return last
}

test('silence timer: 10 s of repeats enter JavaScript for the first advert only, and every one is counted', async (t) => {
  const b = backup({}, { silence: true })
  await b.inst.start()
  masterUntil(b, 10_910)
  const silence = b.kernel.silence
  if (!silence) throw new Error('the routing never asked for the silence timer')
  t.is(b.delivered, 1, 'one advert read; the rest moved Master_Down in C++')
  t.is(silence.dueCalls, 0)
  t.true(silence.moved >= 30, `${silence.moved} deadlines moved`)
  t.is(b.inst.role, 'BACKUP')
  b.routing.catchUp(true)
  t.is(b.inst.countersNow().rx, 100, 'the kept one handed over, the others it read counted')
  t.true(silence.armed, 'watching again after the catch-up')
})

test('silence timer: the master falls silent and the takeover comes Master_Down_Interval after its last advert, to the ms', async (t) => {
  const b = backup({}, { silence: true })
  await b.inst.start()
  const last = masterUntil(b, 5010)
  const due = last + masterDownMs(3, 100, 100)
  b.clock.advanceTo(due - 0.001)
  t.is(b.inst.role, 'BACKUP')
  b.clock.advanceTo(due)
  t.is(b.inst.role, 'MASTER')
  t.is(transitions(b.up).at(-1), 'BACKUP>MASTER:master_down')
  t.is(b.kernel.silence?.dueCalls, 1)
  t.false(b.kernel.silence?.armed, 'a master watches nothing')
  t.is(b.inst.countersNow().rx, 41)
})

test('silence timer: a second VRID on the channel hands Master_Down back to a host timer, still to the ms', async (t) => {
  const b = backup({}, { silence: true })
  await b.inst.start()
  masterUntil(b, 2010)
  t.true(b.kernel.silence?.armed)
  b.routing.setVrids([51, 52])
  t.false(b.kernel.silence?.armed, 'repeats of two routers cannot be told apart in C++')
  const last = masterUntil(b, 4010, 2110)
  t.true(b.delivered > 3, 'repeats handed over at each Master_Down')
  const due = last + masterDownMs(3, 100, 100)
  b.clock.advanceTo(due - 0.001)
  t.is(b.inst.role, 'BACKUP')
  b.clock.advanceTo(due)
  t.is(b.inst.role, 'MASTER')
})

test('silence timer: a repeat refused when handed over (its source became ours) stops moving Master_Down', async (t) => {
  const b = backup({}, { silence: true })
  await b.inst.start()
  masterUntil(b, 2010)
  // the master's address is on this host now: its adverts are dropped as our own
  b.hostAddrs.push(parseAddr('10.0.0.2'))
  b.clock.advanceTo(2060)
  b.routing.catchUp(true)
  t.true((b.inst.countersNow().drops.own ?? 0) >= 1)
  t.false(b.kernel.silence?.armed, 'the expectation is forgotten and Master_Down back on a host timer')
  masterUntil(b, 3010, 2110)
  t.is(b.inst.role, 'MASTER', 'taken over while the refused adverts went on')
  const takeover = b.up.find((m) => m.type === 'transition' && m.to === 'MASTER')
  t.truthy(takeover)
})

test('silence timer: forgetting every expectation (the host addresses changed) reads the next advert at once', async (t) => {
  const b = backup({}, { silence: true })
  await b.inst.start()
  masterUntil(b, 2010)
  // as SharedChannel.recheck: what was read is handed over (and checked), then nothing is expected
  b.routing.catchUp(true)
  b.routing.forgetAll()
  t.false(b.kernel.silence?.armed)
  b.clock.advanceTo(2110)
  t.is(b.wire(advert({ priority: MASTER })), 'main')
  b.clock.advanceTo(2210)
  t.is(b.wire(advert({ priority: MASTER })), 'repeat')
  t.true(b.kernel.silence?.armed, 'watched again from the advert read')
  const due = 2210 + masterDownMs(3, 100, 100)
  b.clock.advanceTo(due)
  t.is(b.inst.role, 'MASTER')
})

test('silence timer: a changed advert hands over what was read first, then priority 0 takes over after Skew_Time', async (t) => {
  const b = backup({}, { silence: true })
  await b.inst.start()
  masterUntil(b, 2010)
  t.true((b.kernel.silence?.moved ?? 0) > 0)
  b.clock.advanceTo(2050)
  t.is(b.wire(advert({ priority: 0 })), 'main')
  t.is(b.inst.countersNow().rx, 12, 'the eleven before it counted first')
  t.false(b.kernel.silence?.armed)
  b.clock.advanceTo(2050 + skewMs(3, 100, 100) - 0.001)
  t.is(b.inst.role, 'BACKUP')
  b.clock.advanceTo(2050 + skewMs(3, 100, 100))
  t.is(b.inst.role, 'MASTER')
  t.is(transitions(b.up).at(-1), 'BACKUP>MASTER:priority_zero')
})
