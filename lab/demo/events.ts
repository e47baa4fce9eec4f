// What the demo records, as plain JSON-able data: raw events from the client, the daemons' logs and
// the capture, and the structured result a test asserts on. Times are wall-clock ms (Date.now()).

export type ClientEvent =
  | { k: 'probe'; seq: number; t: number; ms: number; server: string | null; err: string | null }
  | { k: 'long'; ev: 'established'; t: number; port: number }
  | { k: 'long'; ev: 'reply'; t: number; server: string }
  | { k: 'long'; ev: 'error'; t: number; err: string }
  | { k: 'long'; ev: 'closed'; t: number }

/** A VRRP state change logged by one lvsd. */
export interface Transition {
  t: number
  node: string
  instance: string
  from: string
  to: string
  why: string
}

/**
 * A frame seen on the client's eth0 (kernel timestamps: the ground truth, which a CPU-starved
 * client process cannot delay): a VRRP advert, a gratuitous ARP, the client's SYN to the VIP
 * (its destination MAC says which director the client sends to) or a SYN-ACK from the VIP (its
 * source MAC is the real server's: direct routing on the wire).
 */
export interface Frame {
  t: number
  kind: 'advert' | 'garp' | 'syn' | 'synack'
  srcMac: string
  /** The node that owns srcMac, when it is one of ours. */
  from: string | null
  /** SYN only: the node that owns the destination MAC. */
  to?: string | null
  /** Adverts only. */
  priority: number | null
}

export interface DemoResult {
  ok: boolean
  /** Where the scenario ran: natively on the host, or inside the qemu VM (real IPVS). */
  where: 'host' | 'vm'
  kernel: string
  /** This run's namespace prefix (all of them are removed at the end). */
  prefix: string
  /** False for `--here` on a kernel without IPVS: lvsd ran VRRP only and no client was answered. */
  ipvs: boolean
  /** Why the scenario stopped short (null when it ran to the end). */
  failure: string | null
  startedAt: number
  probeIntervalMs: number
  transitions: Transition[]
  frames: Frame[]
  probes: Extract<ClientEvent, { k: 'probe' }>[]
  long: Exclude<ClientEvent, { k: 'probe' }>[]
  /** The initial master and when the others settled (BACKUP), both real servers answering. */
  settledAt: number | null
  master: string | null
  backup: string | null
  /** When the backup listed the long connection through the sync daemon. */
  longSyncedAt: number | null
  longPort: number | null
  /** t: the freeze and cut began; cutAt: the link was down (the ip process confirmed it). */
  kill: { t: number; cutAt: number; node: string; how: string } | null
  /** The client's neighbour entry for the VIP at the end. */
  vipNeighbour: { mac: string | null; node: string | null; state: string | null }
  /** `ipvsadm -Ln` per director while settled: the kernel's table, whoever programmed it. */
  listings: Record<string, string>
  /** `lvsctl -s <socket> status` per director while settled (absent where lvsd serves no API). */
  status: Record<string, string>
  /** The new master's `lvsctl status` and `/metrics` (the examples serve them on 127.0.0.1:9478) after the takeover. */
  after: { node: string; status: string | null; metrics: string | null } | null
  /** Daemon stderr tails, for diagnosis when something failed. */
  logs: Record<string, string>
}
