// IPVS generic netlink messages, wire shape (<linux/ip_vs.h>, family "IPVS" version 1): a genlmsghdr and
// the attributes of attrs.ts, read and written by their declared kind. Domain types live in domain.ts.
import { LvsdError } from '../errors.js'
import {
  type GenlMessage,
  decode as genlDecode,
  encode as genlEncode,
  encodeInto as genlEncodeInto,
  size as genlSize,
} from '../net/genl.js'
import { type Attr, AttrBuilder, Attrs, read } from '../net/nlattr.js'
import {
  type AttrSpec,
  CMD,
  CMD_ATTR,
  DAEMON_ATTRS,
  DEST_ATTRS,
  INFO_ATTRS,
  IPVS_GENL_VERSION,
  type Kind,
  STATS_ATTR_PAD,
  STATS_ATTRS,
  type StatsName,
  SVC_ATTRS,
  TIMEOUT_ATTRS,
} from './attrs.js'
import { encodeFast } from './codec-fast.js'
import { decodeDestLean } from './codec-fast-read.js'

export type {
  IpvsMessage,
  WireDaemon,
  WireDest,
  WireFlags,
  WireInfo,
  WireOf,
  WireService,
  WireStats,
  WireTimeouts,
} from './wire.js'

import type {
  IpvsMessage,
  KindValue,
  Table,
  WireDaemon,
  WireDest,
  WireFlags,
  WireOf,
  WireService,
  WireStats,
} from './wire.js'

/** A message of `cmd` with version 1 and the given parts. */
export function ipvsMessage(cmd: number, parts: Omit<IpvsMessage, 'cmd' | 'version'> = {}): IpvsMessage {
  // no object spread here or in the other per-op builders: V8 makes spread results slow dictionary-mode
  // objects, which cost ~10 µs per destination in a 37,298-destination apply (bench/ipvs-apply.ts)
  const m: IpvsMessage = { cmd, version: IPVS_GENL_VERSION }
  if (parts.service) m.service = parts.service
  if (parts.dest) m.dest = parts.dest
  if (parts.daemon) m.daemon = parts.daemon
  if (parts.timeouts) m.timeouts = parts.timeouts
  if (parts.info) m.info = parts.info
  return m
}

// ---- one attribute by kind ----

// built once: decoding runs per counter of every service and destination of a dump (bench/ipvs-apply.ts)
const statsByType = (allWide: boolean) =>
  new Map<number, [StatsName, boolean]>(
    Object.entries(STATS_ATTRS).map(([name, s]) => [s.type, [name as StatsName, allWide || s.wide]]),
  )
const STATS_BY_TYPE = { narrow: statsByType(false), wide: statsByType(true) }

function readStats(a: Attr, allWide: boolean): WireStats {
  const out: WireStats = {}
  const byType = allWide ? STATS_BY_TYPE.wide : STATS_BY_TYPE.narrow
  for (const c of read.nested(a).list) {
    if (c.type === STATS_ATTR_PAD) continue
    const spec = byType.get(c.type)
    if (!spec) continue
    out[spec[0]] = spec[1] ? read.u64(c) : BigInt(read.u32(c))
  }
  return out
}

function exactly(a: Attr, n: number, what: () => string): Buffer {
  if (a.data.length !== n) {
    throw new LvsdError('LVSD_DECODE_INVALID', `IPVS ${what()} needs ${n} bytes, has ${a.data.length}`, {
      type: a.type,
      len: a.data.length,
    })
  }
  return a.data
}

/** `at()` names the attribute for errors (built only when one is thrown). */
function readKind(kind: Kind, a: Attr, spec: AttrSpec, at: () => string): KindValue[Kind] {
  switch (kind) {
    case 'u8':
      return read.u8(a)
    case 'u16':
      return read.u16(a)
    case 'u32':
      return read.u32(a)
    case 's32':
      return read.s32(a)
    case 'be16':
      return read.be16(a)
    case 'be32':
      return read.be32(a)
    case 'string': {
      const s = read.string(a)
      if (spec.maxLen !== undefined && Buffer.byteLength(s) > spec.maxLen) {
        throw new LvsdError('LVSD_DECODE_INVALID', `IPVS ${at()} longer than ${spec.maxLen} bytes`, { type: a.type })
      }
      return s
    }
    case 'addr':
      if (a.data.length === 0 || a.data.length > (spec.maxLen ?? 16)) {
        throw new LvsdError('LVSD_DECODE_INVALID', `IPVS ${at()} of ${a.data.length} bytes`, { type: a.type })
      }
      return Buffer.from(a.data)
    case 'raw4':
      return Buffer.from(exactly(a, 4, at))
    case 'flags': {
      const b = exactly(a, 8, at)
      return { flags: b.readUInt32LE(0), mask: b.readUInt32LE(4) }
    }
    case 'stats':
      return readStats(a, false)
    case 'stats64':
      return readStats(a, true)
  }
}

