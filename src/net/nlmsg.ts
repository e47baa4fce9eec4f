// Netlink messages (struct nlmsghdr, NLMSG_ERROR with extended ACK, NLMSG_DONE), <linux/netlink.h>.
// A datagram holds one or more messages, each padded to 4 bytes. Payloads are views into the
// decoded buffer: src/sys copies every datagram, so they stay valid.
import { LvsdError } from '../errors.js'
import { type Attr, AttrBuilder, Attrs, align4, decode as decodeAttrs, encode as encodeAttrs } from './nlattr.js'

export const NLMSG_HDRLEN = 16

// message types below NLMSG_MIN_TYPE are control messages
export const NLMSG_NOOP = 1
export const NLMSG_ERROR = 2
export const NLMSG_DONE = 3
export const NLMSG_OVERRUN = 4
export const NLMSG_MIN_TYPE = 0x10

// flags for every message
export const NLM_F_REQUEST = 0x01
export const NLM_F_MULTI = 0x02
export const NLM_F_ACK = 0x04
export const NLM_F_ECHO = 0x08
export const NLM_F_DUMP_INTR = 0x10
export const NLM_F_DUMP_FILTERED = 0x20
// GET requests
export const NLM_F_ROOT = 0x100
export const NLM_F_MATCH = 0x200
export const NLM_F_ATOMIC = 0x400
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH
// NEW requests
export const NLM_F_REPLACE = 0x100
export const NLM_F_EXCL = 0x200
export const NLM_F_CREATE = 0x400
export const NLM_F_APPEND = 0x800
// NLMSG_ERROR replies (acks)
export const NLM_F_CAPPED = 0x100
export const NLM_F_ACK_TLVS = 0x200

// extended ACK TLVs (enum nlmsgerr_attrs)
export const NLMSGERR_ATTR_MSG = 1
export const NLMSGERR_ATTR_OFFS = 2
export const NLMSGERR_ATTR_COOKIE = 3
export const NLMSGERR_ATTR_POLICY = 4
export const NLMSGERR_ATTR_MISS_TYPE = 5
export const NLMSGERR_ATTR_MISS_NEST = 6

export interface NlMessage {
  readonly type: number
  readonly flags: number
  readonly seq: number
  readonly pid: number
  readonly payload: Buffer
}

export type NlHeader = Omit<NlMessage, 'payload'> & { readonly len: number }

// ---- one message ----

export function size(m: NlMessage): number {
  return align4(NLMSG_HDRLEN + m.payload.length)
}

export function encodeInto(m: NlMessage, buf: Buffer, off: number): number {
  const len = NLMSG_HDRLEN + m.payload.length
  buf.writeUInt32LE(len, off)
  buf.writeUInt16LE(m.type, off + 4)
  buf.writeUInt16LE(m.flags, off + 6)
  buf.writeUInt32LE(m.seq >>> 0, off + 8)
  buf.writeUInt32LE(m.pid >>> 0, off + 12)
  m.payload.copy(buf, off + NLMSG_HDRLEN)
  buf.fill(0, off + len, off + align4(len))
  return align4(len)
}

export function encode(m: NlMessage): Buffer {
  const buf = Buffer.alloc(size(m))
  encodeInto(m, buf, 0)
  return buf
}

export function decodeHeader(buf: Buffer, off = 0): NlHeader {
  if (buf.length - off < NLMSG_HDRLEN) {
    throw new LvsdError('LVSD_DECODE_TRUNCATED', 'netlink header cut short', { offset: off })
  }
  return {
    len: buf.readUInt32LE(off),
    type: buf.readUInt16LE(off + 4),
    flags: buf.readUInt16LE(off + 6),
    seq: buf.readUInt32LE(off + 8),
    pid: buf.readUInt32LE(off + 12),
  }
}

export function decode(buf: Buffer, off = 0): { value: NlMessage; bytes: number } {
  const h = decodeHeader(buf, off)
  if (h.len < NLMSG_HDRLEN) {
    throw new LvsdError('LVSD_DECODE_INVALID', `netlink message length ${h.len} is below 16`, {
      offset: off,
      len: h.len,
    })
  }
  if (h.len > buf.length - off) {
    throw new LvsdError('LVSD_DECODE_TRUNCATED', `netlink message of ${h.len} bytes overruns the datagram`, {
      offset: off,
      len: h.len,
      available: buf.length - off,
    })
  }
  // explicit fields, not a rest/spread copy: those make slow dictionary-mode objects, once per message
  return {
    value: {
      type: h.type,
      flags: h.flags,
      seq: h.seq,
      pid: h.pid,
      payload: buf.subarray(off + NLMSG_HDRLEN, off + h.len),
    },
    bytes: Math.min(align4(h.len), buf.length - off),
  }
}

// ---- a datagram of messages ----

export function encodeAll(msgs: readonly NlMessage[]): Buffer {
  const buf = Buffer.alloc(msgs.reduce((n, m) => n + size(m), 0))
  let p = 0
  for (const m of msgs) p += encodeInto(m, buf, p)
  return buf
}

/** Walks every message of one datagram (NLMSG_OK / NLMSG_NEXT). */
export function decodeAll(buf: Buffer): NlMessage[] {
  const out: NlMessage[] = []
  let p = 0
  while (p < buf.length) {
    const r = decode(buf, p)
    out.push(r.value)
    p += r.bytes
  }
  return out
}

