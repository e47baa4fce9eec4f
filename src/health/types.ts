// The data health checking works on: targets, check options per kind, results and policies.
// Plain data only, so the director can map its config onto these without health importing config.
import type { Addr } from '../net/addr.js'

/** Where a check goes: the real server as IPVS knows it, with keepalived's connect_* / bindto / bind_if overrides. */
export interface Target {
  addr: Addr
  port: number
  /** Probe this address instead of `addr` (keepalived connect_ip). */
  connectAddr?: Addr
  /** Probe this port instead of `port` (keepalived connect_port). */
  connectPort?: number
  /** Source address of the probe (keepalived bindto). */
  sourceAddr?: Addr
  /** Send through this interface only (SO_BINDTODEVICE, keepalived bind_if). */
  bindInterface?: string
}

/** Why a check failed, stable enough to match on (the detail text is for people). */
export type FailCode =
  | 'timeout'
  | 'refused'
  | 'unreachable'
  | 'reset'
  | 'tls'
  | 'status'
  | 'body'
  | 'protocol'
  | 'rcode'
  | 'answer'
  | 'exit'
  | 'signal'
  | 'file'
  | 'error'

export interface Result {
  ok: boolean
  /** Wall time the check took, in milliseconds. */
  ms: number
  detail: string
  code?: FailCode
  /** A dynamic weight reported by the server (exec exit code, file content). */
  weight?: number
}

/** TCP_CHECK has no options: a completed handshake is the pass. */
export type TcpOptions = Readonly<Record<string, never>>

export type StatusMatch = number | readonly [number, number]

export interface HttpOptions {
  /** HTTPS when true (keepalived SSL_GET). */
  tls?: boolean
  method?: string
  path?: string
  /** Host header (keepalived virtualhost); default the probed address. */
  host?: string
  headers?: Readonly<Record<string, string>>
  /** Accepted status codes and inclusive ranges. Default [[200, 299]]. */
  status?: readonly StatusMatch[]
  /** The body must match this regular expression (source text, JavaScript syntax). */
  bodyRegex?: string
  /** The body must hash to this hex digest (keepalived digest, which is MD5). */
  digest?: { algorithm: 'md5' | 'sha256'; hex: string }
  /**
   * Bytes of body read at most; the rest is not waited for. Default 64 KiB for the regex (the bytes
   * are decoded to match) and 1 MiB for the digest (hashed as they arrive).
   */
  maxBody?: number
  /** TLS server name; default `host` when it is a name. */
  sni?: string
  /** Verify the certificate chain and name. Default false, as keepalived's SSL_GET. */
  verify?: boolean
  /** PEM file of trusted CAs when verifying. */
  caFile?: string
}

export interface DnsOptions {
  /** Record type as a name (A, AAAA, SOA, NS, MX, TXT, CNAME, PTR, SRV) or number. Default SOA. */
  type?: string | number
  /** Default "." (the root), as keepalived. */
  name?: string
  /** Expected response code. Default 0 (NOERROR). */
  rcode?: number
  /** An answer record must hold this value: an address for A/AAAA, a name for NS/CNAME/PTR/MX. */
  answer?: string
  /** Recursion desired bit. Default false. */
  recursion?: boolean
}

export interface UdpOptions {
  /** Datagram sent (keepalived payload). Default empty. */
  payload?: Uint8Array
  /** A reply must arrive; otherwise silence until `quietMs` counts as success. Default false. */
  requireReply?: boolean
  /** The reply must match this regular expression (over its latin1 text). */
  replyRegex?: string
  /** The reply must equal these bytes. */
  reply?: Uint8Array
  minReplyLength?: number
  maxReplyLength?: number
  /** Without requireReply: how long to wait for an ICMP error before calling it success. Default 250 ms. */
  quietMs?: number
}

export interface IcmpOptions {
  /** Echo data bytes. Default 56. */
  size?: number
  /**
   * 'raw' needs CAP_NET_RAW; 'ping' needs the process's group in net.ipv4.ping_group_range;
   * 'auto' (default) tries raw, then ping.
   */
  socket?: 'auto' | 'raw' | 'ping'
}

export interface SmtpOptions {
  /** Name given in HELO/EHLO. Default the host name. */
  heloName?: string
  /** EHLO instead of HELO. Default false. */
  ehlo?: boolean
}

export interface ExecOptions {
  /** Program and arguments, no shell. */
  argv: readonly string[]
  /** Extra environment; LVSD_RS_ADDR, LVSD_RS_PORT, LVSD_CHECK_ADDR, LVSD_CHECK_PORT are always set. */
  env?: Readonly<Record<string, string>>
  uid?: number
  gid?: number
  /** keepalived misc_dynamic: exit 2–255 means up with weight = code − 2. */
  dynamic?: boolean
}

export interface FileOptions {
  path: string
  /** Multiplies the integer read (keepalived FILE_CHECK weight). Default 1. */
  scale?: number
}

export type CheckKind = 'tcp' | 'http' | 'dns' | 'udp' | 'icmp' | 'smtp' | 'exec' | 'file'

export type CheckOptions =
  | { kind: 'tcp'; opts: TcpOptions }
  | { kind: 'http'; opts: HttpOptions }
  | { kind: 'dns'; opts: DnsOptions }
  | { kind: 'udp'; opts: UdpOptions }
  | { kind: 'icmp'; opts: IcmpOptions }
  | { kind: 'smtp'; opts: SmtpOptions }
  | { kind: 'exec'; opts: ExecOptions }
  | { kind: 'file'; opts: FileOptions }

/** One check of a real server, with its cadence. */
export type CheckSpec = CheckOptions & {
  /** Unique within its server; health state is kept per id across reloads. */
  id: string
  intervalMs: number
  timeoutMs: number
}

/** How results become up/down/weight for one real server (see state.ts). */
export interface Policy {
  /** Consecutive passes that bring a failing check back. */
  rise: number
  /** Consecutive failures that take a passing check down. */
  fall: number
  /** Extra attempts after a failure before it counts (keepalived retry). */
  retry: number
  /** Wait before each extra attempt (keepalived delay_before_retry). */
  retryDelayMs: number
  /** State before any result: 'down' is keepalived's alpha. */
  initial: 'up' | 'down'
  /** Configured weight. */
  weight: number
  /** Weight ramps from 0 to its value over this long after recovery; 0 = at once. */
  slowStartMs: number
}

export interface ServerSpec {
  /** Stable identity of the real server (the director picks it, e.g. "web/10.0.0.5:80"). */
  id: string
  target: Target
  checks: readonly CheckSpec[]
  policy: Policy
}

export interface Transition {
  server: string
  kind: 'up' | 'down' | 'weight'
  /** The weight from now on (0 while down or drained). */
  weight: number
  reason: string
  /** ms of the check result that caused it, if one did. */
  latency?: number
}

/**
 * lvsd's defaults, for the director to fill in what the config leaves out. They differ from
 * keepalived's on purpose: a 60 s delay_loop leaves a dead server in rotation for minutes.
 */
export const DEFAULTS = {
  intervalMs: 2000,
  timeoutMs: 1000,
  policy: {
    rise: 2,
    fall: 3,
    retry: 0,
    retryDelayMs: 500,
    initial: 'up',
    weight: 1,
    slowStartMs: 0,
  } satisfies Policy as Policy,
  maxConcurrent: 256,
} as const
