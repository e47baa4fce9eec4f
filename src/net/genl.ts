// Generic netlink: struct genlmsghdr and the nlctrl family's GETFAMILY exchange (<linux/genetlink.h>).
// Families whose name → id mapping is dynamic (IPVS among them) are resolved through nlctrl (id 16).
import { LvsdError } from '../errors.js'
import {
  type Attr,
  AttrBuilder,
  Attrs,
  size as attrsSize,
  decode as decodeAttrs,
  encode as encodeAttrs,
  read,
  required,
} from './nlattr.js'
import { NLM_F_ACK, NLM_F_REQUEST, type NlMessage } from './nlmsg.js'

export const GENL_HDRLEN = 4
export const GENL_NAMSIZ = 16

export const GENL_ID_CTRL = 16
export const CTRL_CMD_NEWFAMILY = 1
export const CTRL_CMD_GETFAMILY = 3

export const CTRL_ATTR_FAMILY_ID = 1
export const CTRL_ATTR_FAMILY_NAME = 2
export const CTRL_ATTR_VERSION = 3
export const CTRL_ATTR_HDRSIZE = 4
export const CTRL_ATTR_MAXATTR = 5
export const CTRL_ATTR_OPS = 6
export const CTRL_ATTR_MCAST_GROUPS = 7

export const CTRL_ATTR_OP_ID = 1
export const CTRL_ATTR_OP_FLAGS = 2
export const CTRL_ATTR_MCAST_GRP_NAME = 1
export const CTRL_ATTR_MCAST_GRP_ID = 2

/**
 * genlmsghdr followed by the family's own header (hdrSize bytes, 0 for nlctrl and IPVS) and
 * attributes. `header` keeps the family header raw.
 */
export interface GenlMessage {
  cmd: number
  version: number
  reserved: number
  header: Buffer
  attrs: Attr[]
}

export function size(v: GenlMessage): number {
  return GENL_HDRLEN + v.header.length + attrsSize(v.attrs)
}

export function encodeInto(v: GenlMessage, buf: Buffer, off: number): number {
  buf.writeUInt8(v.cmd, off)
  buf.writeUInt8(v.version, off + 1)
  buf.writeUInt16LE(v.reserved, off + 2)
  v.header.copy(buf, off + GENL_HDRLEN)
  const p = off + GENL_HDRLEN + v.header.length
  return p - off + encodeAttrs(v.attrs).copy(buf, p)
}

export function encode(v: GenlMessage): Buffer {
  const buf = Buffer.alloc(size(v))
  encodeInto(v, buf, 0)
  return buf
}

export function decode(buf: Buffer, off = 0, hdrSize = 0): { value: GenlMessage; bytes: number } {
  if (buf.length - off < GENL_HDRLEN + hdrSize) {
    throw new LvsdError('LVSD_DECODE_TRUNCATED', 'genlmsghdr cut short', { len: buf.length - off })
  }
  const h = off + GENL_HDRLEN
  const attrs = decodeAttrs(buf, h + hdrSize)
  return {
    value: {
      cmd: buf.readUInt8(off),
      version: buf.readUInt8(off + 1),
      reserved: buf.readUInt16LE(off + 2),
      header: buf.subarray(h, h + hdrSize),
      attrs: attrs.value,
    },
    bytes: GENL_HDRLEN + hdrSize + attrs.bytes,
  }
}

/** A generic netlink request message: the client assigns seq/pid and adds REQUEST|ACK anyway. */
export function genlRequest(familyId: number, cmd: number, version: number, attrs: Attr[], flags = 0): NlMessage {
  const payload = encode({ cmd, version, reserved: 0, header: Buffer.alloc(0), attrs })
  return { type: familyId, flags: NLM_F_REQUEST | NLM_F_ACK | flags, seq: 0, pid: 0, payload }
}

export interface GenlFamily {
  id: number
  name: string
  version: number
  hdrSize: number
  maxAttr: number
  /** Command ids the family offers, with their GENL_* flags. */
  ops: Map<number, number>
  /** Multicast group name → group id (for NETLINK_ADD_MEMBERSHIP). */
  mcastGroups: Map<string, number>
}

export function getFamilyRequest(name: string): NlMessage {
  const b = new AttrBuilder().string(CTRL_ATTR_FAMILY_NAME, name, GENL_NAMSIZ - 1)
  return genlRequest(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, b.attrs())
}

/** Decodes a CTRL_CMD_NEWFAMILY reply (payload of an nlmsg of type GENL_ID_CTRL). */
export function decodeFamily(payload: Buffer): GenlFamily {
  const g = decode(payload).value
  if (g.cmd !== CTRL_CMD_NEWFAMILY) {
    throw new LvsdError('LVSD_DECODE_INVALID', `nlctrl reply has command ${g.cmd}, not NEWFAMILY`, { cmd: g.cmd })
  }
  const a = new Attrs(g.attrs)
  const ops = new Map<number, number>()
  for (const op of a.nestedList(CTRL_ATTR_OPS) ?? []) {
    const o = read.nested(op)
    ops.set(required(o.u32(CTRL_ATTR_OP_ID), 'CTRL_ATTR_OP_ID'), o.u32(CTRL_ATTR_OP_FLAGS) ?? 0)
  }
  const mcastGroups = new Map<string, number>()
  for (const grp of a.nestedList(CTRL_ATTR_MCAST_GROUPS) ?? []) {
    const o = read.nested(grp)
    mcastGroups.set(
      required(o.string(CTRL_ATTR_MCAST_GRP_NAME), 'CTRL_ATTR_MCAST_GRP_NAME'),
      required(o.u32(CTRL_ATTR_MCAST_GRP_ID), 'CTRL_ATTR_MCAST_GRP_ID'),
    )
  }
  return {
    id: required(a.u16(CTRL_ATTR_FAMILY_ID), 'CTRL_ATTR_FAMILY_ID'),
    name: required(a.string(CTRL_ATTR_FAMILY_NAME), 'CTRL_ATTR_FAMILY_NAME'),
    version: a.u32(CTRL_ATTR_VERSION) ?? 0,
    hdrSize: a.u32(CTRL_ATTR_HDRSIZE) ?? 0,
    maxAttr: a.u32(CTRL_ATTR_MAXATTR) ?? 0,
    ops,
    mcastGroups,
  }
}
