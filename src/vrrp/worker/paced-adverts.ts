// A master's Adver_Timer on the native pacer (native/pacer.cc, Channel.pacer): the routine adverts
// then leave from C++ without waking JavaScript, which on the reference machine costs ~0.4 ms of
// CPU a wake-up (docs/benchmarks.md, "the floor of one wake-up a second"). The state machine keeps
// arming Adver_Timer as RFC 5798 says; a deadline it arms starts the pacer there, and the deadline
// then stays where it was armed while the pacer goes on: only a new deadline is a new rhythm.
import type { Addr } from '../../net/addr.js'
import type { PacerEvents } from '../../sys/pacer.js'
import type * as fsm from '../fsm.js'
import type { Counters } from '../messages.js'
import type { AdvertPackets } from './advert-packets.js'
import type { AdvertPace } from './sockets.js'

export interface PacedAdvertsDeps {
  adverts: Pick<AdvertPackets, 'at' | 'targets'>
  /** The machine's clock (ms; performance.now() in the worker, not the pacer's CLOCK_MONOTONIC). */
  now(): number
  /** The priority the machine advertises now. */
  priority(): number
  advertMs(): number
  warnOnce(key: string, msg: string, fields: Record<string, unknown>): void
  /** A round left more than half an interval late (ms late). */
  late(lateMs: number): void
}

export class PacedAdverts {
  /** What the pacer was started with: the machine's Adver_Timer deadline and the adverts. */
  private paced: { at: number; packets: ReadonlyArray<Buffer | undefined> } | undefined
  /** The pacer could not start: closed, and Adver_Timer is the host timers' from then on. */
  private broken = false
  private readonly pace: AdvertPace

  constructor(
    open: (events: PacerEvents) => AdvertPace,
    private readonly d: PacedAdvertsDeps,
  ) {
    this.pace = open({
      late: (lateMs) => d.late(lateMs),
      failed: (err) => d.warnOnce('send', 'advert send failed', { err: String(err) }),
      inProcess: ({ err, status }) =>
        d.warnOnce('pace-helper', 'advert pacer helper unavailable: adverts sent from the VRRP worker', {
          ...(err ? { err: String(err) } : {}),
          ...(status !== undefined ? { status } : {}),
        }),
    })
  }

  /** The machine's armed deadlines the host timers must keep: all but Adver_Timer while it is paced. */
  hostTimers(want: fsm.FsmState['timers']): fsm.FsmState['timers'] {
    if (this.broken) return want
    const { adver, ...others } = want
    return this.sync(adver) ? others : want
  }

  /**
   * Follows the machine's Adver_Timer: started when it is armed (becoming master, or an advert sent
   * out of rhythm: a priority change, an answer to a lower priority), restarted in phase when the
   * adverts themselves change (a reload of the password), stopped when it is disarmed. False when
   * the pacer could not start: it is closed then, and the caller's host timer takes Adver_Timer.
   */
  private sync(at: number | undefined): boolean {
    const pace = this.pace
    if (at === undefined) {
      if (this.paced) pace.stop()
      this.paced = undefined
      return true
    }
    const packets = this.d.adverts.at(this.d.priority())
    if (this.paced?.at === at && this.paced.packets === packets) return true
    // in the machine's clock: the pacer counts from now, on its own
    const firstIn = this.paced?.at === at ? (pace.nextInMs ?? 0) : Math.max(0, at - this.d.now())
    const targets = this.d.adverts.targets()
    const sent: Buffer[] = []
    const to: Addr[] = []
    for (let i = 0; i < targets.length; i++) {
      const p = packets[i]
      // a target whose advert could not be encoded was reported (AdvertPackets) and gets none
      if (p) {
        sent.push(p)
        to.push(targets[i] as Addr)
      }
    }
    this.paced = { at, packets }
    if (sent.length === 0) {
      pace.stop()
      return true
    }
    try {
      const ms = this.d.advertMs()
      pace.start(sent, to, firstIn, ms, ms / 2)
      return true
    } catch (err) {
      // adverts must not stop because the pacer could not start
      this.d.warnOnce('pace', 'advert pacer could not start: adverts sent from JavaScript', { err: String(err) })
      this.paced = undefined
      this.broken = true
      pace.close()
      return false
    }
  }

  /** Adds what the pacer sent and counted in C++ to `c` (closed or not). */
  fold(c: Counters): void {
    const p = this.pace.stats()
    c.tx += p.sent
    c.txErrors += p.errors
    c.lateAdverts += p.lateRounds
    c.maxLateMs = Math.max(c.maxLateMs, p.maxLateMs)
  }

  close(): void {
    this.pace.close()
  }
}
