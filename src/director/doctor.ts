// lvsctl doctor's findings for LVS-DR, LVS-TUN and LVS-NAT real servers: what each probe result means,
// named by server, with the fix (docs/realserver.md). Pure: the probes are in doctor-probe*.ts.
import type { Config, VirtualService } from '../config/types.js'
import { LvsdError } from '../errors.js'
import { type Addr, formatAddr, sameAddr } from '../net/addr.js'
import type { DrProbe, DrTarget } from './doctor-probe.js'
import type { RouteProbe, RouteTarget } from './doctor-probe-routes.js'

export type DoctorKind =
  | 'not-on-segment'
  | 'answers-vip-arp'
  | 'vip-not-accepted'
  | 'port-closed'
  | 'server-unreachable'
  | 'no-decap'
  | 'no-route-back'
  | 'route-bypasses-director'

export interface DoctorFinding {
  service: string
  server: string
  kind: DoctorKind
  problem: string
  fix: string
}

export function drFindings(
  service: string,
  server: Addr,
  port: number,
  vip: Addr,
  ifname: string,
  p: DrProbe,
): DoctorFinding[] {
  const s = formatAddr(server)
  const v = formatAddr(vip)
  const f = (kind: DoctorKind, problem: string, fix: string): DoctorFinding => ({
    service,
    server: `${s}:${port}`,
    kind,
    problem,
    fix,
  })
  if (!p.serverMac)
    return [
      f(
        'not-on-segment',
        `${s} does not answer ARP on ${ifname}: it is not on the director's L2 segment, which LVS-DR needs`,
        `put ${s} on the segment of ${ifname}, or use forwarding: tun`,
      ),
    ]
  const out: DoctorFinding[] = []
  if (p.answersVipArp)
    out.push(
      f(
        'answers-vip-arp',
        `${s} answers ARP for the VIP ${v}: the router may send the VIP's traffic to it instead of the director`,
        `on ${s}: lvsd realserver up (VIP on lo only; arp_ignore=1, arp_announce=2)`,
      ),
    )
  if (p.syn === 'none')
    out.push(
      f(
        'vip-not-accepted',
        `a SYN to ${v}:${port} sent to ${s}'s MAC gets no answer: ${v} is not local there (or a firewall drops it), so forwarded packets are lost`,
        `on ${s}: lvsd realserver up (adds ${v} to lo)`,
      ),
    )
  if (p.syn === 'rst')
    out.push(
      f(
        'port-closed',
        `${s} accepts ${v} but answers a SYN to port ${port} with RST: nothing listens there`,
        `on ${s}: start the service on port ${port} (bound to ${v} or to all addresses)`,
      ),
    )
  return out
}

const macText = (m: Uint8Array) => [...m].map((b) => b.toString(16).padStart(2, '0')).join(':')

/** TUN and NAT findings (the probe was made: `p.skipped` is undefined). */
export function routeFindings(
  service: string,
  forwarding: 'tun' | 'nat',
  server: Addr,
  port: number,
  vip: Addr,
  p: RouteProbe,
): DoctorFinding[] {
  const s = formatAddr(server)
  const v = formatAddr(vip)
  const f = (kind: DoctorKind, problem: string, fix: string): DoctorFinding => ({
    service,
    server: `${s}:${port}`,
    kind,
    problem,
    fix,
  })
  if (!p.serverMac)
    return [
      f(
        'server-unreachable',
        `${s} does not answer ARP on ${p.ifname}: the server is down or not on that segment`,
        `start ${s} or fix its address`,
      ),
    ]
  if (p.syn === 'rst')
    return [
      f(
        'port-closed',
        `${s} answers a SYN to port ${port} with RST: nothing listens there`,
        `on ${s}: start the service on port ${port}`,
      ),
    ]
  if (forwarding === 'tun')
    return p.syn === 'none'
      ? [
          f(
            'no-decap',
            `an IP-in-IP packet carrying a SYN to ${v}:${port}, sent to ${s}, gets no answer: ${s} does not decapsulate it (no tunl0 up with ${v}, or rp_filter drops it) or a firewall drops it`,
            `on ${s}: lvsd realserver up with method: tun (ipip loaded, ${v} on tunl0, rp_filter=0 on all and tunl0)`,
          ),
        ]
      : []
  const gw = p.local ? formatAddr(p.local) : 'the director'
  if (p.syn === 'none')
    return [
      f(
        'no-route-back',
        `${s} does not answer a SYN from ${v}: it has no route back to the clients (no default route?)`,
        `on ${s}: ip route replace default via ${gw} (the director's address, or the VRRP VIP the directors share on that side)`,
      ),
    ]
  if (p.answeredTo)
    return [
      f(
        'route-bypasses-director',
        `${s} sends its answer to ${v} to ${macText(p.answeredTo)}, not to this director: replies bypass the director and are never translated back`,
        `on ${s}: ip route replace default via ${gw} (the director's address, or the VRRP VIP the directors share on that side)`,
      ),
    ]
  return []
}

