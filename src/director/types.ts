// The seam between the director and the control API: the status the API reports, and the
// DirectorView / DirectorControl the director implements (src/api re-exports these; a test may pass a fake).
import type { EventBus, VrrpState } from '../events.js'
import type { Addr } from '../net/addr.js'
import type { DoctorReport } from './doctor.js'

/** Kernel counters of a service or real server (IPVS stats64), as JSON numbers (exact below 2^53). */
export interface KernelStats {
  conns: number
  inPkts: number
  outPkts: number
  inBytes: number
  outBytes: number
}

export interface InstanceStatus {
  name: string
  interface: string
  vrid: number
  version: 2 | 3
  state: VrrpState
  /** Configured priority (255 = address owner). */
  priority: number
  /** After tracking and an operator release (0 while released). */
  effectivePriority: number
  /** An operator released mastership (POST …/release) and has not resumed it. */
  released: boolean
  vips: string[]
  lastTransition?: { from: VrrpState; to: VrrpState; why: string; at: number }
  /** The last advert accepted from another router (as BACKUP: the master), as of the last refresh. */
  lastAdvert?: { from: string; priority: number; advertMs: number; at: number }
  counters?: {
    advertsSent: number
    advertsReceived: number
    /** Received packets discarded, by reason (docs/vrrp.md). */
    drops: Record<string, number>
    lateAdverts: number
    transitions: number
    /** Lower-priority adverts this master answered, and those the rate limit let pass unanswered. */
    lowerPrioAnswered?: number
    lowerPrioSuppressed?: number
  }
}

export type Health = 'up' | 'down' | 'unchecked'

export interface ServerStatus {
  /** address:port, IPv6 in brackets: 10.0.0.7:80, [2001:db8::7]:80. */
  server: string
  forwarding: 'dr' | 'nat' | 'tun'
  health: Health
  /** Wall-clock ms of the last health transition. */
  healthSince?: number
  lastCheck?: { ok: boolean; ms: number; at: number; detail?: string }
  weight: {
    configured: number
    /** The weight in the kernel: 0 when down or drained, the operator's override, a slow-start ramp. */
    effective: number
    /** Set by POST …/weight; absent when none. */
    operator?: number
  }
  drained: boolean
  /** The peer director's health of this server, while the peer channel is up (docs/peer.md). */
  peerHealth?: Health
  /** Absent when the kernel table has not been read (or the server is not in it). */
  kernel?: KernelStats & { activeConns: number; inactiveConns: number; persistentConns: number }
}

export interface ServiceStatus {
  name: string
  /** The IPVS key: tcp/10.0.0.3/80, fwmark/4/7. */
  key: string
  protocol?: 'tcp' | 'udp' | 'sctp'
  /** address:port of the virtual service, or fwmark:<n>. */
  address: string
  scheduler: string
  /** ipvsadm-style flags: persistent, sh-fallback, sh-port, ops. */
  flags: string[]
  persistenceSec?: number
  forwarding: 'dr' | 'nat' | 'tun'
  /** The VRRP instance whose mastership this service follows, if any. */
  follow?: string
  quorum: { up: boolean; alive: number; required: number }
  /** Whether lvsd has this service in the kernel now (a following service is only there on the master). */
  active: boolean
  kernel?: KernelStats
  servers: ServerStatus[]
}

export interface ConfigInfo {
  /** Path of the running configuration file. */
  source: string
  /** sha256 (hex) of its bytes. */
  hash: string
  /** Wall-clock ms when it was loaded. */
  loadedAt: number
}

export interface Status {
  node: string
  version: string
  pid: number
  /** Wall-clock ms. */
  startedAt: number
  config: ConfigInfo
  instances: InstanceStatus[]
  services: ServiceStatus[]
  /** The peer channel and what it knows of the other director (absent without `peer:` in the config). */
  peer?: PeerStatus
}

