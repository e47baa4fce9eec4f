// The configuration's checks as the health scheduler's ServerSpecs (src/health/types.ts): one spec per
// checked real server, keyed by a stable id so a reload keeps each server's health state.
import type { Check, Config, RealServer, VirtualService } from '../config/types.js'
import type { CheckOptions, CheckSpec, Policy, ServerSpec, Target } from '../health/types.js'
import { type Addr, formatAddr } from '../net/addr.js'
import { idsFor, NO_PROGRAM_USERS, type ProgramUsers } from './program-users.js'

/** address:port, IPv6 in brackets: the text the API, metrics and events use for a real server. */
export function serverText(addr: Addr, port: number): string {
  return addr.family === 6 ? `[${formatAddr(addr)}]:${port}` : `${formatAddr(addr)}:${port}`
}

type ServerAt = Pick<RealServer, 'address' | 'port'>

/** A real server's text and id as last spelled, for the object they were spelled from. */
interface Spelled {
  address: Addr
  port: number
  text: string
  service: string | undefined
  id: string
}

/**
 * Status, metrics and the desired table spell every configured server's text and id at every
 * scrape and table pass: at 10,000 servers that was most of a status (docs/benchmarks.md). A
 * config's objects are not changed once loaded, so each one's spelling is kept with it, and
 * checked against its address and port in case an object is reused.
 */
const spelled = new WeakMap<ServerAt, Spelled>()

function spell(rs: ServerAt): Spelled {
  let k = spelled.get(rs)
  if (!k || k.address !== rs.address || k.port !== rs.port) {
    k = { address: rs.address, port: rs.port, text: serverText(rs.address, rs.port), service: undefined, id: '' }
    spelled.set(rs, k)
  }
  return k
}

/** A configured server's address:port text (serverText), spelled once per object. */
export function realServerText(rs: ServerAt): string {
  return spell(rs).text
}

/** The id of a real server across lvsd: `<service>/<address:port>`, e.g. web/10.0.0.7:80. */
export function serverId(service: string, rs: ServerAt): string {
  const k = spell(rs)
  if (k.service !== service) {
    k.service = service
    k.id = `${service}/${k.text}`
  }
  return k.id
}

const RCODES = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 } as const

function checkOptions(c: Check, users: ProgramUsers): CheckOptions {
  switch (c.type) {
    case 'tcp':
      return { kind: 'tcp', opts: {} }
    case 'icmp':
      return { kind: 'icmp', opts: {} }
    case 'http':
    case 'https': {
      const [algorithm, hex] = c.body_digest?.split(':') ?? []
      return {
        kind: 'http',
        opts: {
          tls: c.type === 'https',
          method: c.method,
          path: c.path,
          status: c.expect_status,
          ...(c.host === undefined ? {} : { host: c.host }),
          ...(c.body_regex === undefined ? {} : { bodyRegex: c.body_regex }),
          ...(algorithm && hex ? { digest: { algorithm: algorithm as 'md5' | 'sha256', hex } } : {}),
          ...(c.type === 'https'
            ? {
                verify: c.verify,
                ...(c.sni === undefined ? {} : { sni: c.sni }),
                ...(c.ca_file === undefined ? {} : { caFile: c.ca_file }),
              }
            : {}),
        },
      }
    }
    case 'dns':
      return {
        kind: 'dns',
        opts: {
          type: c.query_type,
          name: c.query_name,
          rcode: RCODES[c.expect_rcode],
          ...(c.expect_answer === undefined ? {} : { answer: c.expect_answer }),
        },
      }
    case 'udp': {
      const payload =
        c.payload_hex !== undefined
          ? Uint8Array.from(Buffer.from(c.payload_hex, 'hex'))
          : Uint8Array.from(Buffer.from(c.payload ?? '', 'utf8'))
      return { kind: 'udp', opts: { payload, requireReply: c.expect_reply } }
    }
    case 'smtp':
      return { kind: 'smtp', opts: { heloName: c.helo_name } }
    case 'exec': {
      const who = idsFor(users, c.user)
      return { kind: 'exec', opts: { argv: c.argv, dynamic: c.dynamic_weight, ...(who ?? {}) } }
    }
    case 'file':
      return { kind: 'file', opts: { path: c.path, scale: c.weight_multiplier } }
  }
}

function target(rs: RealServer, c: Check | undefined): Target {
  const t: Target = { addr: rs.address, port: rs.port }
  if (c?.connect_address) t.connectAddr = c.connect_address
  if (c?.connect_port) t.connectPort = c.connect_port
  if (c?.source_address) t.sourceAddr = c.source_address
  if (c?.bind_interface) t.bindInterface = c.bind_interface
  return t
}

/**
 * Rise, fall and retry are per server in the health reducer (a server is up while all its checks pass);
 * they come from the server's first check. `weight` is the operator's override when one is set.
 */
export function policyOf(rs: RealServer, weight: number): Policy {
  const first = rs.checks[0]
  return {
    rise: first?.rise ?? 2,
    fall: first?.fall ?? 3,
    retry: first?.retry ?? 0,
    retryDelayMs: first?.retry_delay ?? 1000,
    initial: rs.initially_down ? 'down' : 'up',
    weight,
    slowStartMs: rs.slow_start,
  }
}

/** The scheduler's spec of one real server, or undefined when it has no checks (always up). */
export function serverSpec(
  svc: VirtualService,
  rs: RealServer,
  weight: number,
  users: ProgramUsers = NO_PROGRAM_USERS,
): ServerSpec | undefined {
  if (rs.checks.length === 0) return undefined
  const checks = rs.checks.map(
    (c, i): CheckSpec => ({
      ...checkOptions(c, users),
      id: `${i}:${c.type}`,
      intervalMs: c.interval,
      timeoutMs: c.timeout,
    }),
  )
  // connect_* overrides are per check in the config but per server in the health Target: the first check's win
  return { id: serverId(svc.name, rs), target: target(rs, rs.checks[0]), checks, policy: policyOf(rs, weight) }
}

/** Warnings about settings the health reducer cannot honour per check, once per server. */
export function policyWarnings(c: Config): string[] {
  const out: string[] = []
  for (const s of c.virtual_services)
    for (const rs of s.real_servers) {
      const [first, ...rest] = rs.checks
      if (!first) continue
      const differs = rest.some((k) => k.rise !== first.rise || k.fall !== first.fall || k.retry !== first.retry)
      if (differs)
        out.push(`${serverId(s.name, rs)}: checks differ in rise/fall/retry; the first check's values apply to all`)
      const over = (k: Check) =>
        [k.connect_address, k.connect_port, k.source_address, k.bind_interface]
          .map((v) => (v === undefined ? '' : typeof v === 'object' ? formatAddr(v) : String(v)))
          .join(' ')
      const targets = rest.some((k) => over(k) !== over(first))
      if (targets)
        out.push(`${serverId(s.name, rs)}: checks differ in connect/source overrides; the first check's apply`)
    }
  return out
}
