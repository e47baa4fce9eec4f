// The director's runtime view of real servers and services: health as the scheduler reported it,
// operator overrides, quorum, and the kernel's counters last read. Pure bookkeeping, no I/O.

import type { Config, RealServer, VirtualService } from '../config/types.js'
import type { ServerState } from '../health/state.js'
import { serverId } from './health-specs.js'
import type { ServerNow } from './ipvs-table.js'
import type { Health, ServerStatus } from './types.js'

export interface ServerRecord {
  readonly id: string
  /** Operator overrides: survive a reload while the server exists. */
  drained: boolean
  operatorWeight: number | undefined
  healthSince: number | undefined
  lastCheck: ServerStatus['lastCheck']
}

export class ServerBook {
  private readonly records = new Map<string, ServerRecord>()

  /** Keeps the records of servers still configured, adds new ones, forgets the rest. */
  sync(c: Config): void {
    const want = new Set<string>()
    for (const s of c.virtual_services)
      for (const rs of s.real_servers) {
        const id = serverId(s.name, rs)
        want.add(id)
        if (!this.records.has(id))
          this.records.set(id, {
            id,
            drained: false,
            operatorWeight: undefined,
            healthSince: undefined,
            lastCheck: undefined,
          })
      }
    for (const id of [...this.records.keys()]) if (!want.has(id)) this.records.delete(id)
  }

  get(id: string): ServerRecord | undefined {
    return this.records.get(id)
  }

  /** The weight health ramps towards: the operator's when set, else the configured one. */
  baseWeight(svc: VirtualService, rs: RealServer): number {
    return this.records.get(serverId(svc.name, rs))?.operatorWeight ?? rs.weight
  }

  /**
   * What the IPVS table needs of one server: a checked server as the health reducer has it (its
   * weight is already 0 while drained), an unchecked one always up at its base weight.
   */
  now(svc: VirtualService, rs: RealServer, health: ServerState | undefined): ServerNow {
    const r = this.records.get(serverId(svc.name, rs))
    if (health) return { up: health.up, weight: health.weight }
    return { up: true, weight: r?.drained ? 0 : this.baseWeight(svc, rs) }
  }

  healthOf(health: ServerState | undefined): Health {
    if (!health) return 'unchecked'
    return health.up ? 'up' : 'down'
  }
}
