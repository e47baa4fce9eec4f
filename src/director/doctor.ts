// lvsctl doctor's findings for LVS-DR, LVS-TUN and LVS-NAT real servers: what each probe result means,
// named by server, with the fix (docs/realserver.md). Pure: the probes are in doctor-probe*.ts.
import type { Config, VirtualService } from '../config/types.js'
import { LvsdError } from '../errors.js'
import { type Addr, formatAddr, sameAddr } from '../net/addr.js'
import type { DrProbe, DrTarget } from './doctor-probe.js'
import type { RouteProbe, RouteTarget } from './doctor-probe-routes.js'
import { serverText } from './health-specs.js'

export type DoctorKind =
  | 'not-on-segment'
  | 'answers-vip-arp'
  | 'answers-vip-ns'
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
  const vipPort = serverText(vip, port)
  const f = (kind: DoctorKind, problem: string, fix: string): DoctorFinding => ({
    service,
    server: serverText(server, port),
    kind,
    problem,
    fix,
  })
  const v6 = server.family === 6
  if (!p.serverMac)
    return [
      f(
        'not-on-segment',
        `${s} does not answer ${v6 ? 'a Neighbor Solicitation' : 'ARP'} on ${ifname}: it is not on the director's L2 segment, which LVS-DR needs`,
        `put ${s} on the segment of ${ifname}, or use forwarding: tun`,
      ),
    ]
  const out: DoctorFinding[] = []
  if (p.answersVipArp)
    out.push(
      v6
        ? // Linux answers an NS only for an address on the interface it came in on (or a proxy_ndp entry
          // there): no sysctl like arp_ignore exists or is needed, a VIP on lo is never announced
          f(
            'answers-vip-ns',
            `${s} answers a Neighbor Solicitation for the VIP ${v} (${v} on its interface facing the director, or a proxy_ndp entry for it): the router may send the VIP's traffic to it instead of the director`,
            `on ${s}: delete ${v} from every interface but lo (lvsd realserver check names it) and any proxy entry for it (ip -6 neigh del proxy ${v} dev IF); lvsd realserver up keeps it on lo as /128`,
          )
        : f(
            'answers-vip-arp',
            `${s} answers ARP for the VIP ${v}: the router may send the VIP's traffic to it instead of the director`,
            `on ${s}: lvsd realserver up (VIP on lo only; arp_ignore=1, arp_announce=2)`,
          ),
    )
  if (p.syn === 'none')
    out.push(
      f(
        'vip-not-accepted',
        `a SYN to ${vipPort} sent to ${s}'s MAC gets no answer: ${v} is not local there (or a firewall drops it), so forwarded packets are lost`,
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
    server: serverText(server, port),
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
  /** Why a server was skipped, or which check of a probed one did not apply (UDP: the SYN). */
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

/** Why a server was not probed, by what stops it. */
export const NOT_PROBED = {
  noProbe: (fwd: string) => `${fwd} real servers are not probed here`,
  routeNotTcp: 'the TUN and NAT probes need a TCP answer: only TCP services are probed',
  routeV6:
    'IPv6 TUN and NAT servers are not probed: the IP-in-IP SYN and the route-back SYN from the VIP exist for IPv4 only',
  drNoInstance: 'only services whose VIP belongs to a VRRP instance are probed (the VIP picks the interface)',
  drSctp: 'SCTP services are not probed',
  familyMix: "the server's address family is not the VIP's",
} as const

/** The note on a probed UDP DR server: which check did not apply. */
export const UDP_NOTE =
  "UDP: probed at L2 only (on the segment, not answering for the VIP); a SYN does not apply to UDP, so whether the server accepts the VIP's port is not probed"

/**
 * Probes the real servers of the configured services (the configuration, not the kernel table: what
 * the operator meant, probed even where IPVS is absent or a server is drained). One server at a time,
 * so the probes never burst on the segment. DR is probed over IPv4 and IPv6, TCP and UDP (UDP at L2
 * only); TUN and NAT over IPv4 TCP; the rest is listed as skipped with the reason.
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
      const base = { service: s.name, server: serverText(rs.address, rs.port), forwarding: rs.forwarding }
      const skip = (note: string) => checked.push({ ...base, result: 'skipped', note })
      const vip = s.address
      if (vip && vip.family !== rs.address.family) {
        skip(NOT_PROBED.familyMix)
        continue
      }
      if (rs.forwarding !== 'dr') {
        const fn = rs.forwarding === 'tun' ? tun : nat
        if (!fn || !vip) skip(NOT_PROBED.noProbe(rs.forwarding))
        else if (s.protocol !== 'tcp') skip(NOT_PROBED.routeNotTcp)
        else if (vip.family !== 4) skip(NOT_PROBED.routeV6)
        else {
          // TUN keeps the VIP's port (only the outer header changes); NAT translates to the server's
          const port = rs.forwarding === 'tun' ? s.port : rs.port
          const p = await fn({ server: rs.address, vip, port })
          if (p.skipped) skip(SKIP_NOTE[p.skipped])
          else {
            checked.push({ ...base, result: 'probed' })
            found.push(...routeFindings(s.name, rs.forwarding, rs.address, rs.port, vip, p))
          }
        }
        continue
      }
      const ifname = vipInterface(config, s)
      if (!vip || !ifname) skip(NOT_PROBED.drNoInstance)
      else if (s.protocol === 'sctp') skip(NOT_PROBED.drSctp)
      else {
        const p = await probe({ ifname, server: rs.address, vip, port: s.port, protocol: s.protocol })
        checked.push({ ...base, result: 'probed', ...(s.protocol === 'udp' ? { note: UDP_NOTE } : {}) })
        found.push(...drFindings(s.name, rs.address, rs.port, vip, ifname, p))
      }
    }
  }
  return { at: new Date().toISOString(), checked, findings: found }
}
