// RFC 793 §3.1 / RFC 791 §3.1 / RFC 8200 §3, §8.1 / RFC 2003 §3: an Ethernet II frame carrying a TCP SYN
// over IPv4 or IPv6 (the doctor's probe of a real server: dst MAC = the server, dst IP = the VIP),
// optionally inside an IP-in-IP header (the LVS-TUN probe, IPv4 only: outer dst = the server), and the
// reading of TCP answers from raw frames of either family.
import { LvsdError } from '../errors.js'
import { type Addr, addrFromBytes } from './addr.js'
import { internetChecksum, pseudoChecksum } from './checksum.js'
import { ETHERTYPE_IPV6, IPV6_HEADER_LEN, readIpv6Header, writeIpv6Header } from './ipv6-header.js'

export const SYN_FRAME_LEN = 54
/** Ethernet, the fixed IPv6 header (next header 6) and a 20-byte TCP header. */
export const SYN6_FRAME_LEN = 74
/** The IP-in-IP (protocol 4) header LVS-TUN puts in front: one more IPv4 header. */
export const IPIP_LEN = 20
export const IPPROTO_IPIP = 4
export const TCP_SYN = 0x02
export const TCP_RST = 0x04
export const TCP_ACK = 0x10

export interface SynProbe {
  dstMac: Uint8Array
  srcMac: Uint8Array
  src: Addr
  dst: Addr
  srcPort: number
  dstPort: number
  seq: number
  /** Encapsulate in IP-in-IP from `src` to `dst` (RFC 2003), as an LVS-TUN director does. */
  tunnel?: { src: Addr; dst: Addr }
}

/** A TCP segment read from a frame: addresses, ports and flags, enough to match it to a probe. */
export interface TcpSeen {
  dstMac: Uint8Array
  srcMac: Uint8Array
  src: Addr
  dst: Addr
  srcPort: number
  dstPort: number
  flags: number
  ack: number
}

export function size(p: SynProbe): number {
  return p.src.family === 6 ? SYN6_FRAME_LEN : SYN_FRAME_LEN + (p.tunnel ? IPIP_LEN : 0)
}

/** An IPv4 header without options, checksum filled in. */
function ipv4Header(buf: Buffer, ip: number, totalLen: number, id: number, proto: number, src: Addr, dst: Addr): void {
  buf.writeUInt8(0x45, ip)
  buf.writeUInt8(0, ip + 1)
  buf.writeUInt16BE(totalLen, ip + 2)
  buf.writeUInt16BE(id & 0xffff, ip + 4)
  buf.writeUInt16BE(0x4000, ip + 6) // DF
  buf.writeUInt8(64, ip + 8)
  buf.writeUInt8(proto, ip + 9)
  buf.writeUInt16BE(0, ip + 10)
  buf.set(src.bytes, ip + 12)
  buf.set(dst.bytes, ip + 16)
  buf.writeUInt16BE(internetChecksum(buf, ip, 20), ip + 10)
}

function invalid(message: string, field: string): never {
  throw new LvsdError('LVSD_ENCODE_INVALID', message, { field })
}

