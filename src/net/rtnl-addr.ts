// rtnetlink addresses: struct ifaddrmsg + IFA_* attributes (<linux/if_addr.h>, <linux/rtnetlink.h>);
// RTM_NEWADDR/RTM_DELADDR requests for VIPs and decoding of dumps and notifications.

import { LvsdError } from '../errors.js'
import { type Addr, AF_INET, AF_INET6, addrFromBytes, type Family, type Prefix } from './addr.js'
import {
  type Attr,
  AttrBuilder,
  Attrs,
  size as attrsSize,
  decode as decodeAttrs,
  encode as encodeAttrs,
  required,
} from './nlattr.js'
import { NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST, type NlMessage } from './nlmsg.js'

export const RTM_NEWADDR = 20
export const RTM_DELADDR = 21
export const RTM_GETADDR = 22

export const RTNLGRP_IPV4_IFADDR = 5
export const RTNLGRP_IPV6_IFADDR = 9

export const IFA_ADDRESS = 1
export const IFA_LOCAL = 2
export const IFA_LABEL = 3
export const IFA_BROADCAST = 4
export const IFA_ANYCAST = 5
export const IFA_CACHEINFO = 6
export const IFA_MULTICAST = 7
export const IFA_FLAGS = 8
export const IFA_RT_PRIORITY = 9
export const IFA_PROTO = 11

export const IFA_F_SECONDARY = 0x01
export const IFA_F_NODAD = 0x02
export const IFA_F_OPTIMISTIC = 0x04
export const IFA_F_DADFAILED = 0x08
export const IFA_F_HOMEADDRESS = 0x10
export const IFA_F_DEPRECATED = 0x20
export const IFA_F_TENTATIVE = 0x40
export const IFA_F_PERMANENT = 0x80
export const IFA_F_MANAGETEMPADDR = 0x100
export const IFA_F_NOPREFIXROUTE = 0x200
export const IFA_F_MCAUTOJOIN = 0x400
export const IFA_F_STABLE_PRIVACY = 0x800

export const RT_SCOPE_UNIVERSE = 0
export const RT_SCOPE_SITE = 200
export const RT_SCOPE_LINK = 253
export const RT_SCOPE_HOST = 254

export const IFADDRMSG_LEN = 8
/** IFA_LABEL is an interface name: IFNAMSIZ (16) with its NUL. */
export const IFNAMSIZ = 16

/** struct ifaddrmsg plus its attributes, kept raw for lossless re-encoding. */
export interface IfAddr {
  family: number
  prefixLen: number
  /** The legacy u8 flags; IFA_FLAGS (u32) holds the full set. */
  flags: number
  scope: number
  index: number
  attrs: Attr[]
}

export function size(v: IfAddr): number {
  return IFADDRMSG_LEN + attrsSize(v.attrs)
}

export function encodeInto(v: IfAddr, buf: Buffer, off: number): number {
  buf.writeUInt8(v.family, off)
  buf.writeUInt8(v.prefixLen, off + 1)
  buf.writeUInt8(v.flags & 0xff, off + 2)
  buf.writeUInt8(v.scope, off + 3)
  buf.writeUInt32LE(v.index >>> 0, off + 4)
  return IFADDRMSG_LEN + encodeAttrs(v.attrs).copy(buf, off + IFADDRMSG_LEN)
}

export function encode(v: IfAddr): Buffer {
  const buf = Buffer.alloc(size(v))
  encodeInto(v, buf, 0)
  return buf
}

export function decode(buf: Buffer, off = 0): { value: IfAddr; bytes: number } {
  if (buf.length - off < IFADDRMSG_LEN) {
    throw new LvsdError('LVSD_DECODE_TRUNCATED', 'ifaddrmsg cut short', { len: buf.length - off })
  }
  const attrs = decodeAttrs(buf, off + IFADDRMSG_LEN)
  return {
    value: {
      family: buf.readUInt8(off),
      prefixLen: buf.readUInt8(off + 1),
      flags: buf.readUInt8(off + 2),
      scope: buf.readUInt8(off + 3),
      index: buf.readUInt32LE(off + 4),
      attrs: attrs.value,
    },
    bytes: IFADDRMSG_LEN + attrs.bytes,
  }
}

export interface CacheInfo {
  preferred: number
  valid: number
  /** Creation and update stamps, hundredths of a second since boot. */
  created: number
  updated: number
}

export interface Address {
  family: Family
  ifindex: number
  prefixLen: number
  /** IFA_ADDRESS: for IPv4 the peer (equal to local unless point-to-point); for IPv6 the address. */
  address: Addr
  /** IFA_LOCAL: the interface's own IPv4 address. */
  local?: Addr
  label?: string
  /** IFA_F_* (IFA_FLAGS when present, else the u8 in ifaddrmsg). */
  flags: number
  scope: number
  cacheInfo?: CacheInfo
}

function familyOf(af: number): Family {
  if (af === AF_INET) return 4
  if (af === AF_INET6) return 6
  throw new LvsdError('LVSD_DECODE_INVALID', `address family ${af} is neither AF_INET nor AF_INET6`, { family: af })
}

