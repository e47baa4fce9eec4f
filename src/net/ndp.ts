// ICMPv6 Neighbor Advertisement (RFC 4861 §4.4, options §4.6) as written to a raw ICMPv6 socket:
// the unsolicited NA keepalived sends for a VIP on becoming master (R=0, S=0, O=1, Target
// Link-Layer Address option carrying the MAC; RFC 5798 §6.4.2).
import { LvsdError } from '../errors.js'
import { type Addr, addrFromBytes } from './addr.js'
import { pseudoChecksum } from './checksum.js'

export const ICMPV6_NEIGHBOR_ADVERT = 136
export const IPPROTO_ICMPV6 = 58
export const OPT_SOURCE_LLADDR = 1
export const OPT_TARGET_LLADDR = 2
const FIXED = 24 // type, code, checksum, flags + reserved (NS: reserved), target

/** An option's body: everything after its type and length bytes (length × 8 − 2 bytes; shorter
 * data is zero-padded to a multiple of 8, so only such lengths round-trip unchanged). */
export interface NdOption {
  type: number
  data: Uint8Array
}

export interface NeighborAdvert {
  code: number
  router: boolean
  solicited: boolean
  override: boolean
  /** The 29 reserved bits after R, S, O (sent as 0, kept when decoded). */
  reserved?: number
  target: Addr
  options: NdOption[]
}

/** keepalived's unsolicited NA for `vip`: not a router, not solicited, override. */
export function unsolicitedNa(vip: Addr, mac: Uint8Array): NeighborAdvert {
  return {
    code: 0,
    router: false,
    solicited: false,
    override: true,
    target: vip,
    options: [{ type: OPT_TARGET_LLADDR, data: Uint8Array.from(mac) }],
  }
}

/** The MAC in the Target Link-Layer Address option, if there is one. */
export function targetLinkAddr(na: NeighborAdvert): Uint8Array | undefined {
  return na.options.find((o) => o.type === OPT_TARGET_LLADDR)?.data
}

const optLen = (o: NdOption): number => Math.ceil((o.data.length + 2) / 8) * 8

/** The bytes `options` take on the wire, each padded to a multiple of 8. */
export function optionsSize(options: NdOption[]): number {
  return options.reduce((n, o) => n + optLen(o), 0)
}

export function size(na: NeighborAdvert): number {
  return FIXED + optionsSize(na.options)
}

/** Checks every option before anything is written (`what` names the message in the error). */
export function checkOptions(options: NdOption[], what: string): void {
  for (const o of options) {
    if (!Number.isInteger(o.type) || o.type < 0 || o.type > 255)
      throw new LvsdError('LVSD_ENCODE_INVALID', `${what} option.type cannot be encoded`, {
        field: 'option.type',
        value: o.type,
      })
    if (optLen(o) / 8 > 255)
      throw new LvsdError('LVSD_ENCODE_INVALID', `${what} option.length cannot be encoded`, {
        field: 'option.length',
        value: o.data.length,
      })
  }
}

/** Writes checked options at `p`; returns the offset after them. */
export function writeOptions(options: NdOption[], buf: Buffer, p: number): number {
  let at = p
  for (const o of options) {
    const l = optLen(o)
    buf[at] = o.type
    buf[at + 1] = l / 8
    buf.fill(0, at + 2, at + l)
    buf.set(o.data, at + 2)
    at += l
  }
  return at
}

/** Reads options from `p` to `end` (RFC 4861 §4.6); `start` is the message's offset, for the error's counts. */
export function readOptions(buf: Buffer, p: number, end: number, start: number, what: string): NdOption[] {
  const options: NdOption[] = []
  let at = p
  while (at < end) {
    if (at + 2 > end) truncatedOption(what, at + 2 - start, end - start)
    const l = (buf[at + 1] ?? 0) * 8
    // an option of length zero makes the whole packet invalid
    if (l === 0) throw new LvsdError('LVSD_DECODE_INVALID', `${what} option with length 0`, { field: 'option.length' })
    if (at + l > end) truncatedOption(what, at + l - start, end - start)
    options.push({ type: buf[at] ?? 0, data: Uint8Array.from(buf.subarray(at + 2, at + l)) })
    at += l
  }
  return options
}

function truncatedOption(what: string, need: number, have: number): never {
  throw new LvsdError('LVSD_DECODE_TRUNCATED', `${what} needs ${need} bytes, has ${have}`, { need, have })
}

