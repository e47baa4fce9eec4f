// One channel's routing of adverts (advert-filters.ts) kept in step with its instances (the VRIDs
// they run, the advert each one in BACKUP accepted last), and the catch-up that hands what the kernel
// set aside to the instances whenever their state must be current: before any step they take, when
// a Master_Down timer comes due, when counters are read. Where the channel runs one instance, its
// Master_Down is read over the repeat queue in C++ (native/silence.cc): a repeat moves the deadline
// without waking JavaScript, and only a deadline that passes in silence does.
import type { Timers } from '../../clock.js'
import type { SilenceEvents } from '../../sys/silence-timer.js'
import type { ReceivedDatagram } from '../../sys/types.js'
import type * as fsm from '../fsm.js'
import { type Expected, expectable, type RoutePrograms, routePrograms } from './advert-filters.js'
import type { AdvertEvent } from './advert-intake.js'
import type { AsideTaken } from './side-queues.js'
import { arrival, type Silence } from './sockets.js'

/** The channel's side of it: Channel, or a fake. */
export interface RoutedChannel {
  route(p: RoutePrograms): void
  takeAside(all: boolean): AsideTaken
  /** The repeat queue's silence timer (Channel.silence); absent or undefined: host timers only. */
  silence?(events: SilenceEvents): Silence | undefined
}

export interface RoutingHost {
  /** Monotonic ms. */
  now(): number
  /**
   * Hands a datagram that was set aside to the channel's instances. It reached the host at most
   * `maxAgeMs` ago (since the queues were last emptied), which bounds what its kernel stamp may say;
   * it stands for `copies` identical ones (the silence timer keeps only the newest it read).
   */
  deliver(m: ReceivedDatagram, maxAgeMs: number, repeat: boolean, copies: number): void
  /** Packets the kernel dropped from the channel's full queues: each instance counts them. */
  queueFull(n: number): void
  /** The routes could not be set: everything stays on the polled socket from now on. */
  failed(err: unknown): void
  /**
   * For reading the foreign queue before it fills even when nothing else reads it (an idle master
   * whose counters nobody asks for). Absent: read only when asked.
   */
  timers?: Timers
}

/**
 * The foreign queue holds about 256 small adverts (the default receive buffer); it is read when
 * half of that can have arrived at the rate seen since the last read, within these bounds (at
 * most 20 s: a router at 100 ms appearing on an idle segment fills 200 of the 256 before the
 * pace adapts). An idle master pays three wake-ups a minute for it.
 */
const FOREIGN_QUEUE_HALF = 128
const FOREIGN_READ_MS = { min: 1000, max: 20_000 }

/** When the advert an expectation repeats was heard, and the Master_Down deadline it set. */
export interface ExpectTiming {
  heardMs: number
  downAtMs: number
}

/** A Master_Down host timer handed to the silence timer (HostTimers). */
export interface SilenceWatch {
  /** The deadline and how much earlier the host timer fires. */
  atMs: number
  leadMs: number
  /** The deadline (as the silence timer moved it) passed in silence: catch up, then fire. */
  onDue(): void
  /** The silence timer cannot watch it any more: a host timer takes the deadline back. */
  onRevoke(): void
}

/** What an instance's handle does: Instance's `aside` dependency. */
export interface AsideHandle {
  /** Hands over the repeats set aside; `all`: the foreign adverts too (to count them). */
  catchUp(all?: boolean): void
  /** The datagram just accepted, heard and moving Master_Down as `timing` says: set its exact repeats aside. */
  expect(m: ReceivedDatagram, timing?: ExpectTiming): void
  forget(): void
  /** Master_Down read over the repeat queue in C++: false when it cannot be (a host timer then). */
  watch(w: SilenceWatch): boolean
  unwatch(): void
}

/** The exact-repeat pattern of an accepted datagram, or undefined when it cannot be one. */
export function expectedOf(family: 4 | 6, m: ReceivedDatagram): Expected | undefined {
  if (family === 4) {
    if (m.data.length < 20) return undefined
    const total = m.data.readUInt16BE(2)
    if (total > m.data.length) return undefined
    const datagram = Uint8Array.from(m.data.subarray(0, total))
    // the identification and header checksum change with every datagram and are not compared:
    // zeroed, so the same advert again is the same expectation (not a new route per advert)
    datagram.fill(0, 4, 6)
    datagram.fill(0, 10, 12)
    return { family: 4, datagram }
  }
  const rx = arrival(6, m)
  if (!rx || rx.family !== 6 || rx.hopLimit !== 255) return undefined
  return { family: 6, payload: Uint8Array.from(m.data), src: rx.src.bytes, dst: rx.dst.bytes }
}

