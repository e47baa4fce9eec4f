// Netlink request/reply client (<linux/netlink.h>, netlink(7)): sequence numbers, ACKs, dumps ending
// in NLMSG_DONE, errors with extended ACK, timeouts, multicast notifications and overrun (ENOBUFS).
// It talks to a NetlinkTransport: one datagram in, datagrams out. The real one is a src/sys socket
// (netlink-transport.ts); tests use a fake kernel at the same seam (test/helpers/fake-kernel.ts).
import { realClock, type Timers } from '../clock.js'
import { LvsdError } from '../errors.js'
import { errnoName } from '../sys/errno.js'
import type { Outgoing } from '../sys/sent-ahead.js'
import { type BatchOptions, type HeldRequests, type QueuedRequest, RequestCork } from './netlink-cork.js'
import {
  decodeAll,
  decodeDone,
  decodeError,
  type ExtAck,
  encode,
  NLM_F_ACK,
  NLM_F_ACK_TLVS,
  NLM_F_DUMP_INTR,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_MIN_TYPE,
  NLMSG_NOOP,
  NLMSG_OVERRUN,
  type NlMessage,
  parseExtAck,
} from './nlmsg.js'

/** One netlink socket, reduced to what the client needs. */
export interface NetlinkTransport {
  /** The socket's port id (nl_pid) as the kernel assigned it; replies carry it. 0 if unknown. */
  readonly portId: number
  /** Sends one datagram to the kernel; throws on failure. */
  send(datagram: Buffer): void
  /** The datagram as send() would send it, for a batch sent ahead (sys/sent-ahead.ts); absent in fakes. */
  outgoing?(datagram: Buffer): Outgoing
  /**
   * Delivers, now, every datagram already queued on the socket (through start's onDatagram). The kernel
   * handles a request inside sendmsg, so its answers are usually queued when send returns: reading them
   * at once saves an event-loop wakeup and a timer per request. Optional (the fake kernel answers later).
   */
  drain?(): void
  /**
   * Starts delivery; `truncated` means the datagram did not fit the receive buffer. `stopped` on an
   * error means the transport delivers nothing more (the socket must be replaced).
   */
  start(onDatagram: (data: Buffer, truncated: boolean) => void, onError: (err: unknown, stopped: boolean) => void): void
  /** NETLINK_ADD_MEMBERSHIP for one multicast group number (RTNLGRP_*, or a genl group id). */
  addMembership(group: number): void
  close(): void
}

export interface NetlinkClientOptions {
  /** Default per-request timeout (ms). */
  timeoutMs?: number
  /**
   * Most requests batch() puts in one datagram (default 64). Every request is ACKed by its own message, and
   * the kernel drops answers that overflow the receive buffer (ENOBUFS): a datagram's answers must fit.
   */
  batchLimit?: number
  /** Injected clock for tests (no sleeps in the unit tier). */
  timers?: Timers
}

export interface RequestOptions {
  /** Names the operation in errors and logs, e.g. 'RTM_NEWADDR' or 'IPVS NEW_DEST'. */
  op?: string
  timeoutMs?: number
}

/** A request as the caller writes it: the client fills in seq and pid and adds REQUEST|ACK. */
export type Request = Pick<NlMessage, 'type' | 'flags' | 'payload'>

interface Pending {
  op: string
  type: number
  parts: NlMessage[]
  resolve: (msgs: NlMessage[]) => void
  reject: (err: unknown) => void
  deadline: Deadline
}

/** One timeout timer for the requests of one datagram, armed only if some are unanswered after the send. */
interface Deadline {
  timer: unknown
  /** Requests of the datagram still pending. */
  left: number
  timeoutMs: number
  /** The datagram's requests in order. */
  seqs: number[]
  /** Only the last request asked for an ACK (BatchOptions.ack 'last'); `next` indexes seqs. */
  ackLast: boolean
  next: number
}

export class NetlinkClient {
  private seq = 0
  private closed = false
  private stopped = false
  private readonly pending = new Map<number, Pending>()
  private readonly notifyListeners = new Set<(m: NlMessage) => void>()
  private readonly resyncListeners = new Set<(why: string) => void>()
  private readonly errorListeners = new Set<(err: unknown) => void>()
  private readonly timers: Timers
  private readonly timeoutMs: number
  /** Requests held by batch() and hold() until they end (netlink-cork.ts). */
  private readonly cork: RequestCork
  private draining = false
  /** Replies for requests that already timed out (counted, then dropped). */
  staleReplies = 0
  /** Datagrams sent (a batch of requests is one datagram). */
  datagramsSent = 0

