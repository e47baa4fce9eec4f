// Netlink request/reply client (<linux/netlink.h>, netlink(7)): sequence numbers, ACKs, dumps ending
// in NLMSG_DONE, errors with extended ACK, timeouts, multicast notifications and overrun (ENOBUFS).
// It talks to a NetlinkTransport: one datagram in, datagrams out. The real one is a src/sys socket
// (netlink-transport.ts); tests use a fake kernel at the same seam (test/helpers/fake-kernel.ts).
import { LvsdError } from '../errors.js'
import { errnoName } from '../sys/errno.js'
import {
  decodeAll,
  decodeDone,
  decodeError,
  type ExtAck,
  encode,
  NLM_F_ACK,
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
  /**
   * Starts delivery; `truncated` means the datagram did not fit the receive buffer. `stopped` on an
   * error means the transport delivers nothing more (the socket must be replaced).
   */
  start(onDatagram: (data: Buffer, truncated: boolean) => void, onError: (err: unknown, stopped: boolean) => void): void
  /** NETLINK_ADD_MEMBERSHIP for one multicast group number (RTNLGRP_*, or a genl group id). */
  addMembership(group: number): void
  close(): void
}

export interface Timers {
  set(fn: () => void, ms: number): unknown
  clear(handle: unknown): void
}

const realTimers: Timers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (h) => clearTimeout(h as NodeJS.Timeout),
}

export interface ClientOptions {
  /** Default per-request timeout (ms). */
  timeoutMs?: number
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
  timer: unknown
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
  /** Replies for requests that already timed out (counted, then dropped). */
  staleReplies = 0

  constructor(
    private readonly transport: NetlinkTransport,
    opts: ClientOptions = {},
  ) {
    this.timers = opts.timers ?? realTimers
    this.timeoutMs = opts.timeoutMs ?? 5000
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
    return new Promise<NlMessage[]>((resolve, reject) => {
      const timeoutMs = opts.timeoutMs ?? this.timeoutMs
      const timer = this.timers.set(() => {
        if (!this.pending.delete(seq)) return
        reject(new LvsdError('LVSD_NL_TIMEOUT', `${op}: no answer within ${timeoutMs} ms`, { op, seq, timeoutMs }))
      }, timeoutMs)
      this.pending.set(seq, { op, type: req.type, parts: [], resolve, reject, timer })
      const msg: NlMessage = {
        type: req.type,
        flags: req.flags | NLM_F_REQUEST | NLM_F_ACK,
        seq,
        pid: 0,
        payload: req.payload,
      }
      try {
        this.transport.send(encode(msg))
      } catch (e) {
        this.settle(seq)
        reject(e)
      }
    })
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
    this.timers.clear(p.timer)
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
    switch (m.type) {
      case NLMSG_NOOP:
        return
      case NLMSG_ERROR: {
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