function badValue(type: number, why: string): LvsdError {
  return new LvsdError('LVSD_ENCODE_INVALID', `IPVS attribute ${type}: ${why}`, { type })
}

function writeStats(b: AttrBuilder, type: number, v: WireStats, allWide: boolean): void {
  b.nested(type, (n) => {
    for (const [name, s] of Object.entries(STATS_ATTRS)) {
      const x = v[name as StatsName]
      if (x === undefined) continue
      if (allWide || s.wide) n.u64(s.type, x)
      else if (x < 0n || x > 0xffffffffn) throw badValue(type, `32-bit counter ${name} = ${x}`)
      else n.u32(s.type, Number(x))
    }
  })
}

function writeKind(b: AttrBuilder, spec: AttrSpec, v: KindValue[Kind]): void {
  const t = spec.type
  switch (spec.kind) {
    case 'u8':
      b.u8(t, v as number)
      return
    case 'u16':
      b.u16(t, v as number)
      return
    case 'u32':
      b.u32(t, v as number)
      return
    case 's32':
      b.s32(t, v as number)
      return
    case 'be16':
      b.be16(t, v as number)
      return
    case 'be32':
      b.be32(t, v as number)
      return
    case 'string':
      b.string(t, v as string, spec.maxLen)
      return
    case 'addr':
    case 'raw4': {
      const buf = v as Buffer
      const max = spec.kind === 'raw4' ? 4 : (spec.maxLen ?? 16)
      const ok = spec.kind === 'raw4' ? buf.length === 4 : buf.length > 0 && buf.length <= max
      if (!ok) throw badValue(t, `${buf.length} bytes where ${spec.kind === 'raw4' ? 'exactly 4' : `1–${max}`} fit`)
      b.binary(t, buf)
      return
    }
    case 'flags': {
      const f = v as WireFlags
      const buf = Buffer.alloc(8)
      const u32 = (x: number) => Number.isInteger(x) && x >= 0 && x <= 0xffffffff
      if (!u32(f.flags) || !u32(f.mask)) throw badValue(t, `flags ${f.flags}/${f.mask} do not fit two u32`)
      buf.writeUInt32LE(f.flags, 0)
      buf.writeUInt32LE(f.mask, 4)
      b.binary(t, buf)
      return
    }
    case 'stats':
    case 'stats64':
      writeStats(b, t, v as WireStats, spec.kind === 'stats64')
  }
}

// ---- a table of attributes ----

/** Reads the attributes a table declares; unknown types are skipped, a repeated type's last wins. */
const typeIndex = new WeakMap<Table, Map<number, [string, AttrSpec]>>()
const entryIndex = new WeakMap<Table, [string, AttrSpec][]>()

function byTypeOf(table: Table): Map<number, [string, AttrSpec]> {
  let m = typeIndex.get(table)
  if (!m) {
    m = new Map(Object.entries(table).map(([name, spec]) => [spec.type, [name, spec]]))
    typeIndex.set(table, m)
  }
  return m
}

function entriesOf(table: Table): [string, AttrSpec][] {
  let e = entryIndex.get(table)
  if (!e) {
    e = Object.entries(table)
    entryIndex.set(table, e)
  }
  return e
}

export interface DecodeOptions {
  /**
   * false: leave the STATS/STATS64 counters out (default true). Reading the table to diff it needs no
   * counters, and decoding ten 64-bit counters twice per destination was most of a full re-read's cost.
   */
  stats?: boolean
}

