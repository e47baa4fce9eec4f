// ICMPv6 Neighbor Solicitation (RFC 4861 §4.3): the doctor's question "who has this address?" to a
// real server, carrying the director's MAC in a Source Link-Layer Address option (§4.6.1) so the
// server can answer without resolving the director first.
import { LvsdError } from '../errors.js'
import { type Addr, addrFromBytes } from './addr.js'
import { pseudoChecksum } from './checksum.js'
import {
  checkOptions,
  IPPROTO_ICMPV6,
  type NdOption,
  OPT_SOURCE_LLADDR,
  optionsSize,
  readOptions,
  writeOptions,
} from './ndp.js'

export const ICMPV6_NEIGHBOR_SOLICIT = 135
const FIXED = 24 // type, code, checksum, reserved, target

export interface NeighborSolicit {
  code: number
  /** The 32 reserved bits (sent as 0, kept when decoded). */
  reserved?: number
  target: Addr
  options: NdOption[]
}

/** An NS for `target` from an interface with MAC `mac` (not from ::, so the option is required). */
export function solicit(target: Addr, mac: Uint8Array): NeighborSolicit {
  return { code: 0, target, options: [{ type: OPT_SOURCE_LLADDR, data: Uint8Array.from(mac) }] }
}

export function size(ns: NeighborSolicit): number {
  return FIXED + optionsSize(ns.options)
}

function invalidValue(field: string, value: unknown): never {
  throw new LvsdError('LVSD_ENCODE_INVALID', `NS ${field} cannot be encoded`, { field, value })
}

/** Writes the message; the checksum is computed when the pseudo-header `ph` is given, else left 0. */
export function encodeInto(ns: NeighborSolicit, buf: Buffer, offset: number, ph?: { src: Addr; dst: Addr }): number {
  const n = size(ns)
  if (ns.target.family !== 6) invalidValue('target', ns.target.family)
  if (!Number.isInteger(ns.code) || ns.code < 0 || ns.code > 255) invalidValue('code', ns.code)
  const rsv = ns.reserved ?? 0
  if (!Number.isInteger(rsv) || rsv < 0 || rsv >= 2 ** 32) invalidValue('reserved', rsv)
  checkOptions(ns.options, 'NS')
  if (offset < 0 || offset + n > buf.length) invalidValue('buffer', buf.length - offset)
  buf[offset] = ICMPV6_NEIGHBOR_SOLICIT
  buf[offset + 1] = ns.code
  buf.writeUInt16BE(0, offset + 2)
  buf.writeUInt32BE(rsv, offset + 4)
  buf.set(ns.target.bytes, offset + 8)
  writeOptions(ns.options, buf, offset + FIXED)
  if (ph) buf.writeUInt16BE(pseudoChecksum(ph.src, ph.dst, IPPROTO_ICMPV6, buf, offset, n), offset + 2)
  return n
}

export function encode(ns: NeighborSolicit, ph?: { src: Addr; dst: Addr }): Buffer {
  const buf = Buffer.alloc(size(ns))
  encodeInto(ns, buf, 0, ph)
  return buf
}

/** Decodes the message from `offset` to the end of `buf` (options run to the end of the packet). */
export function decode(buf: Buffer, offset = 0): { value: NeighborSolicit; bytes: number } {
  const have = buf.length - offset
  if (offset < 0 || have < FIXED)
    throw new LvsdError('LVSD_DECODE_TRUNCATED', `NS needs ${FIXED} bytes, has ${have}`, { need: FIXED, have })
  if (buf[offset] !== ICMPV6_NEIGHBOR_SOLICIT) {
    throw new LvsdError('LVSD_DECODE_INVALID', `ICMPv6 type ${buf[offset]} is not a Neighbor Solicitation`, {
      field: 'type',
      type: buf[offset],
    })
  }
  const reserved = buf.readUInt32BE(offset + 4)
  const value: NeighborSolicit = {
    code: buf[offset + 1] ?? 0,
    ...(reserved ? { reserved } : {}),
    target: addrFromBytes(buf.subarray(offset + 8, offset + 24)),
    options: readOptions(buf, offset + FIXED, buf.length, offset, 'NS'),
  }
  return { value, bytes: have }
}
