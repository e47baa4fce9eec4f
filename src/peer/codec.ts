// lvsd peer channel datagram (docs/peer.md §Wire format): a fixed header, the sender's node name, a
// JSON body, and an HMAC-SHA256 (RFC 2104) over everything before it. Pure: no clock, no socket.
//
//   0  magic "LVP1"            4
//   4  type (1 = state)        1
//   5  node name length       1
//   6  boot (wall ms)          8   identifies the sender's run; with nonce, the epoch
//  14  nonce                   4   random per run: two runs started in the same ms differ
//  18  seq                     4   per run, from 1, +1 per message
//  22  sentAt (wall ms)        8   freshness: the receiver drops messages outside its window
//  30  body length             4
//  34  node name, body (UTF-8 JSON), then the 32-byte MAC
import { createHmac, timingSafeEqual } from 'node:crypto'
import { LvsdError } from '../errors.js'

export const MAGIC = 0x4c565031 // "LVP1"
export const HEADER = 34
export const MAC_LEN = 32
/** A datagram never exceeds this (UDP over IPv4 without fragments beyond the 64 KiB limit). */
export const MAX_DATAGRAM = 65_507
export const TYPE_STATE = 1

export interface Envelope {
  type: number
  node: string
  boot: number
  nonce: number
  seq: number
  sentAt: number
  /** The body, already parsed as JSON (validated by message.ts, not here). */
  body: unknown
}

const NODE_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/

function u64(buf: Buffer, off: number): number {
  const v = buf.readBigUInt64BE(off)
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new LvsdError('LVSD_DECODE_INVALID', 'time field out of range')
  return Number(v)
}

export function size(e: Envelope): number {
  return HEADER + Buffer.byteLength(e.node) + Buffer.byteLength(JSON.stringify(e.body)) + MAC_LEN
}

/** Encodes and signs; throws LVSD_ENCODE_INVALID for a value that does not fit its field. */
export function encode(e: Envelope, key: Buffer): Buffer {
  if (!NODE_RE.test(e.node)) throw new LvsdError('LVSD_ENCODE_INVALID', 'node name', { node: e.node })
  for (const [f, v, max] of [
    ['type', e.type, 0xff],
    ['nonce', e.nonce, 0xffffffff],
    ['seq', e.seq, 0xffffffff],
    ['boot', e.boot, Number.MAX_SAFE_INTEGER],
    ['sentAt', e.sentAt, Number.MAX_SAFE_INTEGER],
  ] as const)
    if (!Number.isInteger(v) || v < 0 || v > max) throw new LvsdError('LVSD_ENCODE_INVALID', `${f} out of range`)
  const node = Buffer.from(e.node)
  const body = Buffer.from(JSON.stringify(e.body))
  const len = HEADER + node.length + body.length + MAC_LEN
  if (len > MAX_DATAGRAM)
    throw new LvsdError('LVSD_ENCODE_INVALID', `peer message of ${len} bytes exceeds ${MAX_DATAGRAM}`, { len })
  const buf = Buffer.alloc(len)
  buf.writeUInt32BE(MAGIC, 0)
  buf.writeUInt8(e.type, 4)
  buf.writeUInt8(node.length, 5)
  buf.writeBigUInt64BE(BigInt(e.boot), 6)
  buf.writeUInt32BE(e.nonce, 14)
  buf.writeUInt32BE(e.seq, 18)
  buf.writeBigUInt64BE(BigInt(e.sentAt), 22)
  buf.writeUInt32BE(body.length, 30)
  node.copy(buf, HEADER)
  body.copy(buf, HEADER + node.length)
  mac(key, buf.subarray(0, len - MAC_LEN)).copy(buf, len - MAC_LEN)
  return buf
}

function mac(key: Buffer, data: Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest()
}

/**
 * Checks the MAC, then decodes: 'auth' when the MAC is wrong (a wrong key or a forged message),
 * 'malformed' when the datagram is not this format (truncated, wrong magic, lengths that disagree,
 * a body that is not JSON). The MAC is checked before anything is parsed: an unauthenticated
 * datagram never reaches the JSON parser.
 */
export function open(
  buf: Buffer,
  key: Buffer,
): { ok: true; value: Envelope } | { ok: false; reason: 'auth' | 'malformed'; error?: LvsdError } {
  try {
    if (buf.length < HEADER + MAC_LEN) throw new LvsdError('LVSD_DECODE_TRUNCATED', 'shorter than a header and MAC')
    if (buf.readUInt32BE(0) !== MAGIC) throw new LvsdError('LVSD_DECODE_INVALID', 'not an lvsd peer message')
    const nodeLen = buf.readUInt8(5)
    const bodyLen = buf.readUInt32BE(30)
    if (HEADER + nodeLen + bodyLen + MAC_LEN !== buf.length)
      throw new LvsdError('LVSD_DECODE_INVALID', 'declared lengths do not match the datagram')
    const signed = buf.subarray(0, buf.length - MAC_LEN)
    if (!timingSafeEqual(mac(key, signed), buf.subarray(buf.length - MAC_LEN))) return { ok: false, reason: 'auth' }
    return { ok: true, value: decode(buf) }
  } catch (e) {
    if (e instanceof LvsdError) return { ok: false, reason: 'malformed', error: e }
    throw e
  }
}

/** Decodes without checking the MAC (open() checks it first); throws LVSD_DECODE_*. */
export function decode(buf: Buffer): Envelope {
  if (buf.length < HEADER + MAC_LEN) throw new LvsdError('LVSD_DECODE_TRUNCATED', 'shorter than a header and MAC')
  const nodeLen = buf.readUInt8(5)
  const bodyLen = buf.readUInt32BE(30)
  if (HEADER + nodeLen + bodyLen + MAC_LEN > buf.length)
    throw new LvsdError('LVSD_DECODE_TRUNCATED', 'body runs past the datagram')
  const node = buf.toString('utf8', HEADER, HEADER + nodeLen)
  if (!NODE_RE.test(node)) throw new LvsdError('LVSD_DECODE_INVALID', 'node name')
  let body: unknown
  try {
    body = JSON.parse(buf.toString('utf8', HEADER + nodeLen, HEADER + nodeLen + bodyLen))
  } catch {
    throw new LvsdError('LVSD_DECODE_INVALID', 'body is not JSON')
  }
  return {
    type: buf.readUInt8(4),
    node,
    boot: u64(buf, 6),
    nonce: buf.readUInt32BE(14),
    seq: buf.readUInt32BE(18),
    sentAt: u64(buf, 22),
    body,
  }
}