/** The other director as seen over the peer channel (docs/peer.md). */
export interface PeerStatus {
  address: string
  port: number
  /** up: a valid message heard within peer.dead_after; down: not since; never: none yet. */
  channel: 'up' | 'down' | 'never'
  /** The peer's node name and lvsd version, as last heard. */
  node?: string
  version?: string
  /** Wall-clock ms of the last valid message. */
  lastHeard?: number
  /** Round trip of the last answered message, ms. */
  rttMs?: number
  sent: number
  received: number
  /** Datagrams dropped, by reason: auth, malformed, replay, stale, reflected, type. */
  drops: Record<string, number>
  sendErrors: number
  /** Config fingerprints that differ (service:NAME, instance:NAME, sync). */
  drift: { key: string; kind: 'differs' | 'only-here' | 'only-peer' }[]
  /** Per VRRP instance: the state on each side and the master (this node or the peer). */
  instances: {
    name: string
    here?: string
    peer?: string
    master?: { node: string; address?: string; priority: number; advertMs: number; lastHeard: number }
  }[]
  /** The kernel sync daemon's role on each side. */
  sync: { here: string; peer?: string }
  /** Connections (active + inactive) per service on each side; lagging: the conns alarm is on. */
  conns: { service: string; here?: number; peer?: number; lagging: boolean }[]
  /** Servers whose health differs between the two views now; reported: for longer than fall × interval. */
  healthDisagree: { server: string; here: string; peer: string; reported: boolean }[]
  /** The replicated operator state (docs/peer.md §Conflicts). */
  operator: Record<string, { v: boolean | number | null; ver: number; node: string }>
}

export interface ReloadResult {
  ok: boolean
  config: ConfigInfo
  errors?: { path: string; message: string; line?: number; col?: number }[]
  changes: { added: string[]; removed: string[]; changed: string[] }
}

/** A real server as the API names it: the service's name and the server's address and port. */
export interface ServerRef {
  service: string
  addr: Addr
  port: number
}

/** What the API reads. */
export interface DirectorView {
  getStatus(): Status
  getConfig(): ConfigInfo
  readonly events: EventBus
  /**
   * Brings the counters getStatus reports up to date (kernel stats, VRRP worker counters). The API
   * awaits it before a status or a scrape; a director without live counters may leave it out.
   */
  refresh?(): Promise<void>
  /**
   * Probes the real servers of the configured services (all, or one by name) and reports what is
   * wrong with each (docs/realserver.md). A director without probes (the test fake) leaves it out.
   */
  doctor?(service?: string): Promise<DoctorReport>
  /** The last doctor run over every service (for the metrics). */
  readonly lastDoctor?: DoctorReport | undefined
  /** The IPVS drift loop's timing (for the metrics); undefined while lvsd does not program IPVS. */
  readonly drift?: { readonly lastPassMs: number | undefined; readonly effectiveIntervalMs: number } | undefined
  /** The health scheduler's counters (for the metrics); undefined while no real server has checks. */
  readonly checks?: CheckCounters | undefined
}

/** Whether checks keep their cadence: a loaded director starts them late or skips their slots. */
export interface CheckCounters {
  readonly completed: number
  readonly timeouts: number
  /** Started more than 100 ms after their slot (the concurrency limit or the event loop held them). */
  readonly late: number
  /** Slots skipped because the previous run of that check had not finished. */
  readonly missed: number
  /** Checks running now, and waiting for a concurrency slot. */
  readonly running: number
  readonly queued: number
  /** Checks whose last run took half their timeout or more (they wait in the slow lanes). */
  readonly slow: number
}

/**
 * What the API asks the director to do. Each method throws LvsdError with LVSD_API_UNKNOWN_SERVICE,
 * LVSD_API_UNKNOWN_SERVER or LVSD_API_UNKNOWN_INSTANCE (404), LVSD_API_BAD_REQUEST (400) or
 * LVSD_API_CONFLICT (409); anything else is a 500. Operator overrides (drain, weight, release) are
 * runtime state: they survive a reload for servers and instances that still exist, not a restart.
 * The API publishes operator.action for every call; the director publishes the other events.
 */
export interface DirectorControl {
  /** Re-reads the configuration; an invalid file is { ok: false, errors } and changes nothing. */
  reload(): Promise<ReloadResult>
  /** Weight 0 in the kernel (existing connections go on) until undrain. Idempotent. */
  drain(ref: ServerRef): Promise<ServerStatus>
  undrain(ref: ServerRef): Promise<ServerStatus>
  /** An operator weight (0–65535) that replaces the configured one; null removes the override. */
  setWeight(ref: ServerRef, weight: number | null): Promise<ServerStatus>
  /** Gives up mastership (effective priority 0, a backup takes over) and stays backup until resume. */
  release(instance: string): Promise<InstanceStatus>
  resume(instance: string): Promise<InstanceStatus>
}

export type { DoctorReport } from './doctor.js'
export type Director = DirectorView & DirectorControl
