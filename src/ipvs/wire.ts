// The wire shapes of IPVS messages (types only): one optional field per attribute of attrs.ts, typed
// by its kind. Shared by the codec and its fast paths, which codec.ts calls (so they cannot import it).
import type { AttrSpec, DAEMON_ATTRS, DEST_ATTRS, INFO_ATTRS, StatsName, SVC_ATTRS, TIMEOUT_ATTRS } from './attrs.js'

export interface WireFlags {
  flags: number
  mask: number
}

/** Counters as sent: STATS (u32, bytes u64) or STATS64 (all u64), both held as bigint. */
export type WireStats = { [K in StatsName]?: bigint }

export interface KindValue {
  u8: number
  u16: number
  u32: number
  s32: number
  be16: number
  be32: number
  string: string
  addr: Buffer
  raw4: Buffer
  flags: WireFlags
  stats: WireStats
  stats64: WireStats
}

export type Table = Record<string, AttrSpec>
/** An attribute table's values, each optional: exactly what a message carried. */
export type WireOf<T extends Table> = { -readonly [K in keyof T]?: KindValue[T[K]['kind']] }

export type WireService = WireOf<typeof SVC_ATTRS>
export type WireDest = WireOf<typeof DEST_ATTRS>
export type WireDaemon = WireOf<typeof DAEMON_ATTRS>
export type WireTimeouts = WireOf<typeof TIMEOUT_ATTRS>
export type WireInfo = WireOf<typeof INFO_ATTRS>

/** One IPVS message. SET_INFO (the GET_INFO reply) reuses top-level numbers 1 and 2 for `info`. */
export interface IpvsMessage {
  cmd: number
  version: number
  service?: WireService
  dest?: WireDest
  daemon?: WireDaemon
  timeouts?: WireTimeouts
  info?: WireInfo
}
