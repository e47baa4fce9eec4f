// RFC 1035 §4.1 DNS messages, as much as a health check needs: one-question queries and the header,
// question and answer records of replies (names with §4.1.4 compression), RDATA of common types.
import { LvsdError } from '../errors.js'
import { addrFromBytes, formatAddr } from '../net/addr.js'

export const TYPES: Readonly<Record<string, number>> = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
}

export function typeNumber(t: string | number): number {
  if (typeof t === 'number') return t
  const n = TYPES[t.toUpperCase()]
  if (n === undefined) throw new LvsdError('LVSD_ENCODE_INVALID', `unknown DNS record type ${t}`, { type: t })
  return n
}

export interface Query {
  id: number
  name: string
  type: number
  recursion: boolean
}

export interface Answer {
  name: string
  type: number
  ttl: number
  /** Text form of the data: an address, a name, TXT strings joined, or hex for other types. */
  value: string
}

export interface Reply {
  id: number
  qr: boolean
  rcode: number
  answers: Answer[]
}

function labels(name: string): string[] {
  const n = name.endsWith('.') ? name.slice(0, -1) : name
  return n === '' ? [] : n.split('.')
}

export function encodeQuery(q: Query): Buffer {
  const parts = labels(q.name).map((l) => Buffer.from(l, 'ascii'))
  for (const p of parts) {
    if (p.length === 0 || p.length > 63)
      throw new LvsdError('LVSD_ENCODE_INVALID', `bad DNS label in ${q.name}`, { name: q.name })
  }
  const nameLen = parts.reduce((a, p) => a + 1 + p.length, 1)
  if (nameLen > 255) throw new LvsdError('LVSD_ENCODE_INVALID', `DNS name too long: ${q.name}`, { name: q.name })
  const b = Buffer.alloc(12 + nameLen + 4)
  b.writeUInt16BE(q.id & 0xffff, 0)
  b.writeUInt16BE(q.recursion ? 0x0100 : 0, 2)
  b.writeUInt16BE(1, 4) // QDCOUNT
  let off = 12
  for (const p of parts) {
    b[off++] = p.length
    p.copy(b, off)
    off += p.length
  }
  b[off++] = 0
  b.writeUInt16BE(q.type, off)
  b.writeUInt16BE(1, off + 2) // class IN
  return b
}

function need(buf: Buffer, off: number, n: number): void {
  if (off + n > buf.length)
    throw new LvsdError('LVSD_DECODE_TRUNCATED', 'DNS message ends inside a field', { offset: off })
}

/** RFC 1035 §3.1: a name is at most 255 octets on the wire, length bytes included. */
export const MAX_NAME = 255
/** Answers read from one reply: a health check looks for one record; a hostile reply claims 65,535. */
export const MAX_ANSWERS = 64
/** Question entries skipped before the answers (our query has one). */
const MAX_QUESTIONS = 4

/**
 * A possibly compressed name at `off`: its text and the bytes it occupies there. Bounded whatever
 * the input: every pointer must go back before the label that holds it (so there can be no loop) and
 * the expanded name may not pass 255 octets, so one name costs at most ~255 steps and bytes.
 */
export function decodeName(buf: Buffer, off: number): { name: string; bytes: number } {
  const out: string[] = []
  let pos = off
  let bytes = -1
  let size = 1 // the root label
  // pointers must land strictly before this (the start of the current run of labels)
  let limit = off
  for (;;) {
    need(buf, pos, 1)
    const len = buf[pos] as number
    if (len === 0) {
      if (bytes < 0) bytes = pos + 1 - off
      break
    }
    if ((len & 0xc0) === 0xc0) {
      need(buf, pos, 2)
      if (bytes < 0) bytes = pos + 2 - off
      const to = buf.readUInt16BE(pos) & 0x3fff
      if (to >= limit)
        throw new LvsdError('LVSD_DECODE_INVALID', 'DNS name pointer does not point back', { offset: pos })
      pos = to
      limit = to
      continue
    }
    if (len & 0xc0) throw new LvsdError('LVSD_DECODE_INVALID', 'reserved DNS label type', { offset: pos })
    size += 1 + len
    if (size > MAX_NAME) throw new LvsdError('LVSD_DECODE_INVALID', 'DNS name longer than 255 octets', { offset: off })
    need(buf, pos + 1, len)
    out.push(buf.toString('latin1', pos + 1, pos + 1 + len))
    pos += 1 + len
  }
  return { name: out.length === 0 ? '.' : `${out.join('.')}.`, bytes }
}

function rdataText(buf: Buffer, off: number, len: number, type: number): string {
  switch (type) {
    case 1:
    case 28:
      if (len !== (type === 1 ? 4 : 16))
        throw new LvsdError('LVSD_DECODE_INVALID', 'address record of the wrong size', { offset: off })
      return formatAddr(addrFromBytes(buf.subarray(off, off + len)))
    case 2:
    case 5:
    case 12:
    case 6:
      return decodeName(buf, off).name
    case 15:
      need(buf, off, 2)
      return decodeName(buf, off + 2).name
    case 16: {
      const parts: string[] = []
      for (let p = off; p < off + len; ) {
        const l = buf[p] as number
        need(buf, p + 1, l)
        parts.push(buf.toString('utf8', p + 1, p + 1 + l))
        p += 1 + l
      }
      return parts.join('')
    }
    default:
      return buf.toString('hex', off, off + len)
  }
}

/** The header fields that decide whether a datagram is our reply at all, read before anything else. */
export function peekHeader(buf: Buffer): { id: number; qr: boolean } | undefined {
  if (buf.length < 12) return undefined
  return { id: buf.readUInt16BE(0), qr: (buf.readUInt16BE(2) & 0x8000) !== 0 }
}

/** Decodes at most MAX_ANSWERS answers; the work is bounded by that, not by the counts a sender claims. */
export function decodeReply(buf: Buffer): Reply {
  need(buf, 0, 12)
  const id = buf.readUInt16BE(0)
  const flags = buf.readUInt16BE(2)
  const qd = buf.readUInt16BE(4)
  const an = buf.readUInt16BE(6)
  if (qd > MAX_QUESTIONS)
    throw new LvsdError('LVSD_DECODE_INVALID', `DNS reply with ${qd} questions`, { questions: qd })
  let off = 12
  for (let i = 0; i < qd; i++) {
    off += decodeName(buf, off).bytes + 4
    need(buf, 0, off)
  }
  const answers: Answer[] = []
  for (let i = 0; i < Math.min(an, MAX_ANSWERS); i++) {
    const n = decodeName(buf, off)
    off += n.bytes
    need(buf, off, 10)
    const type = buf.readUInt16BE(off)
    const ttl = buf.readUInt32BE(off + 4)
    const rdlen = buf.readUInt16BE(off + 8)
    off += 10
    need(buf, off, rdlen)
    answers.push({ name: n.name, type, ttl, value: rdataText(buf, off, rdlen, type) })
    off += rdlen
  }
  return { id, qr: (flags & 0x8000) !== 0, rcode: flags & 0x000f, answers }
}
