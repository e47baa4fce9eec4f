// ARP over Ethernet for IPv4 (RFC 826), framed with its Ethernet II header, as sent through an
// AF_PACKET socket: the 42-byte gratuitous ARP keepalived sends for a VIP (RFC 5227 §3 / RFC 5798
// §6.4.2: ARP request, sender IP = target IP = VIP, target MAC ff:ff:ff:ff:ff:ff as keepalived).
import { LvsdError } from '../errors.js'
import { type Addr, addrFromBytes } from './addr.js'

export const ETHERTYPE_ARP = 0x0806
export const ETHERTYPE_IPV4 = 0x0800
export const ARP_REQUEST = 1
export const ARP_REPLY = 2
export const FRAME_LEN = 42
export const BROADCAST: Uint8Array = new Uint8Array(6).fill(0xff)

/** An Ethernet frame carrying ARP for IPv4 (hardware type 1, protocol 0x0800). */
export interface ArpFrame {
  /** Ethernet destination and source. */
  dst: Uint8Array
  src: Uint8Array
  op: number
  /** Sender / target hardware and protocol addresses. */
  sha: Uint8Array
  spa: Addr
  tha: Uint8Array
  tpa: Addr
}

/** keepalived's gratuitous ARP for `vip` from `mac`. */
export function gratuitousArp(mac: Uint8Array, vip: Addr): ArpFrame {
  return { dst: BROADCAST, src: mac, op: ARP_REQUEST, sha: mac, spa: vip, tha: BROADCAST, tpa: vip }
}

export function size(_f: ArpFrame): number {
  return FRAME_LEN
}

function invalidValue(field: string, value: unknown): never {
  throw new LvsdError('LVSD_ENCODE_INVALID', `ARP ${field} cannot be encoded`, { field, value })
}

export function encodeInto(f: ArpFrame, buf: Buffer, offset: number): number {
  for (const [name, mac] of [
    ['dst', f.dst],
    ['src', f.src],
    ['sha', f.sha],
    ['tha', f.tha],
  ] as const) {
    if (mac.length !== 6) invalidValue(name, mac.length)
  }
  if (f.spa.family !== 4) invalidValue('spa', f.spa.family)
  if (f.tpa.family !== 4) invalidValue('tpa', f.tpa.family)
  if (!Number.isInteger(f.op) || f.op < 0 || f.op > 0xffff) invalidValue('op', f.op)
  if (offset < 0 || offset + FRAME_LEN > buf.length) invalidValue('buffer', buf.length - offset)
  buf.set(f.dst, offset)
  buf.set(f.src, offset + 6)
  buf.writeUInt16BE(ETHERTYPE_ARP, offset + 12)
  buf.writeUInt16BE(1, offset + 14) // hardware type: Ethernet
  buf.writeUInt16BE(ETHERTYPE_IPV4, offset + 16)
  buf[offset + 18] = 6
  buf[offset + 19] = 4
  buf.writeUInt16BE(f.op, offset + 20)
  buf.set(f.sha, offset + 22)
  buf.set(f.spa.bytes, offset + 28)
  buf.set(f.tha, offset + 32)
  buf.set(f.tpa.bytes, offset + 38)
  return FRAME_LEN
}

export function encode(f: ArpFrame): Buffer {
  const buf = Buffer.alloc(FRAME_LEN)
  encodeInto(f, buf, 0)
  return buf
}

/** Decodes one frame; bytes past 42 (Ethernet minimum-size padding) are not consumed. */
export function decode(buf: Buffer, offset = 0): { value: ArpFrame; bytes: number } {
  const have = buf.length - offset
  if (offset < 0 || have < FRAME_LEN) {
    throw new LvsdError('LVSD_DECODE_TRUNCATED', `ARP frame needs ${FRAME_LEN} bytes, has ${have}`, {
      need: FRAME_LEN,
      have,
    })
  }
  const expect = (field: string, got: number, want: number) => {
    if (got !== want) {
      throw new LvsdError('LVSD_DECODE_INVALID', `ARP ${field} is ${got}, not ${want}`, { field, got, want })
    }
  }
  expect('ethertype', buf.readUInt16BE(offset + 12), ETHERTYPE_ARP)
  expect('htype', buf.readUInt16BE(offset + 14), 1)
  expect('ptype', buf.readUInt16BE(offset + 16), ETHERTYPE_IPV4)
  expect('hlen', buf[offset + 18] ?? 0, 6)
  expect('plen', buf[offset + 19] ?? 0, 4)
  const mac = (at: number) => Uint8Array.from(buf.subarray(offset + at, offset + at + 6))
  const value: ArpFrame = {
    dst: mac(0),
    src: mac(6),
    op: buf.readUInt16BE(offset + 20),
    sha: mac(22),
    spa: addrFromBytes(buf.subarray(offset + 28, offset + 32)),
    tha: mac(32),
    tpa: addrFromBytes(buf.subarray(offset + 38, offset + 42)),
  }
  return { value, bytes: FRAME_LEN }
}
