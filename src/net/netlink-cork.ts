// The netlink client's send side: requests held by batch() and hold() and sent as few datagrams
// when the outermost ends (NetlinkClient owns the replies). A held datagram can be shown ahead of
// its release (HeldRequests.outgoing) for a batch sent ahead of it (sys/sent-ahead.ts); anything
// queued after that goes in a datagram of its own, so the one shown is the one the kernel gets.
import type { Outgoing } from '../sys/sent-ahead.js'

export interface BatchOptions {
  /**
   * 'each' (default): every request carries NLM_F_ACK and is answered on its own. 'last': only each
   * datagram's last request does; the kernel handles a datagram's messages in order and always answers a
   * failure (netlink_rcv_skb), so an answer to a later request means the earlier unanswered ones succeeded.
   * One answer per datagram instead of one per request: for commands only (a dump answers anyway, and a
   * second one in the same datagram is EBUSY).
   */
  ack?: 'each' | 'last'
}

/** What hold() returns. */
export interface HeldRequests {
  /** Sends the held requests (once; later calls, and calls after withdraw(), do nothing). */
  release(opts?: { answersLater?: boolean }): void
  /** Drops the held requests unsent; each rejects with LVSD_NL_WITHDRAWN (once, as release). */
  withdraw(): void
  /**
   * The datagram release() would send now, for a batch sent ahead of it (release() then takes the
   * kernel's result instead of sending): undefined when release() would send nothing, or when the
   * transport cannot say.
   */
  outgoing(): Outgoing | undefined
}

export interface QueuedRequest {
  seq: number
  bytes: Buffer
}

/** What the cork needs of its client. */
export interface CorkHost {
  /** Whether request `seq` still waits for its answer (closing the client rejects them all). */
  pending(seq: number): boolean
  /** Rejects request `seq` as withdrawn before it was sent. */
  withdraw(seq: number): void
  /** Whether the client can still send. */
  live(): boolean
  /** Sends requests as one datagram under one deadline; `ackLast`: only the last asks for an ACK. */
  send(q: QueuedRequest[], timeoutMs: number, answersLater: boolean, ackLast: boolean): void
  /** The datagram as the transport would send it; absent when it cannot say (fakes). */
  outgoing?(datagram: Buffer): Outgoing
}

export class RequestCork {
  /** batch() and hold() calls not ended. */
  private corked = 0
  private ackLast = false
  private queue: QueuedRequest[] = []
  private queuedTimeoutMs = 0
  /**
   * Requests at the head of the queue that a held datagram showed (HeldRequests.outgoing) to be
   * sent ahead: flush() sends them as that very datagram, apart from anything queued after them,
   * so the datagram sent ahead takes its result and the kernel gets each request once.
   */
  private previewed = 0

  constructor(
    private readonly limit: number,
    private readonly host: CorkHost,
  ) {}

  /** Queues the request if corked (true); false: the caller sends it now. */
  take(seq: number, bytes: Buffer, timeoutMs: number): boolean {
    if (this.corked === 0) return false
    this.queue.push({ seq, bytes })
    this.queuedTimeoutMs = Math.max(this.queuedTimeoutMs, timeoutMs)
    // a datagram shown to be sent ahead stays whole, even past the limit (previewed)
    if (this.queue.length >= this.limit && this.previewed === 0) this.flush()
    return true
  }

  batch<T>(f: () => T, opts: BatchOptions): T {
    if (this.corked === 0) this.ackLast = opts.ack === 'last'
    this.corked++
    try {
      return f()
    } finally {
      this.corked--
      if (this.corked === 0) {
        this.flush()
        this.ackLast = false
      }
    }
  }

  hold(): HeldRequests {
    if (this.corked === 0) this.ackLast = false
    this.corked++
    const mark = this.queue.length
    let held = true
    const end = (): void => {
      held = false
      this.corked--
    }
    return {
      release: (opts = {}) => {
        if (!held) return
        end()
        if (this.corked === 0) {
          this.flush(opts.answersLater === true)
          this.ackLast = false
        }
      },
      outgoing: () => {
        // release() sends only as the outermost hold, and then all that is queued
        if (!held || this.corked !== 1 || this.ackLast || !this.host.outgoing) return undefined
        const parts = this.queue.filter((x) => this.host.pending(x.seq)).map((x) => x.bytes)
        if (parts.length === 0 || !this.host.live()) return undefined
        this.previewed = this.queue.length
        return this.host.outgoing(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts))
      },
      withdraw: () => {
        if (!held) return
        end()
        this.previewed = 0
        for (const x of this.queue.splice(mark)) this.host.withdraw(x.seq)
        if (this.corked === 0) {
          this.flush()
          this.ackLast = false
        }
      },
    }
  }

  private flush(answersLater = false): void {
    const q = this.queue
    if (q.length === 0) return
    this.queue = []
    const timeoutMs = this.queuedTimeoutMs
    this.queuedTimeoutMs = 0
    const split = this.previewed
    this.previewed = 0
    if (split > 0 && split < q.length) {
      this.host.send(q.slice(0, split), timeoutMs, answersLater, this.ackLast)
      this.host.send(q.slice(split), timeoutMs, answersLater, this.ackLast)
    } else this.host.send(q, timeoutMs, answersLater, this.ackLast)
  }
}
