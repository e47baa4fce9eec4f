// lvsctl doctor's findings for LVS-DR real servers: what each probe result means, named by server,
// with the fix (docs/realserver.md). Pure: the probes are in doctor-probe.ts.
import type { Config, VirtualService } from '../config/types.js'
import { LvsdError } from '../errors.js'
import { type Addr, formatAddr, sameAddr } from '../net/addr.js'
import type { DrProbe, DrTarget } from './doctor-probe.js'

export type DoctorKind = 'not-on-segment' | 'answers-vip-arp' | 'vip-not-accepted' | 'port-closed'

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
export async function runDoctor(config: Config, service: string | undefined, probe: ProbeFn): Promise<DoctorReport> {
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
        skip(`${rs.forwarding} real servers are not probed yet`)
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
