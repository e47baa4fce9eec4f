// Neighbor Discovery as whole Ethernet frames for an AF_PACKET socket (the doctor asks a real server
// about an address from the director's interface without the director's own neighbour table): the
// Neighbor Solicitation frame out (RFC 4861 §7.2.2: hop limit 255, to the target's solicited-node
// group, source link-layer option) and Neighbor Advertisements read back from any frame.
import { LvsdError } from '../errors.js'
import type { Addr } from './addr.js'
import {
  ETHERTYPE_IPV6,
  IPV6_HEADER_LEN,
  multicastMac,
  readIpv6Header,
  solicitedNode,
  writeIpv6Header,
} from './ipv6-header.js'
import * as na from './ndp.js'
import * as ns from './ndp-solicit.js'

const ETH = 14
/** RFC 4861 §7.1: a node accepts ND messages only with hop limit 255 (so they cannot come from off-link). */
export const ND_HOP_LIMIT = 255

export interface NsFrame {
  dstMac: Uint8Array
  srcMac: Uint8Array
  src: Addr
  /** The solicited-node group of the target, or the target itself (a unicast NS, §7.2.2). */
  dst: Addr
  ns: ns.NeighborSolicit
}

/**
 * The NS a host sends to resolve `target` from `src`: to the target's solicited-node group, with `mac`
 * in the option. `dstMac` replaces the group's MAC: sent to one host's MAC, only that host hears it.
 */
export function nsFor(target: Addr, src: Addr, mac: Uint8Array, dstMac?: Uint8Array): NsFrame {
  const dst = solicitedNode(target)
  return { dstMac: dstMac ?? multicastMac(dst), srcMac: mac, src, dst, ns: ns.solicit(target, mac) }
}

export function size(f: NsFrame): number {
  return ETH + IPV6_HEADER_LEN + ns.size(f.ns)
}

export function encodeInto(f: NsFrame, buf: Buffer, off: number): number {
  const n = size(f)
  if (f.dstMac.length !== 6 || f.srcMac.length !== 6)
    throw new LvsdError('LVSD_ENCODE_INVALID', 'NS frame MACs have 6 bytes', { field: 'mac' })
  if (off < 0 || off + n > buf.length)
    throw new LvsdError('LVSD_ENCODE_INVALID', 'NS frame does not fit the buffer', { field: 'buffer' })
  buf.set(f.dstMac, off)
  buf.set(f.srcMac, off + 6)
  buf.writeUInt16BE(ETHERTYPE_IPV6, off + 12)
  const body = n - ETH - IPV6_HEADER_LEN
  writeIpv6Header(
    {
      trafficClass: 0,
      flowLabel: 0,
      payloadLength: body,
      nextHeader: na.IPPROTO_ICMPV6,
      hopLimit: ND_HOP_LIMIT,
      src: f.src,
      dst: f.dst,
    },
    buf,
    off + ETH,
  )
  ns.encodeInto(f.ns, buf, off + ETH + IPV6_HEADER_LEN, { src: f.src, dst: f.dst })
  return n
}

export function encode(f: NsFrame): Buffer {
  const buf = Buffer.alloc(size(f))
  encodeInto(f, buf, 0)
  return buf
}

/** The IPv6 ICMPv6 packet in an Ethernet frame: its header and the ICMPv6 message's bounds. */
function icmpv6(buf: Buffer, off: number) {
  if (off < 0 || buf.length - off < ETH || buf.readUInt16BE(off + 12) !== ETHERTYPE_IPV6) return undefined
  const ip = readIpv6Header(buf, off + ETH)
  if (!ip || ip.nextHeader !== na.IPPROTO_ICMPV6) return undefined
  const start = off + ETH + IPV6_HEADER_LEN
  const end = start + ip.payloadLength
  // bytes past the payload are Ethernet padding; fewer bytes than the payload is a cut packet
  if (end > buf.length)
    throw new LvsdError('LVSD_DECODE_TRUNCATED', `ICMPv6 payload of ${ip.payloadLength} bytes is cut short`, {
      need: end - off,
      have: buf.length - off,
    })
  return { ip, start, end, type: buf[start] }
}

const macs = (buf: Buffer, off: number) => ({
  dstMac: Uint8Array.from(buf.subarray(off, off + 6)),
  srcMac: Uint8Array.from(buf.subarray(off + 6, off + 12)),
})

/** Decodes an NS frame (the probe's own, in tests); anything else is LVSD_DECODE_INVALID. */
export function decode(buf: Buffer, off = 0): { value: NsFrame; bytes: number } {
  const p = icmpv6(buf, off)
  if (!p || p.type !== ns.ICMPV6_NEIGHBOR_SOLICIT || p.ip.hopLimit !== ND_HOP_LIMIT)
    throw new LvsdError('LVSD_DECODE_INVALID', 'not a Neighbor Solicitation frame with hop limit 255', {
      field: 'frame',
    })
  const value = ns.decode(buf.subarray(p.start, p.end)).value
  return { value: { ...macs(buf, off), src: p.ip.src, dst: p.ip.dst, ns: value }, bytes: p.end - off }
}

/** A Neighbor Advertisement read from a frame, with the addresses it came from and went to. */
export interface NaSeen {
  dstMac: Uint8Array
  srcMac: Uint8Array
  src: Addr
  dst: Addr
  na: na.NeighborAdvert
}

/**
 * The NA in an Ethernet frame; undefined for any other frame and for an NA with a hop limit below 255
 * (§7.1.2: not from this link), which is not an error: a packet socket sees everything. A cut or
 * malformed NA throws LvsdError. The checksum is not verified: answers are told apart by their
 * addresses and MACs, and frames the host sends itself may carry an unfinished one.
 */
export function readNa(buf: Buffer, off = 0): NaSeen | undefined {
  const p = icmpv6(buf, off)
  if (!p || p.type !== na.ICMPV6_NEIGHBOR_ADVERT || p.ip.hopLimit !== ND_HOP_LIMIT) return undefined
  const value = na.decode(buf.subarray(p.start, p.end)).value
  return { ...macs(buf, off), src: p.ip.src, dst: p.ip.dst, na: value }
}

/** The MAC an NA gives for its target: its Target Link-Layer option, else the frame's source MAC. */
export function naMac(seen: NaSeen): Uint8Array {
  const opt = na.targetLinkAddr(seen.na)
  return opt && opt.length >= 6 ? Uint8Array.from(opt.subarray(0, 6)) : seen.srcMac
}