export interface DoctorChecked {
  service: string
  server: string
  forwarding: string
  /** probed: findings (if any) are in the report; skipped: see note. */
  result: 'probed' | 'skipped'
  note?: string
}

export interface DoctorReport {
  /** Wall-clock time of the run (ISO 8601). */
  at: string
  checked: DoctorChecked[]
  findings: DoctorFinding[]
}

export type ProbeFn = (t: DrTarget) => Promise<DrProbe>
export type RouteProbeFn = (t: RouteTarget) => Promise<RouteProbe>

/** The probes per forwarding method; a bare function probes DR only (TUN and NAT are then skipped). */
export interface Probes {
  dr: ProbeFn
  tun?: RouteProbeFn
  nat?: RouteProbeFn
}

const SKIP_NOTE: Record<NonNullable<RouteProbe['skipped']>, string> = {
  'not-connected': 'no interface of this director is on its segment (routed servers are not probed)',
  'vip-not-here': 'this director does not hold the VIP: run lvsctl doctor on the one that does',
  'vip-on-segment': "the VIP is on the server's own segment: its answer would not show its route back",
}

/** The interface a DR service's VIP lives on: its followed instance's, else the instance holding the VIP. */
function vipInterface(config: Config, s: VirtualService): string | undefined {
  const insts = config.vrrp.instances
  const byName = s.follow ? insts.find((i) => i.name === s.follow) : undefined
  if (byName) return byName.interface
  const addr = s.address
  if (!addr) return undefined
  // a VIP's dev: (an alias interface) is where it sits, but ARP goes out of the instance's interface
  return insts.find((i) => i.vips.some((v) => sameAddr(v.address.addr, addr)))?.interface
}

/**
 * Probes the real servers of the configured services (the configuration, not the kernel table: what
 * the operator meant, probed even where IPVS is absent or a server is drained). One server at a time,
 * so the probes never burst on the segment. DR over IPv4 TCP is probed; the rest is listed as skipped.
 */
export async function runDoctor(
  config: Config,
  service: string | undefined,
  probes: ProbeFn | Probes,
): Promise<DoctorReport> {
  const { dr: probe, tun, nat } = typeof probes === 'function' ? { dr: probes, tun: undefined, nat: undefined } : probes
  const services = config.virtual_services.filter((s) => service === undefined || s.name === service)
  if (service !== undefined && services.length === 0)
    throw new LvsdError('LVSD_API_UNKNOWN_SERVICE', `no virtual service ${JSON.stringify(service)}`, { service })
  const checked: DoctorChecked[] = []
  const found: DoctorFinding[] = []
  for (const s of services) {
    for (const rs of s.real_servers) {
      const server = `${formatAddr(rs.address)}:${rs.port}`
      const base = { service: s.name, server, forwarding: rs.forwarding }
      const skip = (note: string) => checked.push({ ...base, result: 'skipped', note })
      if (rs.forwarding !== 'dr') {
        const fn = rs.forwarding === 'tun' ? tun : nat
        const vip = s.address
        if (!fn || !vip || s.protocol !== 'tcp' || vip.family !== 4 || rs.address.family !== 4) {
          skip(fn ? 'only IPv4 TCP services are probed' : `${rs.forwarding} real servers are not probed here`)
          continue
        }
        // TUN keeps the VIP's port (only the outer header changes); NAT translates to the server's
        const port = rs.forwarding === 'tun' ? s.port : rs.port
        const p = await fn({ server: rs.address, vip, port })
        if (p.skipped) {
          skip(SKIP_NOTE[p.skipped])
          continue
        }
        checked.push({ ...base, result: 'probed' })
        found.push(...routeFindings(s.name, rs.forwarding, rs.address, rs.port, vip, p))
        continue
      }
      const ifname = vipInterface(config, s)
      if (!s.address || s.protocol !== 'tcp' || s.address.family !== 4 || rs.address.family !== 4 || !ifname) {
        skip('only IPv4 TCP services whose VIP belongs to a VRRP instance are probed')
        continue
      }
      const p = await probe({ ifname, server: rs.address, vip: s.address, port: s.port })
      checked.push({ ...base, result: 'probed' })
      found.push(...drFindings(s.name, rs.address, rs.port, s.address, ifname, p))
    }
  }
  return { at: new Date().toISOString(), checked, findings: found }
}
