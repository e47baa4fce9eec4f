// Linux socket address structures (<netinet/in.h>, <linux/if_packet.h>, <linux/netlink.h>) and the
// multicast membership requests ip_mreqn / ipv6_mreq, as bytes. Family and integer fields are in
// host byte order, ports and the packet protocol in network order (node-systems-notes §3.3).
import { LvsdError } from '../errors.js'
import { AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, AF_UNIX } from './constants.js'
import { i32h, putI32h, putU16h, putU32h, u16h, u32h } from './hostorder.js'

export const SOCKADDR_IN_SIZE = 16
export const SOCKADDR_IN6_SIZE = 28
export const SOCKADDR_LL_SIZE = 20
export const SOCKADDR_NL_SIZE = 12
/** sizeof(struct sockaddr_storage): big enough for any address recvmsg returns. */
export const SOCKADDR_STORAGE_SIZE = 128

export interface SockaddrIn {
  family: typeof AF_INET
  addr: Uint8Array // 4 bytes
  port: number
}

export interface SockaddrIn6 {
  family: typeof AF_INET6
  addr: Uint8Array // 16 bytes
  port: number
  flowinfo: number
  scopeId: number
}

export interface SockaddrLl {
  family: typeof AF_PACKET
  /** Ethertype, e.g. ETH_P_ARP (host value; stored big-endian). */
  protocol: number
  ifindex: number
  hatype: number
  pkttype: number
  /** Hardware address (halen bytes, at most 8). */
  addr: Uint8Array
}

export interface SockaddrNl {
  family: typeof AF_NETLINK
  pid: number
  groups: number
}

export type Sockaddr = SockaddrIn | SockaddrIn6 | SockaddrLl | SockaddrNl | { family: number; raw: Buffer }

function need(bytes: Uint8Array, len: number, what: string): void {
  if (bytes.length !== len) {
    throw new LvsdError('LVSD_DECODE_INVALID', `${what} needs ${len} bytes, got ${bytes.length}`, { what })
  }
}

export function sockaddrIn(addr: Uint8Array, port = 0): Buffer {
  need(addr, 4, 'IPv4 address')
  const b = Buffer.alloc(SOCKADDR_IN_SIZE)
  putU16h(b, AF_INET, 0)
  b.writeUInt16BE(port, 2)
  b.set(addr, 4)
  return b
}

export function sockaddrIn6(
  addr: Uint8Array,
  opts: { port?: number; flowinfo?: number; scopeId?: number } = {},
): Buffer {
  need(addr, 16, 'IPv6 address')
  const b = Buffer.alloc(SOCKADDR_IN6_SIZE)
  putU16h(b, AF_INET6, 0)
  b.writeUInt16BE(opts.port ?? 0, 2)
  b.writeUInt32BE(opts.flowinfo ?? 0, 4)
  b.set(addr, 8)
  putU32h(b, opts.scopeId ?? 0, 24)
  return b
}

export function sockaddrLl(opts: {
  protocol: number
  ifindex: number
  addr?: Uint8Array
  hatype?: number
  pkttype?: number
}): Buffer {
  const hw = opts.addr ?? new Uint8Array(0)
  if (hw.length > 8) throw new LvsdError('LVSD_DECODE_INVALID', 'sockaddr_ll holds at most 8 address bytes')
  const b = Buffer.alloc(SOCKADDR_LL_SIZE)
  putU16h(b, AF_PACKET, 0)
  b.writeUInt16BE(opts.protocol, 2)
  putI32h(b, opts.ifindex, 4)
  putU16h(b, opts.hatype ?? 0, 8)
  b[10] = opts.pkttype ?? 0
  b[11] = hw.length
  b.set(hw, 12)
  return b
}

export function sockaddrNl(pid = 0, groups = 0): Buffer {
  const b = Buffer.alloc(SOCKADDR_NL_SIZE)
  putU16h(b, AF_NETLINK, 0)
  putU32h(b, pid, 4)
  putU32h(b, groups, 8)
  return b
}

/**
 * sockaddr_un for a path, or for an abstract name (Linux: leading NUL, no filesystem entry, gone
 * with the socket), which tests use for local datagram pairs.
 */
export function sockaddrUn(name: string, opts: { abstract?: boolean } = {}): Buffer {
  const path = Buffer.from(name, 'utf8')
  const lead = opts.abstract ? 1 : 0
  if (lead + path.length > 107) throw new LvsdError('LVSD_DECODE_INVALID', 'sockaddr_un path longer than 107 bytes')
  const b = Buffer.alloc(2 + lead + path.length + (opts.abstract ? 0 : 1))
  putU16h(b, AF_UNIX, 0)
  path.copy(b, 2 + lead)
  return b
}

/** Decodes a sockaddr by its family; unknown families come back raw. */
export function decodeSockaddr(buf: Buffer): Sockaddr {
  if (buf.length < 2) throw new LvsdError('LVSD_DECODE_TRUNCATED', 'sockaddr shorter than its family field')
  const family = u16h(buf, 0)
  const atLeast = (n: number) => {
    if (buf.length < n) throw new LvsdError('LVSD_DECODE_TRUNCATED', `sockaddr of family ${family} needs ${n} bytes`)
  }
  switch (family) {
    case AF_INET:
      atLeast(8)
      return { family, port: buf.readUInt16BE(2), addr: Uint8Array.from(buf.subarray(4, 8)) }
    case AF_INET6:
      atLeast(SOCKADDR_IN6_SIZE)
      return {
        family,
        port: buf.readUInt16BE(2),
        flowinfo: buf.readUInt32BE(4),
        addr: Uint8Array.from(buf.subarray(8, 24)),
        scopeId: u32h(buf, 24),
      }
    case AF_PACKET: {
      atLeast(12)
      const halen = Math.min(buf[11] ?? 0, 8, buf.length - 12)
      return {
        family,
        protocol: buf.readUInt16BE(2),
        ifindex: i32h(buf, 4),
        hatype: u16h(buf, 8),
        pkttype: buf[10] ?? 0,
        addr: Uint8Array.from(buf.subarray(12, 12 + halen)),
      }
    }
    case AF_NETLINK:
      atLeast(SOCKADDR_NL_SIZE)
      return { family, pid: u32h(buf, 4), groups: u32h(buf, 8) }
    default:
      return { family, raw: Buffer.from(buf) }
  }
}

/** struct ip_mreqn for IP_ADD_MEMBERSHIP / IP_MULTICAST_IF: group, local address, ifindex. */
export function ipMreqn(group: Uint8Array, opts: { address?: Uint8Array; ifindex?: number } = {}): Buffer {
  need(group, 4, 'IPv4 group')
  const b = Buffer.alloc(12)
  b.set(group, 0)
  if (opts.address) {
    need(opts.address, 4, 'IPv4 address')
    b.set(opts.address, 4)
  }
  putI32h(b, opts.ifindex ?? 0, 8)
  return b
}

/** struct ipv6_mreq for IPV6_JOIN_GROUP / IPV6_LEAVE_GROUP. */
export function ipv6Mreq(group: Uint8Array, ifindex: number): Buffer {
  need(group, 16, 'IPv6 group')
  const b = Buffer.alloc(20)
  b.set(group, 0)
  putI32h(b, ifindex, 16)
  return b
}
