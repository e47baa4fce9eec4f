// A master's routine adverts without JavaScript (native/pacer.cc): entering JavaScript once a
// second costs a Node thread ~0.4 ms of CPU here, 5× a C program's whole wake-up
// (docs/benchmarks.md, "the floor of one wake-up a second"). The pacer sends the prepared
// datagrams at each deadline and re-arms one interval after the send, on the calling thread's own
// event loop; this wrapper speaks milliseconds of the DeadlineTimers clock (CLOCK_MONOTONIC) and
// turns its rare reports into callbacks.
//
// By default the rounds leave from lvsd-pacer, a helper process of ~1 MiB next to the addon
// (native/pacer_helper.c): where the hypervisor shadows page tables, waking a process costs in
// proportion to the memory it maps, and a Node process maps 60 MiB (docs/vrrp-runtime.md, "The
// pacer helper"). Without the helper (LVSD_PACER=inline, the file missing, a spawn refused) or
// after losing it, the same rounds run on the thread's own loop, without a gap.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { sys, sysError } from './errno.js'
import { addonPath, type NativeAddon, type NativePacer, native } from './native.js'

const NS_PER_MS = 1e6
const EVENT_LATE = 1
const EVENT_SEND_ERROR = 2
const EVENT_HELPER_LOST = 3

export interface PacerEvents {
  /** A round left this many ms after its deadline (more than the `lateMs` it was started with). */
  late(lateMs: number): void
  /** A send failed (the round's other targets were still sent), or the timer broke (then it stopped). */
  failed(err: Error): void
  /**
   * The rounds stay in this process: the helper could not be used (`err`), or it was lost (`status`,
   * its wait status; -1 unknown) and the rounds came back here from its next deadline.
   */
  inProcess?(why: { err?: Error; status?: number }): void
}

/** The helper's file, next to the addon; undefined when LVSD_PACER=inline or it is not there. */
export function pacerHelperPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.LVSD_PACER === 'inline') return undefined
  const path = join(dirname(addonPath(env)), 'lvsd-pacer')
  return existsSync(path) ? path : undefined
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

  /**
   * Sends on `socketFd`, which stays the caller's to close; through the helper at `helperPath`
   * (pacerHelperPath() by default; undefined: in this process).
   */
  constructor(
    socketFd: number,
    events: PacerEvents,
    addon: NativeAddon = native(),
    helperPath: string | undefined = pacerHelperPath(),
  ) {
    this.clock = addon as NativeAddon & ClockAddon
    const onEvent = (kind: number, value: number) => {
      if (kind === EVENT_LATE) events.late(value)
      else if (kind === EVENT_SEND_ERROR) events.failed(sysError('sendto', value))
      else if (kind === EVENT_HELPER_LOST) events.inProcess?.({ status: value })
    }
    let p: NativePacer | undefined
    if (helperPath !== undefined) {
      try {
        p = sys(() => new addon.Pacer(socketFd, onEvent, helperPath))
      } catch (err) {
        events.inProcess?.({ err: err as Error })
      }
    }
    this.p = p ?? sys(() => new addon.Pacer(socketFd, onEvent))
  }

  /** The helper process's pid while the rounds go there, else 0 (in this process). */
  get helperPid(): number {
    return this.p.helper()
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
