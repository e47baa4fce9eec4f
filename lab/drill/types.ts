// What a drill records and concludes, as plain JSON-able data. Times are ms on the CLIENT's clock:
// the client's probes and the capture on its interface are the ground truth of what a user saw, and
// every fault and step is stamped on that clock too (the Vagrant backend converts from the host's).
import type { ClientEvent, Frame } from '../demo/events.js'

export type { ClientEvent, Frame }

export type BackendName = 'netns' | 'vm' | 'vagrant'

/** What a scenario does to the pair; a backend lists the ones it can do. */
export type FaultKind =
  | 'crash' // the master frozen (process or whole VM) and cut off
  | 'link' // the master's LAN link down
  | 'stop' // lvsd stopped cleanly (priority-0 advert)
  | 'reboot' // the master's machine restarted
  | 'partition' // VRRP between the directors dropped both ways
  | 'rs-death' // a real server's service stopped
  | 'reload' // configuration reloaded (a good file, then a bad one)
  | 'upgrade' // the package reinstalled on each director in turn
  | 'sync-block' // IPVS sync daemon traffic between the directors dropped

export type Probe = Extract<ClientEvent, { k: 'probe' }>
export type LongEvent = Exclude<ClientEvent, { k: 'probe' }>

/** One director as the drill saw it through its control API at a step. */
export interface DirectorView {
  node: string
  /** False when its API did not answer (frozen, stopped, rebooting). */
  reachable: boolean
  /** VRRP state of the instance the VIP belongs to. */
  state: string | null
  /** Cut off the LAN by the scenario itself: its own view of mastership does not count. */
  isolated: boolean
  /** Health of each real server (ADDRESS:PORT → up/down/unchecked) as this director sees it. */
  health: Record<string, string>
  configHash: string | null
}

export interface StepView {
  name: string
  t: number
  directors: DirectorView[]
  /** Reachable, not isolated directors reporting MASTER. */
  masters: string[]
  /** False where two masters are the expected outcome (the directors partitioned from each other). */
  expectOneMaster: boolean
  /** The director that should hold the VIP after this step. */
  expectMaster: string | null
  /** The client's neighbour entry for the VIP: the director its packets go to. */
  vipNeighbour: string | null
}

export interface Mark {
  t: number
  text: string
}

export interface Check {
  name: string
  ok: boolean
  detail: string
}

export interface Figures {
  /** Longest interval without an answered new connection around the fault (client's view). */
  outageMs: number | null
  /** The same after the restore (the master's return, preemption). */
  returnOutageMs: number | null
  /** New connections that failed after service came back, before the restore. */
  failedAfterRecovery: number
  /**
   * New connections that failed when the master returned (preemption): connections the backup
   * opened within the sync delay before it are unknown to the returning master, which resets them.
   * Reported, not judged: the cost of preemption (docs/drills.md), not a failure of the pair.
   */
  failedAtReturn: number
  /** Last advert of the failed master → first advert of the new one, on the client's wire. */
  takeoverMs: number | null
  /** First advert of the new master → its first gratuitous ARP for the VIP. */
  garpAfterAdvertMs: number | null
  probes: number
  failed: number
}

export interface ScenarioRun {
  scenario: string
  title: string
  cycle: number
  backend: BackendName
  startedAt: number
  endedAt: number
  /**
   * t: the fault began; doneAt: the backend confirmed it in place (for a partition: the old master's
   * side that silences it towards its peer); afterAdvert: the old master's advert the fault was
   * timed to follow (a partition), as the client's wire stamped it.
   */
  fault: { t: number; doneAt?: number; afterAdvert?: number; node: string; kind: FaultKind; how: string } | null
  restore: { t: number; how: string } | null
  /** Bounds this run is judged by (ms), with how each was derived. */
  bounds: {
    outageMs: number | null
    returnOutageMs: number | null
    why: string
    /** Set where failed requests are the expected effect (a real server died): the scenario judges them. */
    failuresExpected?: string
    /** Set where losing the long connection is the expected effect (its sync was blocked). */
    longLossExpected?: string
    /**
     * Set where the old master must say goodbye: its priority-0 advert on the client's wire, and the
     * new master's first advert within this many ms of it (Skew_Time, not Master_Down_Interval).
     */
    goodbyeTakeoverMs?: number
  }
  marks: Mark[]
  steps: StepView[]
  probes: Probe[]
  long: LongEvent[]
  frames: Frame[]
  /** The long-lived connection was established and synced to the backup before the fault. */
  longSynced: boolean
  /** How far the drill's stamps on the client's clock may be off (the Vagrant backend converts). */
  clockErrorMs: number
  figures: Figures
  checks: Check[]
  ok: boolean
  /** Why the run stopped short (a wait that timed out, a backend command that failed). */
  error: string | null
}

export interface DrillReport {
  backend: BackendName
  topology: string
  kernel: string
  /** Real IPVS carries the client's traffic (false on a host kernel without IPVS: VRRP only). */
  ipvs: boolean
  startedAt: number
  endedAt: number
  repeat: number
  runs: ScenarioRun[]
  /** Scenarios this backend cannot run, with why. */
  skipped: { scenario: string; why: string }[]
  ok: boolean
}
