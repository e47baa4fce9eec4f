// Config + what health and operators say of each real server → the IPVS table lvsd wants (pure).
// A down server is removed (or kept at weight 0 with inhibit_on_failure); a service without quorum
// is served by its sorry server when it has one.
import type { Forwarding, RealServer, TunnelConfig, VirtualService } from '../config/types.js'
import type { Destination, FwdMethod, Service, ServiceKey } from '../ipvs/domain.js'
import { defaultDest, defaultService, type ServiceState } from '../ipvs/model.js'

/** What the director knows of one real server right now. */
export interface ServerNow {
  /** Health says up (always true for an unchecked server). */
  up: boolean
  /** The weight it should get: health's (ramped, dynamic) or the operator's; 0 when drained. */
  weight: number
}

const FWD: Record<Forwarding, FwdMethod> = { dr: 'droute', nat: 'masq', tun: 'tunnel' }

export function serviceKey(s: VirtualService): ServiceKey {
  if (s.fwmark !== undefined) return { fwmark: s.fwmark, family: s.family }
  // the schema guarantees an address when there is no fwmark
  return { protocol: s.protocol, addr: s.address as NonNullable<VirtualService['address']>, port: s.port }
}

export function ipvsService(s: VirtualService): Service {
  const p = s.persistence
  const flags = (s.scheduler_flags.fallback ? 1 : 0) | (s.scheduler_flags.port ? 2 : 0)
  return defaultService(serviceKey(s), s.scheduler, {
    persistent: p !== undefined,
    timeout: p ? Math.round(p.timeout / 1000) : 0,
    ...(p?.prefix_length === undefined ? {} : { netmask: p.prefix_length }),
    onePacket: s.scheduler_flags.one_packet,
    schedFlags: flags,
    ...(p?.engine === undefined ? {} : { peName: p.engine }),
  })
}

function tunnel(t: TunnelConfig | undefined): Destination['tunnel'] {
  if (!t) return undefined
  return { type: t.type, port: t.port ?? 0, csum: t.checksum === 'csum', remcsum: t.checksum === 'remcsum' }
}

function dest(rs: RealServer, weight: number): Destination {
  const t = rs.forwarding === 'tun' ? tunnel(rs.tunnel) : undefined
  return defaultDest(rs.address, rs.port, FWD[rs.forwarding], {
    weight,
    upperThreshold: rs.upper_threshold,
    lowerThreshold: rs.lower_threshold,
    ...(t ? { tunnel: t } : {}),
  })
}

function sorryDest(s: VirtualService): Destination | undefined {
  const sorry = s.sorry_server
  if (!sorry) return undefined
  return defaultDest(sorry.address, sorry.port ?? s.port, FWD[sorry.forwarding ?? s.forwarding], { weight: 1 })
}

/** Total weight of live servers: what quorum is measured in. */
export function aliveWeight(servers: readonly ServerNow[]): number {
  let n = 0
  for (const s of servers) if (s.up) n += s.weight
  return n
}

/**
 * The service's destinations: live servers at their weight, failed ones dropped or at weight 0
 * (inhibit_on_failure); only the sorry server while quorum is lost and one is configured.
 */
export function serviceTable(s: VirtualService, now: readonly ServerNow[], quorumUp: boolean): ServiceState {
  const service = ipvsService(s)
  const sorry = quorumUp ? undefined : sorryDest(s)
  if (sorry) return { service, dests: [sorry] }
  const dests: Destination[] = []
  s.real_servers.forEach((rs, i) => {
    const n = now[i] ?? { up: true, weight: rs.weight }
    if (n.up) dests.push(dest(rs, n.weight))
    else if (s.inhibit_on_failure) dests.push(dest(rs, 0))
  })
  return { service, dests }
}
