// The IPVS generic netlink family's numbers and attribute tables, declared once (<linux/ip_vs.h>, family
// "IPVS" version 1). Each attribute names its wire kind, which fixes its size and byte order: netlink
// integers are host order except the ports, the IPv4 netmask and the IPv4 sync group (network order).

export const IPVS_GENL_NAME = 'IPVS'
export const IPVS_GENL_VERSION = 1

export const CMD = {
  NEW_SERVICE: 1,
  SET_SERVICE: 2,
  DEL_SERVICE: 3,
  GET_SERVICE: 4,
  NEW_DEST: 5,
  SET_DEST: 6,
  DEL_DEST: 7,
  GET_DEST: 8,
  NEW_DAEMON: 9,
  DEL_DAEMON: 10,
  GET_DAEMON: 11,
  SET_CONFIG: 12,
  GET_CONFIG: 13,
  SET_INFO: 14,
  GET_INFO: 15,
  ZERO: 16,
  FLUSH: 17,
} as const

export type CmdName = keyof typeof CMD
export type Cmd = (typeof CMD)[CmdName]

const CMD_NAMES = new Map<number, CmdName>(Object.entries(CMD).map(([k, v]) => [v, k as CmdName]))

/** 'NEW_DEST' for 5; errors and logs name commands by this. */
export function cmdName(cmd: number): string {
  return CMD_NAMES.get(cmd) ?? `CMD_${cmd}`
}

/**
 * How an attribute sits on the wire. `be16`/`be32` are network order; `raw4` is four bytes whose
 * meaning depends on the address family (the service netmask); `flags` is struct ip_vs_flags
 * {u32 flags; u32 mask} in host order; `stats`/`stats64` are nested counter sets.
 */
export type Kind =
  | 'u8'
  | 'u16'
  | 'u32'
  | 's32'
  | 'be16'
  | 'be32'
  | 'string'
  | 'addr'
  | 'raw4'
  | 'flags'
  | 'stats'
  | 'stats64'

export interface AttrSpec {
  readonly type: number
  readonly kind: Kind
  /** Longest text without its NUL (strings), or most bytes (addresses). */
  readonly maxLen?: number
}

// Top level of every command (IPVS_CMD_ATTR_*).
export const CMD_ATTR = {
  SERVICE: 1,
  DEST: 2,
  DAEMON: 3,
  TIMEOUT_TCP: 4,
  TIMEOUT_TCP_FIN: 5,
  TIMEOUT_UDP: 6,
} as const

export const TIMEOUT_ATTRS = {
  tcp: { type: CMD_ATTR.TIMEOUT_TCP, kind: 'u32' },
  tcpFin: { type: CMD_ATTR.TIMEOUT_TCP_FIN, kind: 'u32' },
  udp: { type: CMD_ATTR.TIMEOUT_UDP, kind: 'u32' },
} as const satisfies Record<string, AttrSpec>

// IPVS_SVC_ATTR_*; key order is the encoding order (the order ipvsadm sends).
export const SVC_ATTRS = {
  af: { type: 1, kind: 'u16' },
  protocol: { type: 2, kind: 'u16' },
  addr: { type: 3, kind: 'addr', maxLen: 16 },
  port: { type: 4, kind: 'be16' },
  fwmark: { type: 5, kind: 'u32' },
  schedName: { type: 6, kind: 'string', maxLen: 15 },
  peName: { type: 11, kind: 'string', maxLen: 15 },
  flags: { type: 7, kind: 'flags' },
  timeout: { type: 8, kind: 'u32' },
  // IPv4: the mask's 4 bytes in network order; IPv6: the prefix length as a host-order u32
  netmask: { type: 9, kind: 'raw4' },
  stats: { type: 10, kind: 'stats' },
  stats64: { type: 12, kind: 'stats64' },
} as const satisfies Record<string, AttrSpec>

