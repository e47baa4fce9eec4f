// IPVS domain types (services, destinations, sync daemons, timeouts, stats) and their mapping to and from
// the wire shapes of codec.ts (<linux/ip_vs.h> semantics: which attributes are mandatory, what 0 means).
import { LvsdError } from '../errors.js'
import { type Addr, AF_INET, AF_INET6, addrFromBytes, type Family } from '../net/addr.js'
import {
  DAEMON_STATE,
  FWD,
  FWD_MASK,
  PROTO,
  SVC_F_ONEPACKET,
  SVC_F_PERSISTENT,
  TUN_FLAG_CSUM,
  TUN_FLAG_REMCSUM,
  TUN_TYPE,
} from './attrs.js'
import type { WireDaemon, WireDest, WireInfo, WireService, WireStats, WireTimeouts } from './codec.js'

export type Protocol = keyof typeof PROTO
export type FwdMethod = keyof typeof FWD
export type TunnelType = keyof typeof TUN_TYPE

/** A service is keyed by protocol + address + port, or by firewall mark + family. */
export type ServiceKey = AddrKey | FwmarkKey
export interface AddrKey {
  readonly protocol: Protocol
  readonly addr: Addr
  readonly port: number
}
export interface FwmarkKey {
  readonly fwmark: number
  readonly family: Family
}

export interface Service {
  readonly key: ServiceKey
  readonly scheduler: string
  /** IP_VS_SVC_F_PERSISTENT: `timeout` and `netmask` then group clients. */
  readonly persistent: boolean
  /** Persistence timeout in seconds. */
  readonly timeout: number
  /** Persistence netmask as a prefix length (IPv4 0–32, IPv6 1–128). */
  readonly netmask: number
  readonly onePacket: boolean
  /** Scheduler flags 1–3 as bits 0–2 (sh/mh: 1 = fallback, 2 = port). */
  readonly schedFlags: number
  /** Persistence engine, e.g. 'sip'. */
  readonly peName?: string
}

export interface Tunnel {
  readonly type: TunnelType
  /** GUE destination port (0 for ipip/gre). */
  readonly port: number
  readonly csum: boolean
  readonly remcsum: boolean
}

export interface Destination {
  readonly addr: Addr
  readonly port: number
  readonly fwd: FwdMethod
  /** Signed 32-bit in the kernel; 0 quiesces. */
  readonly weight: number
  readonly upperThreshold: number
  readonly lowerThreshold: number
  /** Only meaningful with fwd 'tunnel'; absent means ipip without checksum options. */
  readonly tunnel?: Tunnel
}

export interface Stats {
  conns: bigint
  inPkts: bigint
  outPkts: bigint
  inBytes: bigint
  outBytes: bigint
  cps: bigint
  inPps: bigint
  outPps: bigint
  inBps: bigint
  outBps: bigint
}

export interface ServiceEntry extends Service {
  readonly stats?: Stats
}

export interface DestEntry extends Destination {
  readonly activeConns: number
  readonly inactiveConns: number
  readonly persistentConns: number
  readonly stats?: Stats
}

export interface SyncDaemon {
  readonly state: keyof typeof DAEMON_STATE
  readonly ifname: string
  readonly syncId: number
  readonly maxLen?: number
  readonly group?: Addr
  readonly port?: number
  readonly ttl?: number
}

/** Seconds; in SET_CONFIG a 0 leaves that timeout unchanged. */
export interface Timeouts {
  readonly tcp: number
  readonly tcpFin: number
  readonly udp: number
}

export interface Info {
  /** e.g. '1.2.1' */
  readonly version: string
  readonly versionCode: number
  readonly connTabSize: number
}

const invalid = (what: string, details: Record<string, unknown> = {}) =>
  new LvsdError('LVSD_DECODE_INVALID', `IPVS ${what}`, details)

function need<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw invalid(`${what} is missing`, { what })
  return v
}

export const isFwmarkKey = (k: ServiceKey): k is FwmarkKey => 'fwmark' in k
export const familyOfKey = (k: ServiceKey): Family => (isFwmarkKey(k) ? k.family : k.addr.family)
const afNumber = (f: Family): number => (f === 4 ? AF_INET : AF_INET6)

function familyOf(af: number): Family {
  if (af === AF_INET) return 4
  if (af === AF_INET6) return 6
  throw invalid(`address family ${af} is neither AF_INET nor AF_INET6`, { af })
}

/** union nf_inet_addr: 16 bytes, an IPv4 address in the first 4 (what the kernel dumps, and ipvsadm sends). */
export function addrToWire(a: Addr): Buffer {
  // from Node's pool: Buffer.alloc makes an ArrayBuffer per call, which dominated encoding 37,298
  // destinations (allocation and GC; bench/ipvs-apply.ts)
  const b = Buffer.allocUnsafe(16).fill(0)
  b.set(a.bytes)
  return b
}

function addrFromWire(b: Buffer, f: Family, what: string): Addr {
  const n = f === 4 ? 4 : 16
  if (b.length < n) throw invalid(`${what} has ${b.length} bytes for an IPv${f} address`, { len: b.length })
  return addrFromBytes(b.subarray(0, n))
}

