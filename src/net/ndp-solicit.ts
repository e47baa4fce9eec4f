// ICMPv6 Neighbor Solicitation (RFC 4861 §4.3): the doctor's question "who has this address?" to a
// real server, carrying the director's MAC in a Source Link-Layer Address option (§4.6.1) so the
// server can answer without resolving the director first.
import { LvsdError } from '../errors.js'
import type { Addr } from './addr.js'
import { decodeNdMessage, encodeNdMessage, type NdOption, OPT_SOURCE_LLADDR, optionsSize } from './ndp.js'

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

/** Writes the message; the checksum is computed when the pseudo-header `ph` is given, else left 0. */
export function encodeInto(ns: NeighborSolicit, buf: Buffer, offset: number, ph?: { src: Addr; dst: Addr }): number {
  const rsv = ns.reserved ?? 0
  if (!Number.isInteger(rsv) || rsv < 0 || rsv >= 2 ** 32)
    throw new LvsdError('LVSD_ENCODE_INVALID', 'NS reserved cannot be encoded', { field: 'reserved', value: rsv })
  return encodeNdMessage(ICMPV6_NEIGHBOR_SOLICIT, 'NS', { ...ns, word: rsv }, buf, offset, ph)
}

export function encode(ns: NeighborSolicit, ph?: { src: Addr; dst: Addr }): Buffer {
  const buf = Buffer.alloc(size(ns))
  encodeInto(ns, buf, 0, ph)
  return buf
}

/** Decodes the message from `offset` to the end of `buf` (options run to the end of the packet). */
export function decode(buf: Buffer, offset = 0): { value: NeighborSolicit; bytes: number } {
  const m = decodeNdMessage(ICMPV6_NEIGHBOR_SOLICIT, 'NS', 'Neighbor Solicitation', buf, offset)
  const value: NeighborSolicit = {
    code: m.code,
    ...(m.word ? { reserved: m.word } : {}),
    target: m.target,
    options: m.options,
  }
  return { value, bytes: buf.length - offset }
}