// IPVS_DEST_ATTR_*; key order is the encoding order (ipvsadm 1.31's: family first, tunnel options always)
export const DEST_ATTRS = {
  addrFamily: { type: 11, kind: 'u16' },
  addr: { type: 1, kind: 'addr', maxLen: 16 },
  port: { type: 2, kind: 'be16' },
  fwdMethod: { type: 3, kind: 'u32' },
  // an int in the kernel: a u16 reader (as one Go binding has) truncates it
  weight: { type: 4, kind: 's32' },
  tunType: { type: 13, kind: 'u8' },
  tunPort: { type: 14, kind: 'be16' },
  tunFlags: { type: 15, kind: 'u16' },
  uThresh: { type: 5, kind: 'u32' },
  lThresh: { type: 6, kind: 'u32' },
  activeConns: { type: 7, kind: 'u32' },
  inactConns: { type: 8, kind: 'u32' },
  persistConns: { type: 9, kind: 'u32' },
  stats: { type: 10, kind: 'stats' },
  stats64: { type: 12, kind: 'stats64' },
} as const satisfies Record<string, AttrSpec>

// IPVS_DAEMON_ATTR_*
export const DAEMON_ATTRS = {
  state: { type: 1, kind: 'u32' },
  mcastIfn: { type: 2, kind: 'string', maxLen: 15 },
  syncId: { type: 3, kind: 'u32' },
  syncMaxLen: { type: 4, kind: 'u16' },
  // the IPv4 group address bytes (network order), unlike the port below
  mcastGroup: { type: 5, kind: 'be32' },
  mcastGroup6: { type: 6, kind: 'addr', maxLen: 16 },
  // host order: the kernel adds the thread id and applies htons itself
  mcastPort: { type: 7, kind: 'u16' },
  mcastTtl: { type: 8, kind: 'u8' },
} as const satisfies Record<string, AttrSpec>

// IPVS_INFO_ATTR_* (in the SET_INFO reply to GET_INFO)
export const INFO_ATTRS = {
  version: { type: 1, kind: 'u32' },
  connTabSize: { type: 2, kind: 'u32' },
} as const satisfies Record<string, AttrSpec>

// IPVS_STATS_ATTR_*: in STATS the byte counters are u64 and the rest u32; in STATS64 all are u64.
export const STATS_ATTRS = {
  conns: { type: 1, wide: false },
  inPkts: { type: 2, wide: false },
  outPkts: { type: 3, wide: false },
  inBytes: { type: 4, wide: true },
  outBytes: { type: 5, wide: true },
  cps: { type: 6, wide: false },
  inPps: { type: 7, wide: false },
  outPps: { type: 8, wide: false },
  inBps: { type: 9, wide: false },
  outBps: { type: 10, wide: false },
} as const
// nla_put_u64_64bit aligns u64 payloads with zero-length PAD attributes: skipped on decode
export const STATS_ATTR_PAD = 11

export type StatsName = keyof typeof STATS_ATTRS

// Service flags (IP_VS_SVC_F_*). HASHED is kernel-internal and shows up in dumps.
export const SVC_F_PERSISTENT = 0x1
export const SVC_F_HASHED = 0x2
export const SVC_F_ONEPACKET = 0x4
export const SVC_F_SCHED1 = 0x8
export const SVC_F_SCHED2 = 0x10
export const SVC_F_SCHED3 = 0x20

// IP_VS_CONN_F_* forwarding methods (FWD_METHOD is masked with 7 by the kernel)
export const FWD = { masq: 0, local: 1, tunnel: 2, droute: 3, bypass: 4 } as const
export const FWD_MASK = 0x7

export const TUN_TYPE = { ipip: 0, gue: 1, gre: 2 } as const
export const TUN_FLAG_CSUM = 0x1
export const TUN_FLAG_REMCSUM = 0x2

export const DAEMON_STATE = { master: 1, backup: 2 } as const

export const PROTO = { tcp: 6, udp: 17, sctp: 132 } as const
