// A master's routine adverts on the pacer (InstanceDeps.pace; native/pacer.cc in the worker): the
// instance starts it when the machine arms Adver_Timer, restarts it when what it sends changes,
// stops it with the timer, and counts what it sent. The pacer here is a fake on the tier's virtual
// clock that sends as the native one does: each round an interval after the last.
import test from 'ava'
import type { Addr } from '../../src/net/addr.js'
import type { PacerEvents, PacerStats } from '../../src/sys/pacer.js'
import type { Up } from '../../src/vrrp/messages.js'
import { decode } from '../../src/vrrp/packet.js'
import type { AdvertPace } from '../../src/vrrp/worker/sockets.js'
import type { VirtualClock } from '../helpers/virtual-clock.js'
import { advert, newClock, setup } from './vrrp-instance-fakes.js'

interface Round {
  at: number
  priority: number
  to: Addr
  auth: string
}

class FakePace implements AdvertPace {
  readonly rounds: Round[] = []
  readonly starts: { first: number; interval: number; priorities: number[] }[] = []
  stops = 0
  closed = false
  failStart = false
  events: PacerEvents | undefined
  private timer: number | undefined
  private next: number | undefined
  private readonly s: PacerStats = { sent: 0, errors: 0, lateRounds: 0, maxLateMs: 0 }
  constructor(private readonly clock: VirtualClock) {}
  start(packets: Buffer[], targets: Addr[], firstIn: number, interval: number): void {
    if (this.failStart) throw new Error('EBADF')
    const first = this.clock.now() + firstIn
    this.stop()
    this.stops--
    const prio = packets.map((p) => decode(p, 0, 4).value.priority)
    this.starts.push({ first, interval, priorities: prio })
    const round = () => {
      const now = this.clock.now()
      packets.forEach((p, i) => {
        const v = decode(p, 0, 4).value
        this.rounds.push({ at: now, priority: v.priority, to: targets[i] as Addr, auth: authOf(p) })
        this.s.sent++
      })
      this.next = now + interval
      this.timer = this.clock.set(round, interval)
    }
    this.next = first
    this.timer = this.clock.set(round, first - this.clock.now())
  }
  stop(): void {
    this.stops++
    if (this.timer !== undefined) this.clock.clear(this.timer)
    this.timer = undefined
    this.next = undefined
  }
  get nextInMs(): number | undefined {
    return this.next === undefined ? undefined : this.next - this.clock.now()
  }
  stats(): PacerStats {
    return { ...this.s }
  }
  close(): void {
    this.stop()
    this.closed = true
  }
  late(ms: number): void {
    this.s.lateRounds++
    this.s.maxLateMs = Math.max(this.s.maxLateMs, ms)
    this.events?.late(ms)
  }
}

/** A v2 advert's authentication data (its password, NUL-padded), as text. */
const authOf = (p: Buffer) =>
  p[0] === 0x21
    ? p
        .subarray(p.length - 8)
        .toString()
        .replace(/\0+$/, '')
    : ''

function paced(over = {}) {
  const clock = newClock()
  const pace = new FakePace(clock)
  const s = setup(
    over,
    {
      pace: (events: PacerEvents) => {
        pace.events = events
        return pace
      },
    },
    clock,
  )
  return { ...s, pace }
}

const lates = (up: Up[]) => up.filter((m) => m.type === 'late')

test('becoming master: the first advert from the takeover, every later one from the pacer', async (t) => {
  const s = paced()
  await s.inst.start()
  t.deepEqual(s.pace.starts, [], 'a backup paces nothing')
  s.clock.advanceTo(1361)
  t.is(s.inst.role, 'MASTER')
  t.is(s.sent.length, 1, "the takeover's advert leaves from JavaScript")
  t.deepEqual(
    s.pace.starts.map((x) => ({ ...x, first: Math.round(x.first) })),
    [{ first: 1461, interval: 100, priorities: [100] }],
  )
  s.clock.advanceTo(1361 + 5000)
  t.is(s.sent.length, 1, 'no routine advert from JavaScript')
  t.is(s.pace.rounds.length, 50)
  t.deepEqual(
    s.pace.rounds.slice(0, 3).map((r) => Math.round(r.at)),
    [1461, 1561, 1661],
  )
  t.is(s.inst.countersNow().tx, 51, 'the counters hold both')
})

