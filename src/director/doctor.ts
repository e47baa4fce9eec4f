// lvsctl doctor's findings for LVS-DR real servers: what each probe result means, named by server,
// with the fix (docs/realserver.md). Pure: the probes are in doctor-probe.ts.
import { type Addr, formatAddr } from '../net/addr.js'
import type { DrProbe } from './doctor-probe.js'

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
