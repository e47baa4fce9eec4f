// A fake kernel at the netlink message seam (after mdlayher/netlink's nltest): a function maps each
// request to reply messages; helpers forge ACKs, errno replies with extended ACK, and dumps.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Timers } from '../../src/clock.js'
import { NetlinkClient, type NetlinkTransport } from '../../src/net/netlink-client.js'
import {
  decodeAll,
  type ExtAck,
  encodeAll,
  encodeError,
  extAckTlvs,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLM_F_MULTI,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  type NlMessage,
} from '../../src/net/nlmsg.js'
import { errnoValue } from '../../src/sys/errno.js'
import { repoRoot } from './paths.js'

/** One reply datagram: a single message, or several packed into one datagram. */
export type Datagram = NlMessage | NlMessage[]
export type KernelFn = (req: NlMessage) => Datagram[] | undefined

export class FakeKernel implements NetlinkTransport {
  readonly portId: number
  readonly sent: NlMessage[] = []
  readonly memberships: number[] = []
  closed = false
  private onDatagram: ((d: Buffer, truncated: boolean) => void) | undefined
  private onError: ((e: unknown, stopped: boolean) => void) | undefined

  constructor(
    private readonly fn: KernelFn,
    portId = 4242,
  ) {
    this.portId = portId
  }

  send(datagram: Buffer): void {
    if (this.closed) throw new Error('send on a closed fake socket')
    for (const req of decodeAll(datagram)) {
      this.sent.push(req)
      const replies = this.fn(req) ?? []
      // the kernel answers after sendmsg returns: deliver on a later microtask
      queueMicrotask(() => {
        for (const d of replies) this.deliver(d)
      })
    }
  }

  start(onDatagram: (d: Buffer, truncated: boolean) => void, onError: (e: unknown, stopped: boolean) => void): void {
    this.onDatagram = onDatagram
    this.onError = onError
  }

  addMembership(group: number): void {
    this.memberships.push(group)
  }

  close(): void {
    this.closed = true
  }

  /** Delivers one datagram now (notifications, or hand-made bytes). */
  deliver(d: Datagram | Buffer, truncated = false): void {
    if (this.closed) return
    const bytes = Buffer.isBuffer(d) ? d : encodeAll(Array.isArray(d) ? d : [d])
    this.onDatagram?.(bytes, truncated)
  }

  /** A socket error as src/sys reports it (LVSD_SYS_CALL with details.code); `stopped` ends delivery. */
  fail(code: string, stopped = false): void {
    this.onError?.(Object.assign(new Error(code), { details: { code } }), stopped)
    if (stopped) this.onDatagram = undefined
  }
}

export function fakeClient(fn: KernelFn, opts: { timers?: Timers; timeoutMs?: number } = {}) {
  const kernel = new FakeKernel(fn)
  const client = new NetlinkClient(kernel, opts)
  return { kernel, client }
}

/** A reply message to req (same seq, the client's port id). */
export function reply(req: NlMessage, type: number, payload: Buffer, flags = 0, pid = 4242): NlMessage {
  return { type, flags, seq: req.seq, pid, payload }
}

function errorMessage(req: NlMessage, error: number, ext?: ExtAck, capped = false, pid = 4242): NlMessage {
  const tlvs = ext ? extAckTlvs(ext) : []
  const payload = encodeError(
    { error, request: { ...req, len: NLMSG_HDRLEN + req.payload.length }, requestPayload: req.payload, tlvs },
    capped,
  )
  const flags = (capped ? NLM_F_CAPPED : 0) | (tlvs.length ? NLM_F_ACK_TLVS : 0)
  return { type: NLMSG_ERROR, flags, seq: req.seq, pid, payload }
}

export function ack(req: NlMessage): NlMessage {
  return errorMessage(req, 0, undefined, true)
}

/** An errno reply, by name ('EEXIST') or number, optionally with extended ACK TLVs. */
export function errno(req: NlMessage, e: string | number, ext?: ExtAck, capped = true): NlMessage {
  const n = typeof e === 'number' ? e : errnoValue(e)
  if (n === undefined) throw new Error(`unknown errno ${e}`)
  return errorMessage(req, -n, ext, capped)
}

/** A dump: each payload as an NLM_F_MULTI part of `type`, then NLMSG_DONE (error 0 unless given). */
export function multipart(req: NlMessage, type: number, payloads: Buffer[], doneError = 0): NlMessage[] {
  const done = Buffer.alloc(4)
  done.writeInt32LE(doneError, 0)
  return [...payloads.map((p) => reply(req, type, p, NLM_F_MULTI)), reply(req, NLMSG_DONE, done, NLM_F_MULTI)]
}

/** A notification as the kernel multicasts it (seq 0, pid 0 unless a request caused it). */
export function notification(type: number, payload: Buffer, seq = 0, pid = 0): NlMessage {
  return { type, flags: 0, seq, pid, payload }
}

/** Reads a recorded fixture: '#' lines are the header, each other line one datagram in hex. */
export function fixture(name: string): { header: string[]; datagrams: Buffer[] } {
  const text = readFileSync(join(repoRoot, 'test', 'fixtures', 'netlink', name), 'utf8')
  const lines = text.split('\n').filter((l) => l.trim() !== '')
  return {
    header: lines.filter((l) => l.startsWith('#')),
    datagrams: lines.filter((l) => !l.startsWith('#')).map((l) => Buffer.from(l.trim(), 'hex')),
  }
}
