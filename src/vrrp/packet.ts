// VRRP advertisement codec: VRRPv3 for IPv4 and IPv6 (RFC 5798 §5.1–5.2) and VRRPv2 for IPv4
// (RFC 3768 §5.1–5.3, authentication types 0 and 1 kept for interop with keepalived).
import { LvsdError } from '../errors.js'
import { type Addr, addrFromBytes, type Family } from '../net/addr.js'
import { finish, pseudoChecksum, sum16 } from '../net/checksum.js'

export const IPPROTO_VRRP = 112
export const VRRP_TYPE_ADVERTISEMENT = 1
export const AUTH_NONE = 0
export const AUTH_PASSWORD = 1
export const AUTH_DATA_LEN = 8
export const HEADER_LEN = 8

/**
 * One VRRP packet as it is on the wire. `interval` is in the version's own unit: whole seconds
 * (u8) for v2, centiseconds (12 bits) for v3. The checksum is not part of the value: encode
 * computes it, and validate.ts verifies it against the received bytes.
 */
export interface Advert {
  version: 2 | 3
  /** 1 = ADVERTISEMENT; anything else is kept so decode → encode is lossless. */
  type: number
  vrid: number
  priority: number
  interval: number
  /** v3 only: the 4 reserved bits before Max Adver Int (sent as 0, kept when decoded). */
  rsvd?: number
  /** All of one family: 4 for v2; the family the v3 packet travels in. */
  family: Family
  addrs: Addr[]
  /** v2 only: authentication type and its 8 data bytes (zeros for type 0). */
  auth?: { type: number; data: Uint8Array }
}

/** The IP source and destination a VRRPv3 checksum covers (RFC 5798 §5.2.8). */
export interface PseudoHeader {
  src: Addr
  dst: Addr
}

const addrLen = (f: Family): number => (f === 4 ? 4 : 16)

export function size(a: Advert): number {
  return HEADER_LEN + a.addrs.length * addrLen(a.family) + (a.version === 2 ? AUTH_DATA_LEN : 0)
}

function invalid(field: string, value: unknown): never {
  throw new LvsdError('LVSD_ENCODE_INVALID', `VRRP ${field} cannot be encoded: ${String(value)}`, { field, value })
}

function checkEncodable(a: Advert, ph: PseudoHeader | undefined): void {
  const u8 = (field: string, v: number) => {
    if (!Number.isInteger(v) || v < 0 || v > 255) invalid(field, v)
  }
  u8('vrid', a.vrid)
  u8('priority', a.priority)
  u8('addrs.length', a.addrs.length)
  if (!Number.isInteger(a.type) || a.type < 0 || a.type > 15) invalid('type', a.type)
  for (const x of a.addrs) if (x.family !== a.family) invalid('addrs.family', x.family)
  if (a.version === 2) {
    u8('interval', a.interval)
    if (a.family !== 4) invalid('family', a.family)
    if (a.auth) {
      u8('auth.type', a.auth.type)
      if (a.auth.data.length !== AUTH_DATA_LEN) invalid('auth.data.length', a.auth.data.length)
    }
  } else {
    if (!Number.isInteger(a.interval) || a.interval < 0 || a.interval > 0xfff) invalid('interval', a.interval)
    const r = a.rsvd ?? 0
    if (!Number.isInteger(r) || r < 0 || r > 15) invalid('rsvd', r)
    if (!ph) invalid('pseudoHeader', 'missing (VRRPv3 checksums cover the IP pseudo-header)')
    if (ph.src.family !== a.family || ph.dst.family !== a.family) invalid('pseudoHeader.family', ph.src.family)
  }
}

