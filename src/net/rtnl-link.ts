// rtnetlink links: struct ifinfomsg + IFLA_* attributes (<linux/rtnetlink.h>, <linux/if_link.h>,
// <linux/if.h>); decodes RTM_NEWLINK/RTM_DELLINK into a Link and builds the RTM_GETLINK dump.
import { LvsdError } from '../errors.js'
import {
  type Attr,
  Attrs,
  size as attrsSize,
  decode as decodeAttrs,
  encode as encodeAttrs,
  required,
} from './nlattr.js'
import { NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, type NlMessage } from './nlmsg.js'

export const RTM_NEWLINK = 16
export const RTM_DELLINK = 17
export const RTM_GETLINK = 18

export const RTNLGRP_LINK = 1

export const IFLA_ADDRESS = 1
export const IFLA_BROADCAST = 2
export const IFLA_IFNAME = 3
export const IFLA_MTU = 4
export const IFLA_LINK = 5
export const IFLA_MASTER = 10
export const IFLA_OPERSTATE = 16
export const IFLA_LINKMODE = 17
export const IFLA_LINKINFO = 18

export const IFF_UP = 0x1
export const IFF_BROADCAST = 0x2
export const IFF_LOOPBACK = 0x8
export const IFF_POINTOPOINT = 0x10
export const IFF_RUNNING = 0x40
export const IFF_NOARP = 0x80
export const IFF_PROMISC = 0x100
export const IFF_MASTER = 0x400
export const IFF_SLAVE = 0x800
export const IFF_MULTICAST = 0x1000
export const IFF_LOWER_UP = 0x10000
export const IFF_DORMANT = 0x20000

/** RFC 2863 operational states as the kernel numbers them (IF_OPER_*). */
export const OPER_STATES = ['UNKNOWN', 'NOTPRESENT', 'DOWN', 'LOWERLAYERDOWN', 'TESTING', 'DORMANT', 'UP'] as const
export type OperState = (typeof OPER_STATES)[number] | `OPER_${number}`

export const IFINFOMSG_LEN = 16

/** struct ifinfomsg plus its attributes, kept raw for lossless re-encoding. */
export interface IfInfo {
  family: number
  /** ARPHRD_* (1 = Ethernet, 772 = loopback). */
  devType: number
  index: number
  flags: number
  change: number
  attrs: Attr[]
}

export function size(v: IfInfo): number {
  return IFINFOMSG_LEN + attrsSize(v.attrs)
}

export function encodeInto(v: IfInfo, buf: Buffer, off: number): number {
  buf.writeUInt8(v.family, off)
  buf.writeUInt8(0, off + 1)
  buf.writeUInt16LE(v.devType, off + 2)
  buf.writeInt32LE(v.index, off + 4)
  buf.writeUInt32LE(v.flags >>> 0, off + 8)
  buf.writeUInt32LE(v.change >>> 0, off + 12)
  return IFINFOMSG_LEN + encodeAttrs(v.attrs).copy(buf, off + IFINFOMSG_LEN)
}

export function encode(v: IfInfo): Buffer {
  const buf = Buffer.alloc(size(v))
  encodeInto(v, buf, 0)
  return buf
}

export function decode(buf: Buffer, off = 0): { value: IfInfo; bytes: number } {
  if (buf.length - off < IFINFOMSG_LEN) {
    throw new LvsdError('LVSD_DECODE_TRUNCATED', 'ifinfomsg cut short', { len: buf.length - off })
  }
  const attrs = decodeAttrs(buf, off + IFINFOMSG_LEN)
  return {
    value: {
      family: buf.readUInt8(off),
      devType: buf.readUInt16LE(off + 2),
      index: buf.readInt32LE(off + 4),
      flags: buf.readUInt32LE(off + 8),
      change: buf.readUInt32LE(off + 12),
      attrs: attrs.value,
    },
    bytes: IFINFOMSG_LEN + attrs.bytes,
  }
}

export interface Link {
  index: number
  name: string
  flags: number
  /** Administratively up (IFF_UP). */
  up: boolean
  /** Carrier present (IFF_LOWER_UP). */
  lowerUp: boolean
  running: boolean
  operState: OperState
  /** Hardware address (6 bytes on Ethernet); absent on some virtual devices. */
  mac?: Uint8Array
  mtu?: number
  /** IFLA_LINK: the peer's or parent's index (veth, macvlan); may name another namespace. */
  link?: number
  /** IFLA_MASTER: the bridge or bond this port belongs to. */
  master?: number
}

export function operStateName(n: number): OperState {
  return OPER_STATES[n] ?? `OPER_${n}`
}

export function toLink(v: IfInfo): Link {
  const a = new Attrs(v.attrs)
  const link: Link = {
    index: v.index,
    name: required(a.string(IFLA_IFNAME), 'IFLA_IFNAME'),
    flags: v.flags,
    up: (v.flags & IFF_UP) !== 0,
    lowerUp: (v.flags & IFF_LOWER_UP) !== 0,
    running: (v.flags & IFF_RUNNING) !== 0,
    operState: operStateName(a.u8(IFLA_OPERSTATE) ?? 0),
  }
  const mac = a.binary(IFLA_ADDRESS)
  if (mac !== undefined) link.mac = Uint8Array.from(mac)
  const mtu = a.u32(IFLA_MTU)
  if (mtu !== undefined) link.mtu = mtu
  const parent = a.s32(IFLA_LINK)
  if (parent !== undefined) link.link = parent
  const master = a.u32(IFLA_MASTER)
  if (master !== undefined) link.master = master
  return link
}

export interface LinkEvent {
  kind: 'new' | 'del'
  link: Link
}

/** Decodes an RTM_NEWLINK / RTM_DELLINK message; other types are a protocol error. */
export function linkFromMessage(m: NlMessage): LinkEvent {
  if (m.type !== RTM_NEWLINK && m.type !== RTM_DELLINK) {
    throw new LvsdError('LVSD_DECODE_INVALID', `not a link message: type ${m.type}`, { type: m.type })
  }
  return { kind: m.type === RTM_NEWLINK ? 'new' : 'del', link: toLink(decode(m.payload).value) }
}

/** RTM_GETLINK for every link (seq/pid are assigned by the client). */
export function linkDumpRequest(): NlMessage {
  const payload = encode({ family: 0, devType: 0, index: 0, flags: 0, change: 0, attrs: [] })
  return { type: RTM_GETLINK, flags: NLM_F_REQUEST | NLM_F_DUMP, seq: 0, pid: 0, payload }
}

/** RTM_NEWLINK that only sets or clears IFF_UP (`ip link set DEV up|down`): ifi_change masks the rest. */
export function linkUpRequest(index: number, up: boolean): NlMessage {
  const payload = encode({ family: 0, devType: 0, index, flags: up ? IFF_UP : 0, change: IFF_UP, attrs: [] })
  return { type: RTM_NEWLINK, flags: NLM_F_REQUEST | NLM_F_ACK, seq: 0, pid: 0, payload }
}

export function formatMac(mac: Uint8Array): string {
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join(':')
}
