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
