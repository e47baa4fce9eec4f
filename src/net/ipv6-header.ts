// The fixed IPv6 header (RFC 8200 §3) of the doctor's raw Ethernet frames. No extension header is
// written; a packet whose first next header is not the protocol looked for is not read (the doctor's
// answers, NAs and TCP segments from a real server, never carry one).
import { LvsdError } from '../errors.js'
import { type Addr, addrFromBytes } from './addr.js'

export const ETHERTYPE_IPV6 = 0x86dd
export const IPV6_HEADER_LEN = 40

export interface Ipv6Header {
  trafficClass: number
  flowLabel: number
  payloadLength: number
  nextHeader: number
  hopLimit: number
  src: Addr
  dst: Addr
}

function invalidValue(field: string, value: unknown): never {
  throw new LvsdError('LVSD_ENCODE_INVALID', `IPv6 header ${field} cannot be encoded`, { field, value })
}

export function writeIpv6Header(h: Ipv6Header, buf: Buffer, off: number): number {
  if (h.src.family !== 6) invalidValue('src', h.src.family)
  if (h.dst.family !== 6) invalidValue('dst', h.dst.family)
  const byte = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 0 || v > 255) invalidValue(name, v)
  }
  byte('trafficClass', h.trafficClass)
  byte('nextHeader', h.nextHeader)
  byte('hopLimit', h.hopLimit)
  if (!Number.isInteger(h.flowLabel) || h.flowLabel < 0 || h.flowLabel >= 2 ** 20)
    invalidValue('flowLabel', h.flowLabel)
  if (!Number.isInteger(h.payloadLength) || h.payloadLength < 0 || h.payloadLength > 0xffff)
    invalidValue('payloadLength', h.payloadLength)
  if (off < 0 || off + IPV6_HEADER_LEN > buf.length) invalidValue('buffer', buf.length - off)
  buf.writeUInt32BE(((6 << 28) | (h.trafficClass << 20) | h.flowLabel) >>> 0, off)
  buf.writeUInt16BE(h.payloadLength, off + 4)
  buf[off + 6] = h.nextHeader
  buf[off + 7] = h.hopLimit
  buf.set(h.src.bytes, off + 8)
  buf.set(h.dst.bytes, off + 24)
  return IPV6_HEADER_LEN
}

/** The header at `off`; undefined when fewer than 40 bytes are left or the version is not 6. */
export function readIpv6Header(buf: Buffer, off: number): Ipv6Header | undefined {
  if (off < 0 || buf.length - off < IPV6_HEADER_LEN) return undefined
  const w = buf.readUInt32BE(off)
  if (w >>> 28 !== 6) return undefined
  return {
    trafficClass: (w >>> 20) & 0xff,
    flowLabel: w & 0xfffff,
    payloadLength: buf.readUInt16BE(off + 4),
    nextHeader: buf[off + 6] ?? 0,
    hopLimit: buf[off + 7] ?? 0,
    src: addrFromBytes(buf.subarray(off + 8, off + 24)),
    dst: addrFromBytes(buf.subarray(off + 24, off + 40)),
  }
}

/** The solicited-node multicast address of `a` (RFC 4291 §2.7.1): ff02::1:ff and its last 24 bits. */
export function solicitedNode(a: Addr): Addr {
  if (a.family !== 6) invalidValue('solicited-node target', a.family)
  const b = new Uint8Array(16)
  b.set([0xff, 0x02], 0)
  b.set([0x01, 0xff], 11)
  b.set(a.bytes.subarray(13, 16), 13)
  return { family: 6, bytes: b }
}

/** The Ethernet address of an IPv6 multicast group (RFC 2464 §7): 33:33 and its last 32 bits. */
export function multicastMac(group: Addr): Uint8Array {
  if (group.family !== 6 || group.bytes[0] !== 0xff) invalidValue('multicast group', group)
  return Uint8Array.of(0x33, 0x33, ...group.bytes.subarray(12, 16))
}