// ---- NLMSG_ERROR and NLMSG_DONE payloads ----

export interface ExtAck {
  /** NLMSGERR_ATTR_MSG: the kernel's human-readable reason. */
  message?: string
  /** NLMSGERR_ATTR_OFFS: byte offset of the offending attribute within the request. */
  offset?: number
  cookie?: Buffer
  /** NLMSGERR_ATTR_MISS_TYPE: type of a missing mandatory attribute. */
  missingType?: number
  missingNest?: number
}

export interface NlError {
  /** 0 for an ACK, else a negative errno. */
  readonly error: number
  /** Header of the request this answers. */
  readonly request: NlHeader
  /** The request's payload, echoed back unless NLM_F_CAPPED (then empty). */
  readonly requestPayload: Buffer
  /** Extended ACK TLVs, raw (present with NLM_F_ACK_TLVS). */
  readonly tlvs: Attr[]
}

/** Decodes an NLMSG_ERROR message; its flags tell whether the request was capped and TLVs follow. */
export function decodeError(m: NlMessage): NlError {
  const b = m.payload
  if (b.length < 4 + NLMSG_HDRLEN) {
    throw new LvsdError('LVSD_DECODE_TRUNCATED', 'NLMSG_ERROR payload cut short', { len: b.length })
  }
  const error = b.readInt32LE(0)
  const request = decodeHeader(b, 4)
  let reqEnd = 4 + NLMSG_HDRLEN
  if (!(m.flags & NLM_F_CAPPED)) {
    if (request.len < NLMSG_HDRLEN) {
      throw new LvsdError('LVSD_DECODE_INVALID', 'echoed request length is below 16', { len: request.len })
    }
    reqEnd = 4 + request.len
    if (reqEnd > b.length) {
      throw new LvsdError('LVSD_DECODE_TRUNCATED', 'echoed request overruns NLMSG_ERROR', { len: request.len })
    }
  }
  const requestPayload = b.subarray(4 + NLMSG_HDRLEN, reqEnd)
  const tlvStart = Math.min(4 + align4(reqEnd - 4), b.length)
  const tlvs = m.flags & NLM_F_ACK_TLVS ? decodeAttrs(b, tlvStart).value : []
  return { error, request, requestPayload, tlvs }
}

/** Builds an NLMSG_ERROR payload (the fake kernel's ack/errno replies, and round trips). */
export function encodeError(e: NlError, capped: boolean): Buffer {
  const echoed = capped ? Buffer.alloc(0) : e.requestPayload
  const head = Buffer.alloc(4 + NLMSG_HDRLEN)
  head.writeInt32LE(e.error, 0)
  const reqLen = capped ? e.request.len : NLMSG_HDRLEN + echoed.length
  head.writeUInt32LE(reqLen, 4)
  head.writeUInt16LE(e.request.type, 8)
  head.writeUInt16LE(e.request.flags, 10)
  head.writeUInt32LE(e.request.seq >>> 0, 12)
  head.writeUInt32LE(e.request.pid >>> 0, 16)
  const pad = Buffer.alloc(align4(echoed.length) - echoed.length)
  return Buffer.concat([head, echoed, pad, encodeAttrs(e.tlvs)])
}

export interface NlDone {
  readonly error: number
  readonly tlvs: Attr[]
}

/** NLMSG_DONE carries an int: 0, or the negative errno that ended a dump early. */
export function decodeDone(m: NlMessage): NlDone {
  if (m.payload.length < 4) return { error: 0, tlvs: [] } // some families send an empty DONE
  const error = m.payload.readInt32LE(0)
  const tlvs = m.flags & NLM_F_ACK_TLVS ? decodeAttrs(m.payload, 4).value : []
  return { error, tlvs }
}

export function parseExtAck(tlvs: readonly Attr[]): ExtAck {
  const a = new Attrs(tlvs)
  const out: ExtAck = {}
  const msg = a.string(NLMSGERR_ATTR_MSG)
  if (msg !== undefined) out.message = msg
  const offs = a.u32(NLMSGERR_ATTR_OFFS)
  if (offs !== undefined) out.offset = offs
  const cookie = a.binary(NLMSGERR_ATTR_COOKIE)
  if (cookie !== undefined) out.cookie = cookie
  const mt = a.u32(NLMSGERR_ATTR_MISS_TYPE)
  if (mt !== undefined) out.missingType = mt
  const mn = a.u32(NLMSGERR_ATTR_MISS_NEST)
  if (mn !== undefined) out.missingNest = mn
  return out
}

export function extAckTlvs(x: ExtAck): Attr[] {
  const b = new AttrBuilder()
  if (x.message !== undefined) b.string(NLMSGERR_ATTR_MSG, x.message)
  if (x.offset !== undefined) b.u32(NLMSGERR_ATTR_OFFS, x.offset)
  if (x.cookie !== undefined) b.binary(NLMSGERR_ATTR_COOKIE, x.cookie)
  if (x.missingType !== undefined) b.u32(NLMSGERR_ATTR_MISS_TYPE, x.missingType)
  if (x.missingNest !== undefined) b.u32(NLMSGERR_ATTR_MISS_NEST, x.missingNest)
  return b.attrs()
}
