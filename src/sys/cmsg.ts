// Ancillary data from recvmsg (<sys/socket.h> cmsghdr, <netinet/in.h> in_pktinfo/in6_pktinfo) on
// 64-bit Linux: a 16-byte header (len as size_t, level, type), data and next header 8-aligned.
import {
  IP_PKTINFO,
  IP_TTL,
  IPV6_HOPLIMIT,
  IPV6_PKTINFO,
  SO_TIMESTAMPNS,
  SOL_IP,
  SOL_IPV6,
  SOL_SOCKET,
} from './constants.js'
import { i32h, putI32h, putU64h, u64h } from './hostorder.js'
import type { ControlInfo } from './types.js'

export const CMSG_HDR_SIZE = 16
const ALIGN = 8

const align = (n: number) => (n + ALIGN - 1) & ~(ALIGN - 1)

/**
 * Parses the first `len` bytes of a control buffer. The kernel writes it, so a malformed header
 * ends the walk rather than throwing: whatever parsed before it is returned.
 */
export function parseCmsgs(buf: Buffer, len: number = buf.length): ControlInfo {
  const info: ControlInfo = {}
  const end = Math.min(len, buf.length)
  let off = 0
  while (off + CMSG_HDR_SIZE <= end) {
    const cl = u64h(buf, off)
    if (cl < CMSG_HDR_SIZE || off + cl > end) break
    const level = i32h(buf, off + 8)
    const type = i32h(buf, off + 12)
    // read in place: a view per message was an allocation per datagram on every receive
    if (!decodeKnown(info, level, type, buf, off + CMSG_HDR_SIZE, cl - CMSG_HDR_SIZE)) {
      info.other ??= []
      info.other.push({ level, type, data: Buffer.from(buf.subarray(off + CMSG_HDR_SIZE, off + cl)) })
    }
    off += align(cl)
  }
  return info
}

/** One message's data, `len` bytes at `at` in `buf`. */
function decodeKnown(info: ControlInfo, level: number, type: number, buf: Buffer, at: number, len: number): boolean {
  if (level === SOL_IP && type === IP_TTL && len >= 4) {
    info.ttl = i32h(buf, at)
    return true
  }
  if (level === SOL_IP && type === IP_PKTINFO && len >= 12) {
    // struct in_pktinfo { int ipi_ifindex; in_addr ipi_spec_dst; in_addr ipi_addr; }
    info.pktinfo4 = {
      ifindex: i32h(buf, at),
      specDst: Uint8Array.from(buf.subarray(at + 4, at + 8)),
      addr: Uint8Array.from(buf.subarray(at + 8, at + 12)),
    }
    return true
  }
  if (level === SOL_IPV6 && type === IPV6_HOPLIMIT && len >= 4) {
    info.hopLimit = i32h(buf, at)
    return true
  }
  if (level === SOL_SOCKET && type === SO_TIMESTAMPNS && len >= 16) {
    // struct timespec { time_t tv_sec; long tv_nsec; } on 64-bit Linux
    info.timestampNs = u64h(buf, at) * 1e9 + u64h(buf, at + 8)
    return true
  }
  if (level === SOL_IPV6 && type === IPV6_PKTINFO && len >= 20) {
    // struct in6_pktinfo { in6_addr ipi6_addr; int ipi6_ifindex; }
    info.pktinfo6 = { addr: Uint8Array.from(buf.subarray(at, at + 16)), ifindex: i32h(buf, at + 16) }
    return true
  }
  return false
}

/** Builds one control message (header + data + padding), as the kernel lays it out. */
export function encodeCmsg(level: number, type: number, data: Uint8Array): Buffer {
  const len = CMSG_HDR_SIZE + data.length
  const b = Buffer.alloc(align(len))
  putU64h(b, len, 0)
  putI32h(b, level, 8)
  putI32h(b, type, 12)
  b.set(data, CMSG_HDR_SIZE)
  return b
}
