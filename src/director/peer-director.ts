// What the peer side (src/director/peer-side.ts) sees of the director: this node's health, VRRP and
// connection view as the peer message carries it, the threshold of a health disagreement, and how a
// replicated action is applied. Kept apart so director.ts only hands over its parts.
import type { Config } from '../config/types.js'
import type { EventBus } from '../events.js'
import type { ServerState } from '../health/state.js'
import { serviceId } from '../ipvs/model.js'
import { formatAddr } from '../net/addr.js'
import type { PeerHealth, PeerInstance, PeerSyncRole } from '../peer/message.js'
import type { OpValue } from '../peer/operator-state.js'
import { serverId } from './health-specs.js'
import { serviceKey } from './ipvs-table.js'
import type { PeerSideHooks } from './peer-side.js'
import type { ServerBook } from './servers.js'
import type { KernelCounters } from './status.js'
import type { InstanceRecord } from './vrrp-side.js'

export type { PeerSide } from './peer-side.js'

export interface DirectorAccess {
  events: EventBus
  config(): Config
  book: ServerBook
  health(id: string): ServerState | undefined
  records: ReadonlyMap<string, InstanceRecord>
  syncRole(): PeerSyncRole
  kernel(): KernelCounters | undefined
  refresh(): Promise<void>
  drain(id: string, on: boolean): Promise<void>
  weight(id: string, w: number | null): Promise<void>
  release(instance: string, on: boolean): void
}

const DEFAULT_FALL = 3

export function peerHooks(d: DirectorAccess): PeerSideHooks {
  return {
    events: d.events,
    refresh: () => d.refresh(),
    async apply(kind, target, v: OpValue) {
      if (kind === 'release') return d.release(target, v === true)
      if (!d.book.get(target)) return // a server this node's config does not have: kept, not applied
      if (kind === 'drain') await d.drain(target, v === true)
      else await d.weight(target, typeof v === 'number' ? v : null)
    },
    snapshot() {
      const c = d.config()
      const health: Record<string, PeerHealth> = {}
      const conns: Record<string, number> = {}
      const kernel = d.kernel()
      for (const s of c.virtual_services) {
        for (const rs of s.real_servers) {
          const id = serverId(s.name, rs)
          const h = d.health(id)
          health[id] = !h ? 'unchecked' : h.up ? 'up' : 'down'
        }
        const k = kernel?.get(serviceId(serviceKey(s)))
        if (k) {
          let n = 0
          for (const dc of k.dests.values()) n += dc.activeConns + dc.inactiveConns
          conns[s.name] = n
        }
      }
      const instances: Record<string, PeerInstance> = {}
      for (const i of c.vrrp.instances) {
        const r = d.records.get(i.name)
        if (!r) continue
        instances[i.name] = {
          state: r.state,
          priority: r.priority,
          effectivePriority: r.released ? 0 : r.priority,
          advertMs: i.advert_interval,
          ...(i.unicast?.source ? { address: formatAddr(i.unicast.source) } : {}),
        }
      }
      return { health, instances, sync: d.syncRole(), conns }
    },
    disagreeAfterMs(id: string): number {
      const c = d.config()
      const slash = id.indexOf('/')
      const s = c.virtual_services.find((x) => x.name === id.slice(0, slash))
      const rs = s?.real_servers.find((r) => serverId(s.name, r) === id)
      const check = rs?.checks[0]
      if (!check) return 0
      return (check.fall ?? DEFAULT_FALL) * check.interval
    },
  }
}