/** Writes the packet at `offset` with its checksum; returns the bytes written. */
export function encodeInto(a: Advert, buf: Buffer, offset: number, ph?: PseudoHeader): number {
  checkEncodable(a, ph)
  const n = size(a)
  if (offset < 0 || offset + n > buf.length) invalid('buffer', `${n} bytes at ${offset} in ${buf.length}`)
  buf[offset] = (a.version << 4) | a.type
  buf[offset + 1] = a.vrid
  buf[offset + 2] = a.priority
  buf[offset + 3] = a.addrs.length
  if (a.version === 2) {
    buf[offset + 4] = a.auth?.type ?? AUTH_NONE
    buf[offset + 5] = a.interval
  } else {
    buf.writeUInt16BE((((a.rsvd ?? 0) & 0xf) << 12) | a.interval, offset + 4)
  }
  buf.writeUInt16BE(0, offset + 6)
  let p = offset + HEADER_LEN
  for (const x of a.addrs) {
    buf.set(x.bytes, p)
    p += x.bytes.length
  }
  if (a.version === 2) {
    if (a.auth) buf.set(a.auth.data, p)
    else buf.fill(0, p, p + AUTH_DATA_LEN)
  }
  // v2: over the VRRP message only (RFC 3768 §5.3.8); v3: with the pseudo-header (RFC 5798 §5.2.8)
  const ck =
    a.version === 2 ? finish(sum16(buf, offset, n)) : pseudoChecksum(ph!.src, ph!.dst, IPPROTO_VRRP, buf, offset, n)
  buf.writeUInt16BE(ck, offset + 6)
  return n
}

export function encode(a: Advert, ph?: PseudoHeader): Buffer {
  const buf = Buffer.alloc(size(a))
  encodeInto(a, buf, 0, ph)
  return buf
}

function truncated(need: number, have: number): never {
  throw new LvsdError('LVSD_DECODE_TRUNCATED', `VRRP packet needs ${need} bytes, has ${have}`, { need, have })
}

/**
 * Decodes the packet at `offset`. A v3 packet does not say its address family, so the caller
 * passes the family of the IP packet it came in. Checks only what the layout depends on
 * (version, length); semantic checks are in validate.ts.
 */
export function decode(buf: Buffer, offset = 0, family: Family = 4): { value: Advert; bytes: number } {
  const have = buf.length - offset
  if (offset < 0 || have < HEADER_LEN) truncated(HEADER_LEN, Math.max(0, have))
  const b0 = buf[offset] ?? 0
  const version = b0 >> 4
  if (version !== 2 && version !== 3) {
    throw new LvsdError('LVSD_DECODE_INVALID', `VRRP version ${version} is neither 2 nor 3`, {
      field: 'version',
      version,
    })
  }
  if (version === 2 && family !== 4) {
    throw new LvsdError('LVSD_DECODE_INVALID', 'VRRPv2 is IPv4 only', { field: 'family', family })
  }
  const count = buf[offset + 3] ?? 0
  const al = addrLen(family)
  const need = HEADER_LEN + count * al + (version === 2 ? AUTH_DATA_LEN : 0)
  if (have < need) truncated(need, have)
  const addrs: Addr[] = []
  let p = offset + HEADER_LEN
  for (let i = 0; i < count; i++, p += al) addrs.push(addrFromBytes(buf.subarray(p, p + al)))
  const common = { type: b0 & 0xf, vrid: buf[offset + 1] ?? 0, priority: buf[offset + 2] ?? 0, family, addrs }
  if (version === 2) {
    const value: Advert = {
      version: 2,
      ...common,
      interval: buf[offset + 5] ?? 0,
      auth: { type: buf[offset + 4] ?? 0, data: Uint8Array.from(buf.subarray(p, p + AUTH_DATA_LEN)) },
    }
    return { value, bytes: need }
  }
  const w = buf.readUInt16BE(offset + 4)
  const rsvd = w >> 12
  // rsvd appears only when set, so a value built without it round-trips unchanged
  const value: Advert = { version: 3, ...common, interval: w & 0xfff, ...(rsvd ? { rsvd } : {}) }
  return { value, bytes: need }
}

/** The 8 authentication bytes for a type-1 (simple text) password: truncated or zero-padded. */
export function passwordAuthData(password: string): Uint8Array {
  const out = new Uint8Array(AUTH_DATA_LEN)
  out.set(Buffer.from(password, 'utf8').subarray(0, AUTH_DATA_LEN))
  return out
}