export function decodeTable<T extends Table>(
  table: T,
  attrs: readonly Attr[],
  where: string,
  opts?: DecodeOptions,
): WireOf<T> {
  const byType = byTypeOf(table)
  const skipStats = opts?.stats === false
  const out: Record<string, unknown> = {}
  for (const a of attrs) {
    const e = byType.get(a.type)
    if (e === undefined) continue
    const [name, spec] = e
    if (skipStats && (spec.kind === 'stats' || spec.kind === 'stats64')) continue
    out[name] = readKind(spec.kind, a, spec, () => `${where}.${name}`)
  }
  return out as WireOf<T>
}

/** Writes the present values in the table's order. */
export function encodeTable<T extends Table>(table: T, v: WireOf<T>, b: AttrBuilder): void {
  for (const [name, spec] of entriesOf(table)) {
    const x = (v as Record<string, KindValue[Kind] | undefined>)[name]
    if (x !== undefined) writeKind(b, spec, x)
  }
}

// ---- the message codec ----

function toGenl(v: IpvsMessage): GenlMessage {
  const b = new AttrBuilder()
  if (v.cmd === CMD.SET_INFO && v.info) encodeTable(INFO_ATTRS, v.info, b)
  if (v.service) b.nested(CMD_ATTR.SERVICE, (n) => encodeTable(SVC_ATTRS, v.service as WireService, n))
  if (v.dest) b.nested(CMD_ATTR.DEST, (n) => encodeTable(DEST_ATTRS, v.dest as WireDest, n))
  if (v.daemon) b.nested(CMD_ATTR.DAEMON, (n) => encodeTable(DAEMON_ATTRS, v.daemon as WireDaemon, n))
  if (v.timeouts) encodeTable(TIMEOUT_ATTRS, v.timeouts, b)
  if (
    !Number.isInteger(v.cmd) ||
    v.cmd < 0 ||
    v.cmd > 0xff ||
    !Number.isInteger(v.version) ||
    v.version < 0 ||
    v.version > 0xff
  ) {
    throw new LvsdError('LVSD_ENCODE_INVALID', `IPVS command ${v.cmd} / version ${v.version} does not fit a byte`, {
      cmd: v.cmd,
    })
  }
  return { cmd: v.cmd, version: v.version, reserved: 0, header: Buffer.alloc(0), attrs: b.attrs() }
}

export function size(v: IpvsMessage): number {
  return genlSize(toGenl(v))
}

export function encodeInto(v: IpvsMessage, buf: Buffer, off: number): number {
  return genlEncodeInto(toGenl(v), buf, off)
}

export function encode(v: IpvsMessage): Buffer {
  return encodeFast(v) ?? genlEncode(toGenl(v))
}

/**
 * Decodes a generic netlink payload (genlmsghdr + attributes) of the IPVS family up to the buffer's end.
 * Without counters, a destination dump part is read by codec-fast-read.ts (same result, checked).
 */
export function decode(buf: Buffer, off = 0, opts?: DecodeOptions): { value: IpvsMessage; bytes: number } {
  if (opts?.stats === false) {
    const lean = decodeDestLean(buf, off)
    if (lean) return { value: lean, bytes: buf.length - off }
  }
  return decodeGeneric(buf, off, opts)
}

/** The attribute-table decoder every message can take (the reference for codec-fast-read.ts). */
export function decodeGeneric(buf: Buffer, off = 0, opts?: DecodeOptions): { value: IpvsMessage; bytes: number } {
  const g = genlDecode(buf, off)
  const top = new Attrs(g.value.attrs)
  const value: IpvsMessage = { cmd: g.value.cmd, version: g.value.version }
  if (g.value.cmd === CMD.SET_INFO) {
    const info = decodeTable(INFO_ATTRS, g.value.attrs, 'info')
    if (Object.keys(info).length) value.info = info
  } else {
    const svc = top.get(CMD_ATTR.SERVICE)
    if (svc) value.service = decodeTable(SVC_ATTRS, read.nested(svc).list, 'service', opts)
    const dest = top.get(CMD_ATTR.DEST)
    if (dest) value.dest = decodeTable(DEST_ATTRS, read.nested(dest).list, 'dest', opts)
    const daemon = top.get(CMD_ATTR.DAEMON)
    if (daemon) value.daemon = decodeTable(DAEMON_ATTRS, read.nested(daemon).list, 'daemon')
    const timeouts = decodeTable(TIMEOUT_ATTRS, g.value.attrs, 'timeouts')
    if (Object.keys(timeouts).length) value.timeouts = timeouts
  }
  return { value, bytes: g.bytes }
}
