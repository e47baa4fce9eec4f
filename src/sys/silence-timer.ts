// A deadline that datagrams on a socket push back, checked without JavaScript (native/silence.cc):
// a VRRP backup's Master_Down over the queue of its master's exact repeats. At each expiry the
// addon reads the queue; a datagram heard at t moves the deadline to t + extend, and only a
// deadline that passes in silence calls back. The newest datagram read is kept for take(), with
// the count of those read since the last take. This wrapper speaks milliseconds of the caller's
// monotonic clock (performance.now() counts from the thread's time origin; the addon's is
// CLOCK_MONOTONIC itself) and turns the reports into callbacks.
import { parseCmsgs } from './cmsg.js'
import { sys, sysError } from './errno.js'
import { type NativeAddon, type NativeSilenceTimer, native } from './native.js'
import { SOCKADDR_STORAGE_SIZE } from './sockaddr.js'
import type { ReceivedDatagram } from './types.js'

const NS_PER_MS = 1e6
const EVENT_DUE = 1
const EVENT_ERROR = 2
/** native/silence.cc keeps datagrams up to this long (a VRRP advert is at most 4,088 bytes). */
const DATA_SIZE = 8192
const CONTROL_SIZE = 256

export interface SilenceEvents {
  /** The deadline passed with nothing read that moves it. */
  due(): void
  /** The timer or a read failed: it is disarmed. */
  failed(err: Error): void
}

export interface SilenceStats {
  /** Deadlines that came. */
  expiries: number
  /** Of them, moved by a datagram without calling back. */
  moved: number
  /** Datagrams read. */
  read: number
}

/** What the timer read since the last take: how many, and the newest whole. */
export interface SilenceTaken {
  count: number
  newest: ReceivedDatagram | undefined
}

/** The addon's clock (native/timer.cc). */
interface ClockAddon {
  monotonicNs(): number
}

export class SilenceTimer {
  private readonly t: NativeSilenceTimer
  private readonly clock: ClockAddon
  private readonly out = new Int32Array(4)
  private buffers: { data: Buffer; name: Buffer; control: Buffer } | undefined

  /** Reads `socketFd`, which stays the caller's to close. */
  constructor(socketFd: number, events: SilenceEvents, addon: NativeAddon = native()) {
    this.clock = addon as NativeAddon & ClockAddon
    this.t = sys(
      () =>
        new addon.SilenceTimer(socketFd, (kind, value) => {
          if (kind === EVENT_DUE) events.due()
          else if (kind === EVENT_ERROR) events.failed(sysError('silence timer', value))
        }),
    )
  }

  /**
   * Expires at `dueMs` unless a datagram moves it to its arrival + `extendMs`. `heardMs`: when the
   * datagram the deadline counts from arrived (a later one never moves it before that); `sinceMs`:
   * when the socket's queue was last emptied. All on the caller's clock, whose reading now is `nowMs`.
   */
  arm(dueMs: number, extendMs: number, heardMs: number, sinceMs: number, nowMs: number): void {
    const offset = this.clock.monotonicNs() - nowMs * NS_PER_MS
    const ns = (ms: number): number => Math.max(0, offset + ms * NS_PER_MS)
    sys(() => this.t.arm(ns(dueMs), extendMs * NS_PER_MS, ns(heardMs), ns(sinceMs)))
  }

  disarm(): void {
    this.t.disarm()
  }

  /** What was read since the last take (a copy), and forgets it. */
  take(): SilenceTaken {
    this.buffers ??= {
      data: Buffer.allocUnsafeSlow(DATA_SIZE),
      name: Buffer.alloc(SOCKADDR_STORAGE_SIZE),
      control: Buffer.alloc(CONTROL_SIZE),
    }
    const b = this.buffers
    const count = sys(() => this.t.take(b.data, b.name, b.control, this.out))
    if (count === 0) return { count, newest: undefined }
    const [dataLen = 0, nameLen = 0, controlLen = 0, flags = 0] = this.out
    return {
      count,
      newest: {
        data: Buffer.from(b.data.subarray(0, dataLen)),
        from: Buffer.from(b.name.subarray(0, nameLen)),
        cmsg: parseCmsgs(b.control, controlLen),
        flags,
      },
    }
  }

  /** ms from now until the deadline as it stands, undefined when not armed. */
  get dueInMs(): number | undefined {
    const ns = this.t.dueNs()
    return ns < 0 ? undefined : Math.max(0, ns - this.clock.monotonicNs()) / NS_PER_MS
  }

  stats(): SilenceStats {
    const [expiries, moved, read] = this.t.stats()
    return { expiries, moved, read }
  }

  close(): void {
    this.t.close()
  }
}
