// Fills in inherited settings (global VRRP defaults into instances, service settings into real
// servers) so the rest of lvsd reads one complete value per setting. Runs only on a valid raw config.
import { type Addr, parseAddr } from '../net/addr.js'
import type { Config, RawConfig, RawInstance, RealServer, TrackScript, VirtualService, VrrpInstance } from './types.js'

const SYNC_GROUP4: Addr = parseAddr('224.0.0.81')
const SYNC_GROUP6: Addr = parseAddr('ff02::81')

function resolveInstance(raw: RawConfig, inst: RawInstance, scripts: Map<string, TrackScript>): VrrpInstance {
  const g = raw.vrrp.garp
  const ig = inst.garp
  return {
    ...inst,
    version: inst.version ?? raw.vrrp.version,
    advert_interval: inst.advert_interval ?? raw.vrrp.advert_interval,
    lower_prio_answer_interval: inst.lower_prio_answer_interval ?? raw.vrrp.lower_prio_answer_interval,
    family: inst.vips[0]!.address.addr.family,
    garp: {
      repeat: ig.repeat ?? g.repeat,
      delay: ig.delay ?? g.delay,
      interval: ig.interval ?? g.interval,
      refresh: ig.refresh ?? g.refresh,
      refresh_repeat: ig.refresh_repeat ?? g.refresh_repeat,
    },
    unicast: inst.unicast && {
      source: inst.unicast.source,
      peers: inst.unicast.peers,
      allow_from: inst.unicast.allow_from,
      ttl: inst.unicast.ttl ?? raw.vrrp.unicast_ttl,
    },
    track: {
      ...inst.track,
      scripts: inst.track.scripts.map((r) => ({ name: r.name, weight: r.weight ?? scripts.get(r.name)?.weight ?? 0 })),
    },
  }
}

export function resolveConfig(raw: RawConfig): Config {
  const scripts = raw.vrrp.scripts.map((s): TrackScript => ({ ...s, timeout: s.timeout ?? s.interval }))
  const byName = new Map(scripts.map((s) => [s.name, s]))
  const instances = raw.vrrp.instances.map((i) => resolveInstance(raw, i, byName))
  const services = raw.virtual_services.map((s): VirtualService => {
    const port = s.port ?? 0
    const real_servers = s.real_servers.map(
      (r): RealServer => ({
        ...r,
        port: r.port ?? port,
        forwarding: r.forwarding ?? s.forwarding,
        tunnel: r.tunnel ?? s.tunnel,
        checks: r.checks ?? s.checks,
        slow_start: r.slow_start ?? s.slow_start,
      }),
    )
    const family = s.address ? s.address.family : s.family === 'inet6' ? 6 : 4
    return { ...s, port, family, real_servers }
  })
  const sync = raw.ipvs.sync
  const followed = sync?.follow === undefined ? undefined : instances.find((i) => i.name === sync.follow)
  return {
    ...raw,
    vrrp: { ...raw.vrrp, scripts, instances },
    virtual_services: services,
    ipvs: {
      ...raw.ipvs,
      sync: sync && {
        ...sync,
        sync_id: sync.sync_id ?? followed?.vrid ?? 0,
        group: sync.group ?? (followed?.family === 6 ? SYNC_GROUP6 : SYNC_GROUP4),
      },
    },
  }
}
