// A direct writer for the IPVS messages a large apply sends tens of thousands of (destination commands and
// service keys, <linux/ip_vs.h> attribute layout as codec.ts): one Buffer per message instead of one per
// attribute. It yields exactly the generic codec's bytes (every codec test runs through it) and declines
// (undefined) any message it does not cover or any value the generic path would refuse, so errors stay
// the generic codec's.
import { NLA_F_NESTED } from '../net/nlattr.js'
import { type AttrSpec, CMD_ATTR, DEST_ATTRS, SVC_ATTRS } from './attrs.js'
import type { IpvsMessage } from './wire.js'

type Table = Record<string, AttrSpec>
const FIXED: Record<string, number> = { u8: 1, u16: 2, u32: 4, s32: 4, be16: 2 }
const entries = new Map<Table, [string, AttrSpec][]>()
const entriesOf = (t: Table) => {
  let e = entries.get(t)
  if (!e) {
    e = Object.entries(t)
    entries.set(t, e)
  }
  return e
}

const pad4 = (n: number) => (n + 3) & ~3

function valid(kind: string, v: unknown, spec: AttrSpec): number | undefined {
  if (kind === 'addr') {
    const b = v as Buffer
    return Buffer.isBuffer(b) && b.length > 0 && b.length <= (spec.maxLen ?? 16) ? b.length : undefined
  }
  const n = v as number
  if (!Number.isInteger(n)) return undefined
  const ok =
    kind === 'u8'
      ? n >= 0 && n <= 0xff
      : kind === 'u16' || kind === 'be16'
        ? n >= 0 && n <= 0xffff
        : kind === 'u32'
          ? n >= 0 && n <= 0xffffffff
          : n >= -0x80000000 && n <= 0x7fffffff
  return ok ? FIXED[kind] : undefined
}

/** Size of a nested attribute's payload, or undefined when a value is not covered. */
function nestedSize(table: Table, v: Record<string, unknown>): number | undefined {
  let n = 0
  for (const [name, spec] of entriesOf(table)) {
    const x = v[name]
    if (x === undefined) continue
    if (spec.kind !== 'addr' && FIXED[spec.kind] === undefined) return undefined
    const len = valid(spec.kind, x, spec)
    if (len === undefined) return undefined
    n += pad4(4 + len)
  }
  return n
}

function writeNested(buf: Buffer, p: number, type: number, table: Table, v: Record<string, unknown>, len: number) {
  buf.writeUInt16LE(4 + len, p)
  buf.writeUInt16LE(type | NLA_F_NESTED, p + 2)
  p += 4
  for (const [name, spec] of entriesOf(table)) {
    const x = v[name]
    if (x === undefined) continue
    const size = spec.kind === 'addr' ? (x as Buffer).length : (FIXED[spec.kind] as number)
    buf.writeUInt16LE(4 + size, p)
    buf.writeUInt16LE(spec.type, p + 2)
    const d = p + 4
    const n = x as number
    if (spec.kind === 'u8') buf[d] = n
    else if (spec.kind === 'u16') buf.writeUInt16LE(n, d)
    else if (spec.kind === 'be16') buf.writeUInt16BE(n, d)
    else if (spec.kind === 'u32') buf.writeUInt32LE(n, d)
    else if (spec.kind === 's32') buf.writeInt32LE(n, d)
    else (x as Buffer).copy(buf, d)
    p += pad4(4 + size) // the padding is already zero
  }
}

/** The encoded genl payload, or undefined when the generic codec must handle the message. */
export function encodeFast(m: IpvsMessage): Buffer | undefined {
  if (m.daemon || m.timeouts || m.info || (!m.service && !m.dest)) return undefined
  if (!Number.isInteger(m.cmd) || m.cmd < 0 || m.cmd > 0xff || m.version !== 1) return undefined
  const svc = m.service as Record<string, unknown> | undefined
  const dest = m.dest as Record<string, unknown> | undefined
  const sLen = svc ? nestedSize(SVC_ATTRS, svc) : 0
  const dLen = dest ? nestedSize(DEST_ATTRS, dest) : 0
  if (sLen === undefined || dLen === undefined) return undefined
  // from the pool (an ArrayBuffer per message costs more than the encoding), zeroed for the padding
  const buf = Buffer.allocUnsafe(4 + (svc ? 4 + sLen : 0) + (dest ? 4 + dLen : 0)).fill(0)
  buf[0] = m.cmd
  buf[1] = m.version
  let p = 4
  if (svc) {
    writeNested(buf, p, CMD_ATTR.SERVICE, SVC_ATTRS, svc, sLen)
    p += 4 + sLen
  }
  if (dest) writeNested(buf, p, CMD_ATTR.DEST, DEST_ATTRS, dest, dLen)
  return buf
}