test('a priority change: advertised at once from JavaScript, then paced at the new priority only', async (t) => {
  const s = paced()
  await s.inst.start()
  s.clock.advanceTo(1361)
  s.clock.advanceTo(1400)
  s.inst.setDelta('track:eth1', -30)
  t.is(s.sent.at(-1)?.priority, 70)
  t.deepEqual(s.pace.starts.at(-1), { first: 1500, interval: 100, priorities: [70] })
  s.clock.advanceTo(2000)
  t.true(s.pace.rounds.filter((r) => r.at > 1400).every((r) => r.priority === 70))
  t.deepEqual(
    s.pace.rounds.filter((r) => r.at > 1400).map((r) => r.at),
    [1500, 1600, 1700, 1800, 1900, 2000],
  )
})

test('stepping down stops the pacer before anything else is sent', async (t) => {
  const s = paced()
  await s.inst.start()
  s.clock.advanceTo(1361)
  s.clock.advanceTo(1500)
  s.inst.receive(advert({ priority: 200 }))
  t.is(s.inst.role, 'BACKUP')
  const rounds = s.pace.rounds.length
  t.is(s.pace.nextInMs, undefined)
  // the peer then falls silent: until its Master_Down_Interval (361 ms) nothing is paced
  s.clock.advanceTo(1500 + 360)
  t.is(s.inst.role, 'BACKUP')
  t.is(s.pace.rounds.length, rounds, 'no paced advert after the step-down')
})

test('shutdown of a paced master: the pacer stopped and closed, the goodbye sent', async (t) => {
  const s = paced()
  await s.inst.start()
  s.clock.advanceTo(1361)
  s.clock.advanceTo(1450)
  await s.inst.shutdown()
  t.true(s.pace.closed)
  t.is(s.sent.at(-1)?.priority, 0)
  const rounds = s.pace.rounds.length
  s.clock.advanceTo(2000)
  t.is(s.pace.rounds.length, rounds)
})

test('a reload that changes only the password restarts the pacer in phase with the new adverts', async (t) => {
  const s = paced({ version: 2, advertMs: 1000, auth: { type: 1, password: 'old' } })
  await s.inst.start()
  s.clock.advanceTo(1000 + 3700)
  t.is(s.inst.role, 'MASTER')
  const phase = s.pace.starts.at(-1)?.first as number
  s.clock.advanceTo(phase + 300)
  s.inst.reconfigure({ ...s.inst.cfg, auth: { type: 1, password: 'new' } })
  t.is(s.pace.starts.at(-1)?.first, phase + 1000, 'the next round where it was due')
  s.clock.advanceTo(phase + 2000)
  t.deepEqual(
    s.pace.rounds.map((r) => [r.at - phase, r.auth]),
    [
      [0, 'old'],
      [1000, 'new'],
      [2000, 'new'],
    ],
  )
})

test("the pacer's late rounds reach the main thread and the counters", async (t) => {
  const s = paced()
  await s.inst.start()
  s.clock.advanceTo(1361)
  s.pace.late(72.34)
  t.deepEqual(lates(s.up), [{ type: 'late', instance: 'web', lateMs: 72.3 }])
  t.is(s.inst.countersNow().lateAdverts, 1)
  t.true(s.inst.countersNow().maxLateMs >= 72)
})

test('a pacer that cannot start hands Adver_Timer back to the host timer: adverts go on', async (t) => {
  const s = paced()
  s.pace.failStart = true
  await s.inst.start()
  s.clock.advanceTo(1361)
  s.clock.advanceTo(1361 + 1000)
  t.is(s.sent.length, 11, 'the takeover advert and one every 100 ms from JavaScript')
  t.is(s.pace.rounds.length, 0)
  t.true(s.pace.closed)
})

test('a pacer whose helper process is lost or unavailable warns once, with why, and keeps the rounds', async (t) => {
  const logs: { level: string; msg: string; fields: Record<string, unknown> }[] = []
  const clock = newClock()
  const pace = new FakePace(clock)
  const s = setup(
    {},
    {
      pace: (events: PacerEvents) => {
        pace.events = events
        return pace
      },
      log: (level: string, msg: string, fields: Record<string, unknown>) => logs.push({ level, msg, fields }),
    },
    clock,
  )
  await s.inst.start()
  s.clock.advanceTo(1361)
  pace.events?.inProcess?.({ status: 9 })
  pace.events?.inProcess?.({ err: new Error('spawn: ENOENT') })
  const warns = logs.filter((l) => l.msg.startsWith('advert pacer helper unavailable'))
  t.is(warns.length, 1)
  t.deepEqual(warns[0], {
    level: 'warn',
    msg: 'advert pacer helper unavailable: adverts sent from the VRRP worker',
    fields: { vrrp: 'web', status: 9 },
  })
  s.clock.advanceTo(1361 + 1000)
  t.is(pace.rounds.length, 10, 'the rounds stay with the pacer')
  t.is(s.sent.length, 1, 'none from JavaScript')
})