function protocolName(n: number): Protocol {
  const p = (Object.keys(PROTO) as Protocol[]).find((k) => PROTO[k] === n)
  if (!p) throw invalid(`protocol ${n} is not TCP, UDP or SCTP`, { protocol: n })
  return p
}

// ---- netmask: IPv4 mask bytes, IPv6 a host-order prefix length ----

export function netmaskToWire(f: Family, len: number): Buffer {
  const b = Buffer.alloc(4)
  if (f === 6) b.writeUInt32LE(len >>> 0, 0)
  else b.writeUInt32BE(len >= 32 ? 0xffffffff : len <= 0 ? 0 : (0xffffffff << (32 - len)) >>> 0, 0)
  return b
}

export function netmaskFromWire(f: Family, b: Buffer): number {
  if (f === 6) {
    const len = b.readUInt32LE(0)
    if (len > 128) throw invalid(`IPv6 netmask ${len} exceeds 128`, { len })
    return len
  }
  const m = b.readUInt32BE(0)
  // leading one bits of the mask = leading zero bits of its complement
  const len = Math.clz32(~m)
  if (netmaskToWire(4, len).readUInt32BE(0) !== m) throw invalid(`IPv4 netmask ${b.toString('hex')} is not contiguous`)
  return len
}

// ---- services ----

export function serviceKeyToWire(k: ServiceKey): WireService {
  if (isFwmarkKey(k)) return { af: afNumber(k.family), fwmark: k.fwmark }
  return { af: afNumber(k.addr.family), protocol: PROTO[k.protocol], addr: addrToWire(k.addr), port: k.port }
}

/** The full entry NEW_SERVICE/SET_SERVICE need (the kernel refuses one without flags, timeout or netmask). */
export function serviceToWire(s: Service): WireService {
  const f = familyOfKey(s.key)
  const flags = (s.persistent ? SVC_F_PERSISTENT : 0) | (s.onePacket ? SVC_F_ONEPACKET : 0) | ((s.schedFlags & 7) << 3)
  const w: WireService = serviceKeyToWire(s.key)
  w.schedName = s.scheduler
  if (s.peName !== undefined) w.peName = s.peName
  w.flags = { flags, mask: 0xffffffff }
  w.timeout = s.timeout
  w.netmask = netmaskToWire(f, s.netmask)
  return w
}

export function serviceKeyFromWire(w: WireService): ServiceKey {
  const family = familyOf(need(w.af, 'service AF'))
  if (w.fwmark !== undefined && w.fwmark !== 0) return { fwmark: w.fwmark, family }
  return {
    protocol: protocolName(need(w.protocol, 'service PROTOCOL')),
    addr: addrFromWire(need(w.addr, 'service ADDR'), family, 'service ADDR'),
    port: need(w.port, 'service PORT'),
  }
}

export function serviceFromWire(w: WireService): ServiceEntry {
  const key = serviceKeyFromWire(w)
  const flags = need(w.flags, 'service FLAGS').flags
  const s: { -readonly [K in keyof ServiceEntry]: ServiceEntry[K] } = {
    key,
    scheduler: need(w.schedName, 'service SCHED_NAME'),
    persistent: (flags & SVC_F_PERSISTENT) !== 0,
    timeout: need(w.timeout, 'service TIMEOUT'),
    netmask: netmaskFromWire(familyOfKey(key), need(w.netmask, 'service NETMASK')),
    onePacket: (flags & SVC_F_ONEPACKET) !== 0,
    schedFlags: (flags >>> 3) & 7,
  }
  if (w.peName !== undefined && w.peName !== '') s.peName = w.peName
  const stats = statsFromWire(w.stats64 ?? w.stats)
  if (stats) s.stats = stats
  return s
}

// ---- destinations ----

/** The family goes with the key: the kernel looks a destination up by family, address and port. */
export function destKeyToWire(d: Pick<Destination, 'addr' | 'port'>): WireDest {
  return { addrFamily: afNumber(d.addr.family), addr: addrToWire(d.addr), port: d.port }
}

/** The full entry NEW_DEST/SET_DEST need; tunnel options are always sent (zero unless a tunnel), as ipvsadm does. */
export function destToWire(d: Destination): WireDest {
  const t = d.fwd === 'tunnel' ? d.tunnel : undefined
  return {
    addrFamily: afNumber(d.addr.family),
    addr: addrToWire(d.addr),
    port: d.port,
    fwdMethod: FWD[d.fwd],
    weight: d.weight,
    tunType: t ? TUN_TYPE[t.type] : 0,
    tunPort: t ? t.port : 0,
    tunFlags: t ? (t.csum ? TUN_FLAG_CSUM : 0) | (t.remcsum ? TUN_FLAG_REMCSUM : 0) : 0,
    uThresh: d.upperThreshold,
    lThresh: d.lowerThreshold,
  }
}

