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
const FIXED = 24 // type, code, checksum, flags + reserved, target

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

function invalidValue(field: string, value: unknown): never {
  throw new LvsdError('LVSD_ENCODE_INVALID', `NA ${field} cannot be encoded`, { field, value })
}

/**
 * Writes the message. The checksum is left 0 unless `ph` is given: a raw ICMPv6 socket has the
 * kernel fill it in (IPV6_CHECKSUM is always on for ICMPv6), fixtures need it computed.
 */
export function encodeInto(na: NeighborAdvert, buf: Buffer, offset: number, ph?: { src: Addr; dst: Addr }): number {
  const n = size(na)
  if (na.target.family !== 6) invalidValue('target', na.target.family)
  if (!Number.isInteger(na.code) || na.code < 0 || na.code > 255) invalidValue('code', na.code)
  const rsv = na.reserved ?? 0
  if (!Number.isInteger(rsv) || rsv < 0 || rsv >= 2 ** 29) invalidValue('reserved', rsv)
  checkOptions(na.options, 'NA')
  if (offset < 0 || offset + n > buf.length) invalidValue('buffer', buf.length - offset)
  buf[offset] = ICMPV6_NEIGHBOR_ADVERT
  buf[offset + 1] = na.code
  buf.writeUInt16BE(0, offset + 2)
  const flags = (na.router ? 0x80000000 : 0) | (na.solicited ? 0x40000000 : 0) | (na.override ? 0x20000000 : 0)
  buf.writeUInt32BE((flags | rsv) >>> 0, offset + 4)
  buf.set(na.target.bytes, offset + 8)
  writeOptions(na.options, buf, offset + FIXED)
  if (ph) buf.writeUInt16BE(pseudoChecksum(ph.src, ph.dst, IPPROTO_ICMPV6, buf, offset, n), offset + 2)
  return n
}

export function encode(na: NeighborAdvert, ph?: { src: Addr; dst: Addr }): Buffer {
  const buf = Buffer.alloc(size(na))
  encodeInto(na, buf, 0, ph)
  return buf
}

/** Decodes the message from `offset` to the end of `buf` (options run to the end of the packet). */
export function decode(buf: Buffer, offset = 0): { value: NeighborAdvert; bytes: number } {
  const have = buf.length - offset
  const truncated = (need: number): never => {
    throw new LvsdError('LVSD_DECODE_TRUNCATED', `NA needs ${need} bytes, has ${have}`, { need, have })
  }
  if (offset < 0 || have < FIXED) truncated(FIXED)
  if (buf[offset] !== ICMPV6_NEIGHBOR_ADVERT) {
    throw new LvsdError('LVSD_DECODE_INVALID', `ICMPv6 type ${buf[offset]} is not a Neighbor Advertisement`, {
      field: 'type',
      type: buf[offset],
    })
  }
  const w = buf.readUInt32BE(offset + 4)
  const options = readOptions(buf, offset + FIXED, buf.length, offset, 'NA')
  const reserved = w & 0x1fffffff
  const value: NeighborAdvert = {
    code: buf[offset + 1] ?? 0,
    router: (w & 0x80000000) !== 0,
    solicited: (w & 0x40000000) !== 0,
    override: (w & 0x20000000) !== 0,
    ...(reserved ? { reserved } : {}),
    target: addrFromBytes(buf.subarray(offset + 8, offset + 24)),
    options,
  }
  return { value, bytes: buf.length - offset }
}
