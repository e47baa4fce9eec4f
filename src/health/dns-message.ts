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

/** A possibly compressed name at `off`: its text and the bytes it occupies there. */
export function decodeName(buf: Buffer, off: number): { name: string; bytes: number } {
  const out: string[] = []
  let pos = off
  let bytes = -1
  for (let jumps = 0; ; ) {
    need(buf, pos, 1)
    const len = buf[pos] as number
    if (len === 0) {
      if (bytes < 0) bytes = pos + 1 - off
      break
    }
    if ((len & 0xc0) === 0xc0) {
      need(buf, pos, 2)
      if (bytes < 0) bytes = pos + 2 - off
      if (++jumps > 64) throw new LvsdError('LVSD_DECODE_INVALID', 'DNS name compression loop', { offset: pos })
      pos = buf.readUInt16BE(pos) & 0x3fff
      continue
    }
    if (len & 0xc0) throw new LvsdError('LVSD_DECODE_INVALID', 'reserved DNS label type', { offset: pos })
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

export function decodeReply(buf: Buffer): Reply {
  need(buf, 0, 12)
  const id = buf.readUInt16BE(0)
  const flags = buf.readUInt16BE(2)
  const qd = buf.readUInt16BE(4)
  const an = buf.readUInt16BE(6)
  let off = 12
  for (let i = 0; i < qd; i++) {
    off += decodeName(buf, off).bytes + 4
    need(buf, 0, off)
  }
  const answers: Answer[] = []
  for (let i = 0; i < an; i++) {
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