const keyOf = (e: Expected): string =>
  e.family === 4
    ? Buffer.from(e.datagram).toString('hex')
    : `${Buffer.from(e.src).toString('hex')}/${Buffer.from(e.dst).toString('hex')}/${Buffer.from(e.payload).toString('hex')}`

export class AdvertRouting {
  private vrids: number[] = []
  private readonly expected = new Map<string, { key: string; e: Expected; timing: ExpectTiming | undefined }>()
  /** When the side queues were last emptied (monotonic ms): the foreign one, the repeat one. */
  private takenAt: { foreign: number; repeats: number }
  /** An exact repeat may be queued: something was expected since the repeat queue was last read. */
  private mayHoldRepeats = false
  private taking = false
  private broken = false
  private foreignTimer: unknown
  /** The repeat queue's silence timer, opened at the first watch. */
  private silenceTimer: Silence | undefined
  /** The instance whose Master_Down the silence timer holds. */
  private watching: { name: string; w: SilenceWatch } | undefined

  constructor(
    private readonly family: 4 | 6,
    private readonly channel: RoutedChannel,
    private readonly host: RoutingHost,
  ) {
    const now = host.now()
    this.takenAt = { foreign: now, repeats: now }
  }

  /** The VRIDs of the channel's instances: adverts of any other VRID go aside, to be counted later. */
  setVrids(vrids: readonly number[]): void {
    const next = [...new Set(vrids)].sort((a, b) => a - b)
    if (next.length === this.vrids.length && next.every((v, i) => v === this.vrids[i])) return
    this.vrids = next
    this.apply()
    if (this.foreignTimer === undefined) this.scheduleForeignRead(0, 1)
  }

  /** A handle for one instance, by its name. */
  handle(name: string): AsideHandle {
    return {
      catchUp: (all) => this.catchUp(all),
      expect: (m, timing) => this.expect(name, m, timing),
      forget: () => this.forget(name),
      watch: (w) => this.watch(name, w),
      unwatch: () => this.unwatch(name),
    }
  }

  expect(name: string, m: ReceivedDatagram, timing?: ExpectTiming): void {
    const e = expectedOf(this.family, m)
    if (!e || !expectable(e)) {
      this.forget(name)
      return
    }
    const key = keyOf(e)
    const was = this.expected.get(name)
    if (was?.key === key) {
      was.timing = timing
      return
    }
    this.expected.set(name, { key, e, timing })
    this.mayHoldRepeats = true
    this.apply()
  }

  forget(name: string): void {
    if (this.expected.delete(name)) this.apply()
  }

  /** No repeat is expected: each instance's next advert is read and checked before it is again. */
  forgetAll(): void {
    if (this.expected.size === 0) return
    this.expected.clear()
    this.apply()
  }

  /**
   * Hands the repeats set aside to the instances (their timers depend on them) and, with `all`,
   * the foreign adverts (only counted: read when counters are, or a Master_Down timer comes due).
   * Reads nothing when no repeat can be queued, so a flood on the polled socket costs no more.
   */
  catchUp(all = false): void {
    if (this.taking) return // a delivery's own step asks again: already under way
    if (!all && !this.mayHoldRepeats) return
    this.taking = true
    try {
      const now = this.host.now()
      const repeatsAge = now - this.takenAt.repeats
      const foreignAge = now - this.takenAt.foreign
      let taken: AsideTaken
      try {
        taken = this.channel.takeAside(all)
      } catch (err) {
        this.fail(err)
        return
      }
      this.takenAt.repeats = now
      this.mayHoldRepeats = this.expected.size > 0
      if (all) {
        this.takenAt.foreign = now
        this.scheduleForeignRead(taken.foreign.length + taken.queueFull, foreignAge)
      }
      if (taken.queueFull > 0) this.host.queueFull(taken.queueFull)
      let copies = 1 + taken.skipped
      for (const m of taken.repeats) {
        this.host.deliver(m, repeatsAge, true, copies)
        copies = 1
      }
      for (const m of taken.foreign) this.host.deliver(m, foreignAge, false, 1)
    } finally {
      this.taking = false
    }
  }