  constructor(
    private readonly transport: NetlinkTransport,
    opts: NetlinkClientOptions = {},
  ) {
    this.timers = opts.timers ?? realClock
    this.timeoutMs = opts.timeoutMs ?? 5000
    this.cork = new RequestCork(Math.max(1, Math.floor(opts.batchLimit ?? 64)), {
      pending: (seq) => this.pending.has(seq),
      withdraw: (seq) => {
        const p = this.pending.get(seq)
        if (!p) return
        this.pending.delete(seq)
        p.reject(new LvsdError('LVSD_NL_WITHDRAWN', `${p.op}: withdrawn before it was sent`, { op: p.op, seq }))
      },
      live: () => !this.closed && !this.stopped,
      send: (q, timeoutMs, answersLater, ackLast) => this.sendQueued(q, timeoutMs, answersLater, ackLast),
      ...(transport.outgoing ? { outgoing: (d: Buffer) => transport.outgoing?.(d) as Outgoing } : {}),
    })
    transport.start(
      (d, truncated) => this.onDatagram(d, truncated),
      (e, stopped) => this.onSocketError(e, stopped),
    )
  }

  /**
   * Sends one request with NLM_F_REQUEST|NLM_F_ACK and resolves with every reply message of its
   * sequence number: the parts of a dump (up to NLMSG_DONE), or the answers before the ACK.
   * Rejects with LVSD_NL_KERNEL (errno, extended ACK), LVSD_NL_TIMEOUT or LVSD_NL_CLOSED.
   */
  request(req: Request, opts: RequestOptions = {}): Promise<NlMessage[]> {
    const op = opts.op ?? `type ${req.type}`
    if (this.closed || this.stopped) {
      return Promise.reject(
        new LvsdError('LVSD_NL_CLOSED', `${op}: netlink socket is closed`, { op, stopped: this.stopped }),
      )
    }
    const seq = this.nextSeq()
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs
    const bytes = encode({
      type: req.type,
      flags: req.flags | NLM_F_REQUEST | NLM_F_ACK,
      seq,
      pid: 0,
      payload: req.payload,
    })
    const deadline: Deadline = { timer: undefined, left: 1, timeoutMs, seqs: [seq], ackLast: false, next: 0 }
    const p = new Promise<NlMessage[]>((resolve, reject) => {
      this.pending.set(seq, { op, type: req.type, parts: [], resolve, reject, deadline })
    })
    if (!this.cork.take(seq, bytes, timeoutMs)) this.sendNow(bytes, deadline)
    return p
  }

  /**
   * Runs f and sends the requests it makes as few datagrams (up to batchLimit requests each) when it
   * returns: the kernel handles every message of a datagram in order and answers each, so this keeps the
   * order and saves a sendmsg per request. Nested calls send when the outermost ends.
   */
  batch<T>(f: () => T, opts: BatchOptions = {}): T {
    return this.cork.batch(f, opts)
  }

  /**
   * Holds the requests made from now until release(), as batch() holds those its function makes,
   * for work prepared ahead of a deadline: the VRRP takeover builds its VIP additions before
   * Master_Down and sends them at it with one sendmsg. With `answersLater`, the answers (which the
   * kernel queued inside that sendmsg) are read in a microtask, after the rest of the caller's turn.
   */
  hold(): HeldRequests {
    return this.cork.hold()
  }