function addrAttr(a: Attrs, type: number, family: Family): Addr | undefined {
  const b = a.binary(type)
  if (b === undefined) return undefined
  if (b.length !== (family === 4 ? 4 : 16)) {
    throw new LvsdError('LVSD_DECODE_INVALID', `IFA attribute ${type} has ${b.length} bytes for IPv${family}`, { type })
  }
  return addrFromBytes(b)
}

export function toAddress(v: IfAddr): Address {
  const family = familyOf(v.family)
  const a = new Attrs(v.attrs)
  const local = addrAttr(a, IFA_LOCAL, family)
  const out: Address = {
    family,
    ifindex: v.index,
    prefixLen: v.prefixLen,
    // an IPv4 address without IFA_ADDRESS is not sent by Linux, but LOCAL is the sensible stand-in
    address: required(addrAttr(a, IFA_ADDRESS, family) ?? local, 'IFA_ADDRESS'),
    flags: a.u32(IFA_FLAGS) ?? v.flags,
    scope: v.scope,
  }
  if (local !== undefined) out.local = local
  const label = a.string(IFA_LABEL)
  if (label !== undefined) out.label = label
  const ci = a.binary(IFA_CACHEINFO)
  if (ci !== undefined) {
    if (ci.length !== 16)
      throw new LvsdError('LVSD_DECODE_INVALID', 'IFA_CACHEINFO is not 16 bytes', { len: ci.length })
    out.cacheInfo = {
      preferred: ci.readUInt32LE(0),
      valid: ci.readUInt32LE(4),
      created: ci.readUInt32LE(8),
      updated: ci.readUInt32LE(12),
    }
  }
  return out
}

export interface AddressEvent {
  kind: 'new' | 'del'
  address: Address
}

export function addressFromMessage(m: NlMessage): AddressEvent {
  if (m.type !== RTM_NEWADDR && m.type !== RTM_DELADDR) {
    throw new LvsdError('LVSD_DECODE_INVALID', `not an address message: type ${m.type}`, { type: m.type })
  }
  return { kind: m.type === RTM_NEWADDR ? 'new' : 'del', address: toAddress(decode(m.payload).value) }
}

export interface AddressSpec {
  ifindex: number
  prefix: Prefix
  /** IPv4 only: the label, conventionally `<ifname>` or `<ifname>:<alias>` (≤ 15 bytes). */
  label?: string
  /** IPv6: skip duplicate address detection (usable at once, as a VIP must be). */
  nodad?: boolean
  /** Do not add the prefix route (a VIP whose subnet is already routed). */
  noPrefixRoute?: boolean
  scope?: number
}

/**
 * RTM_NEWADDR (with CREATE|EXCL, so an existing address is EEXIST rather than a silent update)
 * or RTM_DELADDR. IPv4 carries IFA_LOCAL and IFA_ADDRESS (as `ip addr add` does); IPv6 carries
 * IFA_ADDRESS only. Encoding problems are thrown as LVSD_ENCODE_INVALID.
 */
export function addressRequest(op: 'add' | 'del', spec: AddressSpec): NlMessage {
  const { addr, len } = spec.prefix
  const max = addr.family === 4 ? 32 : 128
  const b = new AttrBuilder()
  if (!Number.isInteger(len) || len < 0 || len > max) {
    throw new LvsdError('LVSD_ENCODE_INVALID', `prefix length ${len} is not valid for IPv${addr.family}`, { len })
  }
  if (addr.family === 4) b.binary(IFA_LOCAL, addr.bytes)
  b.binary(IFA_ADDRESS, addr.bytes)
  if (spec.label !== undefined) {
    if (addr.family !== 4) throw new LvsdError('LVSD_ENCODE_INVALID', 'address labels exist only for IPv4', {})
    b.string(IFA_LABEL, spec.label, IFNAMSIZ - 1)
  }
  const flags = (spec.nodad ? IFA_F_NODAD : 0) | (spec.noPrefixRoute ? IFA_F_NOPREFIXROUTE : 0)
  if (op === 'add' && flags !== 0) b.u32(IFA_FLAGS, flags)
  const payload = encode({
    family: addr.family === 4 ? AF_INET : AF_INET6,
    prefixLen: len,
    flags: flags & 0xff,
    scope: spec.scope ?? RT_SCOPE_UNIVERSE,
    index: spec.ifindex,
    attrs: b.attrs(),
  })
  return {
    type: op === 'add' ? RTM_NEWADDR : RTM_DELADDR,
    flags: NLM_F_REQUEST | NLM_F_ACK | (op === 'add' ? NLM_F_CREATE | NLM_F_EXCL : 0),
    seq: 0,
    pid: 0,
    payload,
  }
}

/** RTM_GETADDR dump of one family (or both with 0); the kernel filters by family only. */
export function addressDumpRequest(family?: Family): NlMessage {
  const af = family === 4 ? AF_INET : family === 6 ? AF_INET6 : 0
  const payload = encode({ family: af, prefixLen: 0, flags: 0, scope: 0, index: 0, attrs: [] })
  return { type: RTM_GETADDR, flags: NLM_F_REQUEST | NLM_F_DUMP, seq: 0, pid: 0, payload }
}