  /** The next read of the foreign queue, from the rate of the `n` adverts of the last `ms`. */
  private scheduleForeignRead(n: number, ms: number): void {
    const t = this.host.timers
    if (!t || this.vrids.length === 0) return
    if (this.foreignTimer !== undefined) t.clear(this.foreignTimer)
    const rate = n / Math.max(ms, 1)
    const wait = rate > 0 ? FOREIGN_QUEUE_HALF / rate : FOREIGN_READ_MS.max
    this.foreignTimer = t.set(
      () => {
        this.foreignTimer = undefined
        this.catchUp(true)
      },
      Math.min(FOREIGN_READ_MS.max, Math.max(FOREIGN_READ_MS.min, wait)),
    )
  }

  /** Stops the foreign queue's reads and the silence timer (the channel closes). */
  close(): void {
    if (this.foreignTimer !== undefined) this.host.timers?.clear(this.foreignTimer)
    this.foreignTimer = undefined
    this.watching = undefined
    this.silenceTimer?.disarm()
  }

  /**
   * Hands `name`'s Master_Down to the silence timer: only where the channel runs that one
   * instance (every repeat is then its master's) and the deadline counts from the advert it
   * expects. The repeat queue was last emptied at takenAt.repeats: nothing read later is older.
   */
  private watch(name: string, w: SilenceWatch): boolean {
    if (!this.watchable(name)) return false
    const timing = this.expected.get(name)?.timing
    // a deadline from another step than the expected advert's (a sync group's hold) is not watched
    if (!timing || timing.downAtMs !== w.atMs) return false
    const extendMs = timing.downAtMs - timing.heardMs - w.leadMs
    if (extendMs < 1) return false
    // opened with the side queues (the first route), so asked again until there is one
    this.silenceTimer ??= this.channel.silence?.({
      due: () => {
        const was = this.watching
        this.watching = undefined
        was?.w.onDue()
      },
      failed: (err) => this.fail(err),
    })
    if (!this.silenceTimer) return false
    this.silenceTimer.arm(w.atMs - w.leadMs, extendMs, timing.heardMs, this.takenAt.repeats, this.host.now())
    this.watching = { name, w }
    return true
  }

  private unwatch(name: string): void {
    if (this.watching?.name !== name) return
    this.watching = undefined
    this.silenceTimer?.disarm()
  }

  private watchable(name: string): boolean {
    return !this.broken && this.vrids.length === 1 && this.expected.size === 1 && this.expected.has(name)
  }

  /** After any change of routes: a watch that no longer qualifies goes back to a host timer. */
  private recheckWatch(): void {
    const was = this.watching
    if (!was || this.watchable(was.name)) return
    this.watching = undefined
    this.silenceTimer?.disarm()
    was.w.onRevoke()
  }

  private apply(): void {
    if (this.broken) return
    try {
      this.recheckWatch()
      const expected = [...this.expected.values()].map((x) => x.e)
      let programs: RoutePrograms
      try {
        programs = routePrograms({ family: this.family, vrids: this.vrids, expected })
      } catch {
        // an expectation too long to compare: route the foreign ones only
        programs = routePrograms({ family: this.family, vrids: this.vrids, expected: [] })
      }
      this.channel.route(programs)
    } catch (err) {
      this.fail(err)
    }
  }

  private fail(err: unknown): void {
    if (this.broken) return
    this.broken = true
    this.expected.clear()
    this.recheckWatch()
    try {
      // nothing aside any more: the polled socket takes everything, as without routing
      this.channel.route(routePrograms({ family: this.family, vrids: [], expected: [] }))
    } catch {}
    this.host.failed(err)
  }
}

/**
 * Whether an exact repeat of advert `e` would do what it just did: re-arm Master_Down in BACKUP and
 * nothing else. Any other step forgets the expectation (a changed priority, a preempt window, a
 * transition), so a repeat taken later is applied to the same state as the one it repeats.
 */
export function repeatable(before: fsm.FsmState, after: fsm.FsmState, e: AdvertEvent): boolean {
  return (
    before.role === 'BACKUP' &&
    after.role === 'BACKUP' &&
    e.priority > 0 &&
    after.preemptWindow === 'none' &&
    after.timers.masterDown !== undefined &&
    after.timers.masterDown !== before.timers.masterDown
  )
}