export function encodeInto(p: SynProbe, buf: Buffer, off: number): number {
  const v4 = (a: Addr) => a.family === 4
  if (p.src.family !== p.dst.family) invalid('the SYN probe mixes IPv4 and IPv6', 'family')
  if (p.tunnel && (!v4(p.src) || !v4(p.tunnel.src) || !v4(p.tunnel.dst)))
    invalid('the IP-in-IP SYN probe is IPv4 only', 'family')
  if (p.dstMac.length !== 6 || p.srcMac.length !== 6) invalid('the SYN probe MACs have 6 bytes', 'mac')
  if (off < 0 || off + size(p) > buf.length) invalid('the SYN probe does not fit the buffer', 'buffer')
  buf.set(p.dstMac, off)
  buf.set(p.srcMac, off + 6)
  let tcp: number
  if (v4(p.src)) {
    buf.writeUInt16BE(0x0800, off + 12)
    let ip = off + 14
    if (p.tunnel) {
      ipv4Header(buf, ip, IPIP_LEN + 40, p.seq >>> 16, IPPROTO_IPIP, p.tunnel.src, p.tunnel.dst)
      ip += IPIP_LEN
    }
    ipv4Header(buf, ip, 40, p.seq, 6, p.src, p.dst)
    tcp = ip + 20
  } else {
    buf.writeUInt16BE(ETHERTYPE_IPV6, off + 12)
    const h = { trafficClass: 0, flowLabel: 0, payloadLength: 20, nextHeader: 6, hopLimit: 64 }
    writeIpv6Header({ ...h, src: p.src, dst: p.dst }, buf, off + 14)
    tcp = off + 14 + IPV6_HEADER_LEN
  }
  buf.writeUInt16BE(p.srcPort, tcp)
  buf.writeUInt16BE(p.dstPort, tcp + 2)
  buf.writeUInt32BE(p.seq >>> 0, tcp + 4)
  buf.writeUInt32BE(0, tcp + 8)
  buf.writeUInt8(5 << 4, tcp + 12)
  buf.writeUInt8(TCP_SYN, tcp + 13)
  buf.writeUInt16BE(65535, tcp + 14)
  buf.writeUInt16BE(0, tcp + 16)
  buf.writeUInt16BE(0, tcp + 18)
  buf.writeUInt16BE(pseudoChecksum(p.src, p.dst, 6, buf.subarray(tcp, tcp + 20)), tcp + 16)
  return size(p)
}

export function encode(p: SynProbe): Buffer {
  const buf = Buffer.alloc(size(p))
  encodeInto(p, buf, 0)
  return buf
}

/** Where the TCP header of an IPv4 or IPv6 frame starts, and its addresses; undefined when it has none. */
function tcpIn(buf: Buffer, off: number): { tcp: number; src: Addr; dst: Addr } | undefined {
  const type = buf.readUInt16BE(off + 12)
  const ip = off + 14
  if (type === ETHERTYPE_IPV6) {
    // a TCP answer from a real server carries no extension header: any other next header is not one
    const h = readIpv6Header(buf, ip)
    return h && h.nextHeader === 6 ? { tcp: ip + IPV6_HEADER_LEN, src: h.src, dst: h.dst } : undefined
  }
  if (type !== 0x0800) return undefined
  const ihl = (buf.readUInt8(ip) & 0x0f) * 4
  if (buf.readUInt8(ip) >> 4 !== 4 || ihl < 20 || buf.readUInt8(ip + 9) !== 6) return undefined
  const src = addrFromBytes(buf.subarray(ip + 12, ip + 16))
  return { tcp: ip + ihl, src, dst: addrFromBytes(buf.subarray(ip + 16, ip + 20)) }
}

/** A TCP segment in an Ethernet II IPv4 or IPv6 frame; undefined for any other frame (not an error: sockets see everything). */
export function decode(buf: Buffer, off = 0): { value: TcpSeen; bytes: number } | undefined {
  if (off < 0 || buf.length - off < 14 + 20) return undefined
  const at = tcpIn(buf, off)
  if (!at) return undefined
  const { tcp } = at
  if (buf.length < tcp + 20) {
    throw new LvsdError('LVSD_DECODE_TRUNCATED', 'TCP header cut short', { len: buf.length - off })
  }
  return {
    value: {
      dstMac: Uint8Array.from(buf.subarray(off, off + 6)),
      srcMac: Uint8Array.from(buf.subarray(off + 6, off + 12)),
      src: at.src,
      dst: at.dst,
      srcPort: buf.readUInt16BE(tcp),
      dstPort: buf.readUInt16BE(tcp + 2),
      flags: buf.readUInt8(tcp + 13),
      ack: buf.readUInt32BE(tcp + 8),
    },
    bytes: tcp + 20 - off,
  }
}

/** How a server answered a SYN probe. */
export type SynAnswerOf = 'syn-ack' | 'rst'