/** `svcFamily` is the family of a destination that carries no ADDR_FAMILY (kernels before 3.18). */
export function destFromWire(w: WireDest, svcFamily: Family): DestEntry {
  const family = w.addrFamily === undefined ? svcFamily : familyOf(w.addrFamily)
  const fwdNum = need(w.fwdMethod, 'dest FWD_METHOD') & FWD_MASK
  const fwd = (Object.keys(FWD) as FwdMethod[]).find((k) => FWD[k] === fwdNum)
  if (!fwd) throw invalid(`forwarding method ${fwdNum} is unknown`, { fwd: fwdNum })
  const d: { -readonly [K in keyof DestEntry]: DestEntry[K] } = {
    addr: addrFromWire(need(w.addr, 'dest ADDR'), family, 'dest ADDR'),
    port: need(w.port, 'dest PORT'),
    fwd,
    weight: need(w.weight, 'dest WEIGHT'),
    upperThreshold: need(w.uThresh, 'dest U_THRESH'),
    lowerThreshold: need(w.lThresh, 'dest L_THRESH'),
    activeConns: w.activeConns ?? 0,
    inactiveConns: w.inactConns ?? 0,
    persistentConns: w.persistConns ?? 0,
  }
  if (fwd === 'tunnel') {
    const t = w.tunType ?? 0
    const type = (Object.keys(TUN_TYPE) as TunnelType[]).find((k) => TUN_TYPE[k] === t)
    if (!type) throw invalid(`tunnel type ${t} is unknown`, { tunType: t })
    const fl = w.tunFlags ?? 0
    d.tunnel = {
      type,
      port: w.tunPort ?? 0,
      csum: (fl & TUN_FLAG_CSUM) !== 0,
      remcsum: (fl & TUN_FLAG_REMCSUM) !== 0,
    }
  }
  const stats = statsFromWire(w.stats64 ?? w.stats)
  if (stats) d.stats = stats
  return d
}

// ---- stats, daemons, timeouts, info ----

export function statsFromWire(w: WireStats | undefined): Stats | undefined {
  if (!w) return undefined
  return {
    conns: w.conns ?? 0n,
    inPkts: w.inPkts ?? 0n,
    outPkts: w.outPkts ?? 0n,
    inBytes: w.inBytes ?? 0n,
    outBytes: w.outBytes ?? 0n,
    cps: w.cps ?? 0n,
    inPps: w.inPps ?? 0n,
    outPps: w.outPps ?? 0n,
    inBps: w.inBps ?? 0n,
    outBps: w.outBps ?? 0n,
  }
}

export function daemonToWire(d: SyncDaemon): WireDaemon {
  const w: WireDaemon = { state: DAEMON_STATE[d.state], mcastIfn: d.ifname, syncId: d.syncId }
  if (d.maxLen !== undefined) w.syncMaxLen = d.maxLen
  if (d.group?.family === 4) w.mcastGroup = Buffer.from(d.group.bytes).readUInt32BE(0)
  if (d.group?.family === 6) w.mcastGroup6 = Buffer.from(d.group.bytes)
  if (d.port !== undefined) w.mcastPort = d.port
  if (d.ttl !== undefined) w.mcastTtl = d.ttl
  return w
}

export function daemonFromWire(w: WireDaemon): SyncDaemon {
  const st = need(w.state, 'daemon STATE')
  const state = st === DAEMON_STATE.master ? 'master' : st === DAEMON_STATE.backup ? 'backup' : undefined
  if (!state) throw invalid(`daemon state ${st} is neither master nor backup`, { state: st })
  const d: { -readonly [K in keyof SyncDaemon]: SyncDaemon[K] } = {
    state,
    ifname: need(w.mcastIfn, 'daemon MCAST_IFN'),
    syncId: need(w.syncId, 'daemon SYNC_ID'),
  }
  if (w.syncMaxLen !== undefined) d.maxLen = w.syncMaxLen
  if (w.mcastGroup6 !== undefined) d.group = addrFromWire(w.mcastGroup6, 6, 'daemon MCAST_GROUP6')
  else if (w.mcastGroup !== undefined) {
    const b = Buffer.alloc(4)
    b.writeUInt32BE(w.mcastGroup, 0)
    d.group = addrFromBytes(b)
  }
  if (w.mcastPort !== undefined) d.port = w.mcastPort
  if (w.mcastTtl !== undefined) d.ttl = w.mcastTtl
  return d
}

export const timeoutsToWire = (t: Timeouts): WireTimeouts => ({ tcp: t.tcp, tcpFin: t.tcpFin, udp: t.udp })

export function timeoutsFromWire(w: WireTimeouts | undefined): Timeouts {
  return {
    tcp: need(w?.tcp, 'TIMEOUT_TCP'),
    tcpFin: need(w?.tcpFin, 'TIMEOUT_TCP_FIN'),
    udp: need(w?.udp, 'TIMEOUT_UDP'),
  }
}

export function infoFromWire(w: WireInfo | undefined): Info {
  const v = need(w?.version, 'INFO_VERSION')
  return {
    version: `${(v >> 16) & 0xff}.${(v >> 8) & 0xff}.${v & 0xff}`,
    versionCode: v,
    connTabSize: need(w?.connTabSize, 'INFO_CONN_TAB_SIZE'),
  }
}
