// A master's routine adverts without JavaScript (native/pacer.cc): entering JavaScript once a
// second costs a Node thread ~0.4 ms of CPU here, 5× a C program's whole wake-up
// (docs/benchmarks.md, "the floor of one wake-up a second"). The pacer sends the prepared
// datagrams at each deadline and re-arms one interval after the send, on the calling thread's own
// event loop; this wrapper speaks milliseconds of the DeadlineTimers clock (CLOCK_MONOTONIC) and
// turns its rare reports into callbacks.
import { sys, sysError } from './errno.js'
import { type NativeAddon, type NativePacer, native } from './native.js'

const NS_PER_MS = 1e6
const EVENT_LATE = 1
const EVENT_SEND_ERROR = 2

export interface PacerEvents {
  /** A round left this many ms after its deadline (more than the `lateMs` it was started with). */
  late(lateMs: number): void
  /** A send failed (the round's other targets were still sent), or the timer broke (then it stopped). */
  failed(err: Error): void
}

export interface PacerStats {
  sent: number
  errors: number
  lateRounds: number
  maxLateMs: number
}

/** The addon's clock (native/timer.cc), as DeadlineTimers reads it. */
interface ClockAddon {
  monotonicNs(): number
}

export class Pacer {
  private readonly p: NativePacer
  private readonly clock: ClockAddon

  /** Sends on `socketFd`, which stays the caller's to close. */
  constructor(socketFd: number, events: PacerEvents, addon: NativeAddon = native()) {
    this.clock = addon as NativeAddon & ClockAddon
    this.p = sys(
      () =>
        new addon.Pacer(socketFd, (kind, value) => {
          if (kind === EVENT_LATE) events.late(value)
          else if (kind === EVENT_SEND_ERROR) events.failed(sysError('sendto', value))
        }),
    )
  }

  /**
   * Sends `packets[i]` to `addrs[i]` (sockaddr bytes) at `firstAtMs` (the DeadlineTimers clock),
   * then every `intervalMs` after each send. Replaces what ran before; the bytes are copied.
   */
  start(packets: Buffer[], addrs: Buffer[], firstAtMs: number, intervalMs: number, lateMs: number): void {
    sys(() => this.p.start(packets, addrs, firstAtMs * NS_PER_MS, intervalMs * NS_PER_MS, lateMs * NS_PER_MS))
  }

  /**
   * start() with the first round `firstInMs` from now: for a caller whose clock is not
   * CLOCK_MONOTONIC itself (performance.now() counts from the thread's time origin).
   */
  startIn(packets: Buffer[], addrs: Buffer[], firstInMs: number, intervalMs: number, lateMs: number): void {
    const first = this.clock.monotonicNs() + Math.max(0, firstInMs) * NS_PER_MS
    sys(() => this.p.start(packets, addrs, first, intervalMs * NS_PER_MS, lateMs * NS_PER_MS))
  }

  stop(): void {
    this.p.stop()
  }

  /** ms from now until the next round (0 when it is due), undefined when stopped. */
  get nextInMs(): number | undefined {
    const ns = this.p.nextNs()
    return ns < 0 ? undefined : Math.max(0, ns - this.clock.monotonicNs()) / NS_PER_MS
  }

  /** The next round's deadline in ms of the DeadlineTimers clock, undefined when stopped. */
  get nextAtMs(): number | undefined {
    const ns = this.p.nextNs()
    return ns < 0 ? undefined : ns / NS_PER_MS
  }

  stats(): PacerStats {
    const [sent, errors, lateRounds, maxLateMs] = this.p.stats()
    return { sent, errors, lateRounds, maxLateMs }
  }

  close(): void {
    this.p.close()
  }
}
