// A direct reader for the message a table re-read receives tens of thousands of: a GET_DEST dump part
// (<linux/ip_vs.h>: genlmsghdr + one IPVS_CMD_ATTR_DEST nest) read without its counters, straight from the
// bytes, with no Attr object or Buffer view per attribute. It yields exactly what codec.ts's generic path
// gives for { stats: false } (a randomized test compares them, hostile bytes included) and declines
// (undefined) any other message or anything the generic path would refuse, so errors stay the generic codec's.
import { NLA_TYPE_MASK } from '../net/nlattr.js'
import { CMD, CMD_ATTR, DEST_ATTRS } from './attrs.js'
import type { IpvsMessage, WireDest } from './wire.js'

const GENL_HDRLEN = 4
const NLA_HDRLEN = 4
const align4 = (n: number) => (n + 3) & ~3

type Spec = { readonly name: string; readonly kind: string; readonly maxLen: number }
/** DEST_ATTRS by attribute type, built once. */
const BY_TYPE: (Spec | undefined)[] = []
for (const [name, s] of Object.entries(DEST_ATTRS)) {
  BY_TYPE[s.type] = { name, kind: s.kind, maxLen: 'maxLen' in s ? s.maxLen : 16 }
}
const WIDTH: Record<string, number> = { u8: 1, u16: 2, u32: 4, s32: 4, be16: 2 }

/** The destination of one DEST nest in buf[start, end), or undefined when the generic path must decide. */
function readDest(buf: Buffer, start: number, end: number): WireDest | undefined {
  const out: Record<string, unknown> = {}
  let p = start
  while (p < end) {
    if (end - p < NLA_HDRLEN) return undefined
    const len = buf.readUInt16LE(p)
    if (len < NLA_HDRLEN || len > end - p) return undefined
    const spec = BY_TYPE[buf.readUInt16LE(p + 2) & NLA_TYPE_MASK]
    const d = p + NLA_HDRLEN
    const n = len - NLA_HDRLEN
    p = Math.min(p + align4(len), end)
    if (!spec || spec.kind === 'stats' || spec.kind === 'stats64') continue
    if (spec.kind === 'addr') {
      if (n === 0 || n > spec.maxLen) return undefined
      out[spec.name] = Buffer.from(buf.subarray(d, d + n))
      continue
    }
    if (n !== WIDTH[spec.kind]) return undefined
    if (spec.kind === 'u8') out[spec.name] = buf[d]
    else if (spec.kind === 'u16') out[spec.name] = buf.readUInt16LE(d)
    else if (spec.kind === 'be16') out[spec.name] = buf.readUInt16BE(d)
    else if (spec.kind === 'u32') out[spec.name] = buf.readUInt32LE(d)
    else if (spec.kind === 's32') out[spec.name] = buf.readInt32LE(d)
    else return undefined
  }
  return out as WireDest
}

/** A message whose only top-level attributes are DEST nests, decoded without counters; else undefined. */
export function decodeDestLean(buf: Buffer, off = 0): IpvsMessage | undefined {
  const end = buf.length
  if (end - off < GENL_HDRLEN) return undefined
  const cmd = buf[off] as number
  if (cmd === CMD.SET_INFO) return undefined
  const m: IpvsMessage = { cmd, version: buf[off + 1] as number }
  let p = off + GENL_HDRLEN
  while (p < end) {
    if (end - p < NLA_HDRLEN) return undefined
    const len = buf.readUInt16LE(p)
    if (len < NLA_HDRLEN || len > end - p) return undefined
    if ((buf.readUInt16LE(p + 2) & NLA_TYPE_MASK) !== CMD_ATTR.DEST) return undefined
    // like nla_parse, a repeated attribute's last occurrence wins
    const dest = readDest(buf, p + NLA_HDRLEN, p + len)
    if (!dest) return undefined
    m.dest = dest
    p = Math.min(p + align4(len), end)
  }
  return m.dest ? m : undefined
}
