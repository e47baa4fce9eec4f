// Readers and writers for integers in host byte order, as kernel structures hold them (the
// family of a sockaddr, an ifindex, a cmsghdr length); network-order fields use Buffer's BE calls.
import { endianness } from 'node:os'

const LE = endianness() === 'LE'

export function u16h(b: Buffer, off: number): number {
  return LE ? b.readUInt16LE(off) : b.readUInt16BE(off)
}
export function u32h(b: Buffer, off: number): number {
  return LE ? b.readUInt32LE(off) : b.readUInt32BE(off)
}
export function i32h(b: Buffer, off: number): number {
  return LE ? b.readInt32LE(off) : b.readInt32BE(off)
}
/** A size_t; values beyond 2^53 come back as Infinity (callers treat them as malformed). */
export function u64h(b: Buffer, off: number): number {
  // two 32-bit reads, not a BigInt: this runs three times for every datagram received with a timestamp
  const hi = LE ? b.readUInt32LE(off + 4) : b.readUInt32BE(off)
  const lo = LE ? b.readUInt32LE(off) : b.readUInt32BE(off + 4)
  return hi >= 2 ** 21 ? Number.POSITIVE_INFINITY : hi * 2 ** 32 + lo
}
export function putU16h(b: Buffer, v: number, off: number): void {
  LE ? b.writeUInt16LE(v, off) : b.writeUInt16BE(v, off)
}
export function putU32h(b: Buffer, v: number, off: number): void {
  LE ? b.writeUInt32LE(v >>> 0, off) : b.writeUInt32BE(v >>> 0, off)
}
export function putI32h(b: Buffer, v: number, off: number): void {
  LE ? b.writeInt32LE(v, off) : b.writeInt32BE(v, off)
}
export function putU64h(b: Buffer, v: number, off: number): void {
  LE ? b.writeBigUInt64LE(BigInt(v), off) : b.writeBigUInt64BE(BigInt(v), off)
}

/** A 16-bit value in network order, read back as a host integer: socket(AF_PACKET, …, htons(p)). */
export function htons(v: number): number {
  return LE ? ((v & 0xff) << 8) | ((v >> 8) & 0xff) : v & 0xffff
}