  /** The requests as one datagram, under one deadline. */
  private sendQueued(q: QueuedRequest[], timeoutMs: number, answersLater: boolean, ackLast: boolean): void {
    const deadline: Deadline = { timer: undefined, left: 0, timeoutMs, seqs: [], ackLast, next: 0 }
    const parts: Buffer[] = []
    for (const x of q) {
      const p = this.pending.get(x.seq)
      if (!p) continue // closed meanwhile
      p.deadline = deadline
      deadline.left++
      deadline.seqs.push(x.seq)
      parts.push(x.bytes)
    }
    if (deadline.ackLast) {
      // the flags of all but the last request lose NLM_F_ACK (bytes 6–7 of each nlmsghdr)
      for (let i = 0; i < parts.length - 1; i++) {
        const b = parts[i] as Buffer
        b.writeUInt16LE(b.readUInt16LE(6) & ~NLM_F_ACK, 6)
      }
    }
    if (parts.length > 0)
      this.sendNow(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts), deadline, answersLater)
  }

  /** Sends one datagram, reads what is already answered, and arms the timer only for what is not. */
  private sendNow(datagram: Buffer, deadline: Deadline, answersLater = false): void {
    if (this.closed || this.stopped) {
      this.failDeadline(deadline, (p, seq) => closedError(p, seq, this.stopped))
      return
    }
    try {
      this.transport.send(datagram)
      this.datagramsSent++
    } catch (e) {
      this.failDeadline(deadline, () => e)
      return
    }
    if (answersLater) queueMicrotask(() => this.afterSend(deadline))
    else this.afterSend(deadline)
  }

  private afterSend(deadline: Deadline): void {
    if (this.closed || this.stopped) return
    if (this.transport.drain && !this.draining) {
      this.draining = true
      try {
        this.transport.drain()
      } finally {
        this.draining = false
      }
    }
    if (deadline.left > 0 && this.pending.size > 0) {
      deadline.timer = this.timers.set(() => {
        deadline.timer = undefined
        this.failDeadline(
          deadline,
          (p, seq) =>
            new LvsdError('LVSD_NL_TIMEOUT', `${p.op}: no answer within ${deadline.timeoutMs} ms`, {
              op: p.op,
              seq,
              timeoutMs: deadline.timeoutMs,
            }),
        )
      }, deadline.timeoutMs)
    }
  }

  /** Rejects the requests of a datagram that are still pending. */
  private failDeadline(deadline: Deadline, make: (p: Pending, seq: number) => unknown): void {
    for (const seq of deadline.seqs) {
      const p = this.pending.get(seq)
      if (!p || p.deadline !== deadline) continue
      this.settle(seq)
      p.reject(make(p, seq))
    }
  }

  /** Joins a multicast group; its messages reach onNotification listeners. */
  subscribe(group: number): void {
    this.transport.addMembership(group)
  }

  onNotification(fn: (m: NlMessage) => void): () => void {
    this.notifyListeners.add(fn)
    return () => this.notifyListeners.delete(fn)
  }

  /** Messages were lost (ENOBUFS, a truncated datagram): state built from events must be re-dumped. */
  onResync(fn: (why: string) => void): () => void {
    this.resyncListeners.add(fn)
    return () => this.resyncListeners.delete(fn)
  }

  /** Socket errors other than overruns, and datagrams that do not decode. */
  onError(fn: (err: unknown) => void): () => void {
    this.errorListeners.add(fn)
    return () => this.errorListeners.delete(fn)
  }

  get portId(): number {
    return this.transport.portId
  }

  /** False once closed, or once the transport stopped delivering (open a new client then). */
  get alive(): boolean {
    return !this.closed && !this.stopped
  }

  get outstanding(): number {
    return this.pending.size
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.transport.close()
    this.rejectAll((p, seq) => new LvsdError('LVSD_NL_CLOSED', `${p.op}: netlink socket closed`, { op: p.op, seq }))
  }

  private nextSeq(): number {
    do {
      this.seq = this.seq >= 0xffffffff ? 1 : this.seq + 1
    } while (this.pending.has(this.seq))
    return this.seq
  }

  private settle(seq: number): Pending | undefined {
    const p = this.pending.get(seq)
    if (!p) return undefined
    this.pending.delete(seq)
    const d = p.deadline
    d.left--
    if (d.left <= 0 && d.timer !== undefined) {
      this.timers.clear(d.timer)
      d.timer = undefined
    }
    return p
  }

  private rejectAll(make: (p: Pending, seq: number) => unknown): void {
    for (const seq of [...this.pending.keys()]) {
      const p = this.settle(seq)
      if (p) p.reject(make(p, seq))
    }
  }

  private onDatagram(data: Buffer, truncated: boolean): void {
    if (truncated) {
      this.overrun('truncated datagram')
      return
    }
    let msgs: NlMessage[]
    try {
      msgs = decodeAll(data)
    } catch (e) {
      for (const fn of this.errorListeners) fn(e)
      return
    }
    for (const m of msgs) this.onMessage(m)
  }

  private onMessage(m: NlMessage): void {
    const mine = this.transport.portId === 0 || m.pid === this.transport.portId
    const p = m.seq !== 0 && mine ? this.pending.get(m.seq) : undefined
    if (!p) {
      if (m.type === NLMSG_OVERRUN) this.overrun('NLMSG_OVERRUN')
      else if (m.seq !== 0 && mine && this.transport.portId !== 0) this.staleReplies++
      else if (m.type >= NLMSG_MIN_TYPE) for (const fn of this.notifyListeners) fn(m)
      return
    }
    if (p.deadline.ackLast) this.succeededBefore(p.deadline, m.seq)
    switch (m.type) {
      case NLMSG_NOOP:
        return
      case NLMSG_ERROR: {
        // the common answer, a plain ACK (error 0, no TLVs), needs no decoding beyond the errno
        if (m.payload.length >= 4 && m.payload.readInt32LE(0) === 0 && !(m.flags & NLM_F_ACK_TLVS)) {
          this.settle(m.seq)
          p.resolve(p.parts)
          return
        }
        const e = decodeError(m)
        this.settle(m.seq)
        if (e.error === 0) p.resolve(p.parts)
        else p.reject(kernelError(p.op, e.error, parseExtAck(e.tlvs), m.seq, p.type))
        return
      }
      case NLMSG_DONE: {
        const d = decodeDone(m)
        this.settle(m.seq)
        if (d.error === 0) p.resolve(p.parts)
        else p.reject(kernelError(p.op, d.error, parseExtAck(d.tlvs), m.seq, p.type))
        return
      }
      case NLMSG_OVERRUN:
        this.settle(m.seq)
        p.reject(new LvsdError('LVSD_NL_PROTOCOL', `${p.op}: kernel reported NLMSG_OVERRUN`, { op: p.op, seq: m.seq }))
        return
      default:
        p.parts.push(m)
    }
  }

  /** In an ack-'last' datagram, the requests before `seq` that got no answer succeeded. */
  private succeededBefore(d: Deadline, seq: number): void {
    while (d.next < d.seqs.length) {
      const s = d.seqs[d.next] as number
      if (s === seq) return
      d.next++
      const p = this.pending.get(s)
      if (p && p.deadline === d) {
        this.settle(s)
        p.resolve(p.parts)
      }
    }
  }

  private onSocketError(e: unknown, stopped: boolean): void {
    const code = (e as { details?: { code?: unknown }; code?: unknown }).details?.code ?? (e as { code?: unknown }).code
    if (stopped) {
      this.stopped = true
      this.rejectAll(
        (p, seq) =>
          new LvsdError('LVSD_NL_PROTOCOL', `${p.op}: netlink socket stopped (${String(code)})`, {
            op: p.op,
            seq,
            reason: code,
          }),
      )
    }
    if (code === 'ENOBUFS') {
      this.overrun('ENOBUFS')
      return
    }
    for (const fn of this.errorListeners) fn(e)
  }

  private overrun(why: string): void {
    // a reply may have been among the lost messages: fail fast rather than wait for the timeout
    this.rejectAll(
      (p, seq) =>
        new LvsdError('LVSD_NL_PROTOCOL', `${p.op}: netlink messages were lost (${why})`, {
          op: p.op,
          seq,
          reason: why,
        }),
    )
    for (const fn of this.resyncListeners) fn(why)
  }
}

function closedError(p: Pending, seq: number, stopped: boolean): LvsdError {
  return new LvsdError('LVSD_NL_CLOSED', `${p.op}: netlink socket is closed`, { op: p.op, seq, stopped })
}

/** LVSD_NL_KERNEL with what the kernel said: errno, its name and the extended ACK. */
export function kernelError(op: string, error: number, ext: ExtAck, seq: number, type: number): LvsdError {
  const errno = Math.abs(error)
  const code = errnoName(errno)
  const details: Record<string, unknown> = { op, errno, code, seq, type }
  if (ext.message !== undefined) details.extAck = ext.message
  if (ext.offset !== undefined) details.offset = ext.offset
  if (ext.missingType !== undefined) details.missingType = ext.missingType
  const text = ext.message ? `${op}: ${code}: ${ext.message}` : `${op}: ${code}`
  return new LvsdError('LVSD_NL_KERNEL', text, details)
}

/** True if any part of a dump says the kernel's table changed while it was being dumped. */
export function dumpInterrupted(parts: readonly NlMessage[]): boolean {
  return parts.some((m) => (m.flags & NLM_F_DUMP_INTR) !== 0)
}
