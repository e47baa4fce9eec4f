// The Internet checksum (RFC 1071) and the IPv4 / IPv6 pseudo-headers that upper-layer checksums
// cover (RFC 768 for IPv4, RFC 8200 §8.1 for IPv6). Used by VRRPv3 (RFC 5798 §5.2.8) and ICMPv6.
import type { Addr } from './addr.js'

/**
 * One's-complement sum of big-endian 16-bit words, not yet folded. An odd trailing byte counts as
 * the high byte of a word padded with zero (RFC 1071 §4.1). Partial sums may be chained through
 * `initial`, provided each chunk except the last has even length.
 */
export function sum16(buf: Uint8Array, offset = 0, length = buf.length - offset, initial = 0): number {
  let sum = initial
  const end = offset + length
  let i = offset
  for (; i + 1 < end; i += 2) sum += ((buf[i] ?? 0) << 8) | (buf[i + 1] ?? 0)
  if (i < end) sum += (buf[i] ?? 0) << 8
  // JS numbers stay exact far beyond any packet size; fold only at the end.
  return sum
}

/** Folds carries back into 16 bits and complements: the value written into a checksum field. */
export function finish(sum: number): number {
  let s = sum
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000)
  return ~s & 0xffff
}

/** RFC 1071 checksum of a byte range. Over data that includes a correct checksum this is 0. */
export function internetChecksum(buf: Uint8Array, offset = 0, length = buf.length - offset): number {
  return finish(sum16(buf, offset, length))
}

/**
 * Unfolded sum of the pseudo-header for an upper-layer message of `length` bytes with protocol
 * (IPv4) / next header (IPv6) `proto`. Source and destination must be the same family.
 */
export function pseudoHeaderSum(src: Addr, dst: Addr, proto: number, length: number): number {
  let sum = sum16(src.bytes) + sum16(dst.bytes)
  if (src.family === 4) {
    // IPv4: src, dst, zero, protocol, 16-bit length
    sum += (proto & 0xff) + (length & 0xffff)
  } else {
    // IPv6: src, dst, 32-bit length, three zero bytes, next header
    sum += Math.floor(length / 0x10000) + (length & 0xffff) + (proto & 0xff)
  }
  return sum
}

/** Checksum of an upper-layer message preceded by its pseudo-header. */
export function pseudoChecksum(
  src: Addr,
  dst: Addr,
  proto: number,
  buf: Uint8Array,
  offset = 0,
  length = buf.length - offset,
): number {
  return finish(sum16(buf, offset, length, pseudoHeaderSum(src, dst, proto, length)))
}
