// Quorum of a virtual service with hysteresis (keepalived's quorum / hysteresis): the total weight of
// live servers must stay at or above `quorum − hysteresis` to keep it, and reach `quorum + hysteresis`
// to regain it, so a server flapping at the boundary does not flip the service back and forth.

export interface QuorumRule {
  quorum: number
  hysteresis: number
}

/** The quorum state after `alive` (total weight of live servers) was observed, given the state before. */
export function nextQuorum(wasUp: boolean | undefined, alive: number, r: QuorumRule): boolean {
  if (wasUp === undefined) return alive >= r.quorum
  if (wasUp) return alive >= r.quorum - r.hysteresis
  return alive >= r.quorum + r.hysteresis
}

export interface QuorumChange {
  service: string
  up: boolean
  alive: number
  required: number
}

/** Each service's quorum state across passes; the caller publishes the changes and runs programs. */
export class QuorumKeeper {
  private readonly states = new Map<string, boolean>()

  get view(): ReadonlyMap<string, boolean> {
    return this.states
  }

  /**
   * Observes every service's live weight now; returns the changes to report (a service's first
   * observation is one only when it starts without quorum).
   */
  update(services: readonly ({ name: string } & QuorumRule)[], alive: (name: string) => number): QuorumChange[] {
    const out: QuorumChange[] = []
    for (const s of services) {
      const now = alive(s.name)
      const was = this.states.get(s.name)
      const up = nextQuorum(was, now, s)
      if (was === up) continue
      this.states.set(s.name, up)
      if (was !== undefined || !up) out.push({ service: s.name, up, alive: now, required: s.quorum })
    }
    return out
  }

  /** Forgets services a reload removed. */
  keepOnly(names: ReadonlySet<string>): void {
    for (const name of [...this.states.keys()]) if (!names.has(name)) this.states.delete(name)
  }
}