/** The shape NS and NA share (RFC 4861 §4.3, §4.4): type, code, checksum, one 32-bit word, target, options. */
export interface NdMessage {
  code: number
  /** NA: the R, S, O flags and reserved bits; NS: the reserved bits. */
  word: number
  target: Addr
  options: NdOption[]
}

/** Writes `m` as ICMPv6 `type`, checked first (`what` names the message in errors); returns its length. */
export function encodeNdMessage(
  type: number,
  what: string,
  m: NdMessage,
  buf: Buffer,
  offset: number,
  ph?: { src: Addr; dst: Addr },
): number {
  const invalid = (field: string, value: unknown): never => {
    throw new LvsdError('LVSD_ENCODE_INVALID', `${what} ${field} cannot be encoded`, { field, value })
  }
  const n = FIXED + optionsSize(m.options)
  if (m.target.family !== 6) invalid('target', m.target.family)
  if (!Number.isInteger(m.code) || m.code < 0 || m.code > 255) invalid('code', m.code)
  checkOptions(m.options, what)
  if (offset < 0 || offset + n > buf.length) invalid('buffer', buf.length - offset)
  buf[offset] = type
  buf[offset + 1] = m.code
  buf.writeUInt16BE(0, offset + 2)
  buf.writeUInt32BE(m.word >>> 0, offset + 4)
  buf.set(m.target.bytes, offset + 8)
  writeOptions(m.options, buf, offset + FIXED)
  if (ph) buf.writeUInt16BE(pseudoChecksum(ph.src, ph.dst, IPPROTO_ICMPV6, buf, offset, n), offset + 2)
  return n
}

/** Reads an ICMPv6 `type` message from `offset` to the end of `buf` (options run to the end of the packet). */
export function decodeNdMessage(type: number, what: string, name: string, buf: Buffer, offset: number): NdMessage {
  const have = buf.length - offset
  if (offset < 0 || have < FIXED)
    throw new LvsdError('LVSD_DECODE_TRUNCATED', `${what} needs ${FIXED} bytes, has ${have}`, { need: FIXED, have })
  if (buf[offset] !== type) {
    throw new LvsdError('LVSD_DECODE_INVALID', `ICMPv6 type ${buf[offset]} is not a ${name}`, {
      field: 'type',
      type: buf[offset],
    })
  }
  return {
    code: buf[offset + 1] ?? 0,
    word: buf.readUInt32BE(offset + 4),
    target: addrFromBytes(buf.subarray(offset + 8, offset + 24)),
    options: readOptions(buf, offset + FIXED, buf.length, offset, what),
  }
}

/**
 * Writes the message. The checksum is left 0 unless `ph` is given: a raw ICMPv6 socket has the
 * kernel fill it in (IPV6_CHECKSUM is always on for ICMPv6), fixtures need it computed.
 */
export function encodeInto(na: NeighborAdvert, buf: Buffer, offset: number, ph?: { src: Addr; dst: Addr }): number {
  const rsv = na.reserved ?? 0
  if (!Number.isInteger(rsv) || rsv < 0 || rsv >= 2 ** 29)
    throw new LvsdError('LVSD_ENCODE_INVALID', 'NA reserved cannot be encoded', { field: 'reserved', value: rsv })
  const flags = (na.router ? 0x80000000 : 0) | (na.solicited ? 0x40000000 : 0) | (na.override ? 0x20000000 : 0)
  return encodeNdMessage(ICMPV6_NEIGHBOR_ADVERT, 'NA', { ...na, word: flags | rsv }, buf, offset, ph)
}

export function encode(na: NeighborAdvert, ph?: { src: Addr; dst: Addr }): Buffer {
  const buf = Buffer.alloc(size(na))
  encodeInto(na, buf, 0, ph)
  return buf
}

/** Decodes the message from `offset` to the end of `buf` (options run to the end of the packet). */
export function decode(buf: Buffer, offset = 0): { value: NeighborAdvert; bytes: number } {
  const m = decodeNdMessage(ICMPV6_NEIGHBOR_ADVERT, 'NA', 'Neighbor Advertisement', buf, offset)
  const reserved = m.word & 0x1fffffff
  const value: NeighborAdvert = {
    code: m.code,
    router: (m.word & 0x80000000) !== 0,
    solicited: (m.word & 0x40000000) !== 0,
    override: (m.word & 0x20000000) !== 0,
    ...(reserved ? { reserved } : {}),
    target: m.target,
    options: m.options,
  }
  return { value, bytes: buf.length - offset }
}
