// The typed messages between the main thread and the VRRP worker (MessagePort, structured clone):
// small plain objects only, so a message never carries a class instance or a function.

import type { WireError } from '../errors.js'
import type { Addr, Prefix } from '../net/addr.js'
import type { Role, Why } from './fsm.js'
import type { DropReason } from './validate.js'

/** One VIP as the runtime adds it: the prefix, and where it goes. */
export interface RuntimeVip {
  prefix: Prefix
  /** Interface to add it to (default: the instance's interface). */
  dev?: string
  /** IPv4 label, e.g. eth0:0. */
  label?: string
}

export interface AnnounceConfig {
  /** GARPs / NAs per burst on becoming master. */
  repeat: number
  /** Delay before the second burst (0 = none), ms. */
  delayMs: number
  /** Gap between the packets of one burst, ms. */
  intervalMs: number
  /** Period of refresh bursts while master (0 = off), ms. */
  refreshMs: number
  refreshRepeat: number
}

/** A tracked interface: down means a priority change by `weight`, or FAULT when weight is 0. */
export interface TrackedInterface {
  name: string
  weight: number
}

/** Everything the worker needs to run one instance; built from the config by src/director. */
export interface RuntimeInstance {
  name: string
  interface: string
  vrid: number
  version: 2 | 3
  family: 4 | 6
  /** Configured priority (255 for an address owner). */
  priority: number
  advertMs: number
  preempt: boolean
  preemptDelayMs: number
  accept: boolean
  vips: RuntimeVip[]
  /** Moved with mastership, never advertised. */
  excludedVips: RuntimeVip[]
  /** v2 authentication; absent = none. */
  auth?: { type: 0 | 1; password?: string }
  unicast?: { source?: Addr; peers: Addr[]; allowFrom: Prefix[]; ttl: number }
  /** Sources whose adverts are heard (multicast and unicast); empty = any. */
  acceptFrom?: Prefix[]
  /** Drop adverts from sources not on the interface (IPv4 subnet, IPv6 link-local). */
  strictSource?: boolean
  announce: AnnounceConfig
  trackInterfaces: TrackedInterface[]
  /** Send from a macvlan with the virtual MAC 00:00:5e:00:01:VRID (IPv4) or 00:00:5e:00:02:VRID (IPv6). */
  virtualMac?: boolean
  /** Split-brain options of the state machine (docs/vrrp.md); default on. */
  lowerPrioAdvert?: boolean
  /** At most one answer to lower-priority adverts per this many ms (default 1000). */
  lowerPrioAnswerMs?: number
  higherPrioAdvert?: boolean
}

/** Instances that move together: MASTER together, BACKUP together, FAULT together (sync.ts). */
export interface SyncGroup {
  name: string
  members: string[]
}

/** The last advert an instance accepted: on a backup, the master as the wire shows it. */
export interface HeardAdvert {
  from: string
  priority: number
  /** The advert interval the sender announces, ms. */
  advertMs: number
  /** Wall-clock ms of its arrival. */
  at: number
}

export interface Counters {
  /** Adverts accepted and handed to the state machine. */
  rx: number
  lastAdvert?: HeardAdvert
  tx: number
  /** Send failures (full queue, errors). */
  txErrors: number
  /** `peer`: not a unicast peer or not in accept_from; `source`: off the interface (strict_source). */
  /**
   * By reason: validate()'s, `peer` and `source` (advert-intake.ts), and `queue_full`: packets the
   * kernel dropped because one of the channel's receive queues was full (an upper bound, any VRID).
   */
  drops: Partial<Record<DropReason | 'peer' | 'source' | 'queue_full', number>>
  /** Adverts sent more than half an interval after their deadline. */
  lateAdverts: number
  maxLateMs: number
  garp: number
  na: number
  transitions: number
  /** Lower-priority adverts a master answered (advert + announce), and those it let pass (rate limit). */
  lowerPrioAnswered: number
  lowerPrioSuppressed: number
}

export type Down =
  | { type: 'start'; instances: RuntimeInstance[]; rtPriority: number; syncGroups?: SyncGroup[] }
  /** Sum of priority changes from tracked objects the main thread watches (scripts, files). */
  | { type: 'priority'; instance: string; source: string; delta: number }
  | { type: 'fault'; instance: string; source: string; on: boolean }
  /** preempt_on_quorum: a service the instance carries lost (on) or regained (off) quorum here. */
  | { type: 'preemptHold'; instance: string; on: boolean }
  /** Every source a (new) Tracker feeds: held values of other script/file sources are cleared. */
  | { type: 'tracked'; sources: TrackedSource[] }
  | { type: 'counters' }
  /** A reload: the full new list; the worker diffs it against the running one (reload.ts). */
  | { type: 'update'; id: number; instances: RuntimeInstance[]; syncGroups: SyncGroup[] }
  | { type: 'shutdown' }

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

export type Up =
  | { type: 'ready'; realtime: { ok: boolean; tid: number; priority: number; reason?: string } }
  | {
      type: 'transition'
      instance: string
      from: Role
      to: Role
      why: Why
      /** performance.timeOrigin + performance.now() of the worker: wall-clock ms with sub-ms precision. */
      at: number
      priority: number
    }
  | { type: 'counters'; counters: Record<string, Counters> }
  /** A dropped packet, at most once per instance, reason and source every DROP_EVENT_MS. */
  | { type: 'drop'; instance: string; reason: string; from?: string }
  | { type: 'late'; instance: string; lateMs: number }
  /** The effective priority changed because a tracked object (or the director) changed its delta. */
  | { type: 'priority'; instance: string; configured: number; effective: number; source: string }
  | { type: 'log'; level: LogLevel; msg: string; fields: Record<string, unknown> }
  | { type: 'error'; error: WireError }
  | { type: 'updated'; id: number; report?: UpdateReport; error?: WireError }
  | { type: 'stopped' }

export function emptyCounters(): Counters {
  return {
    rx: 0,
    tx: 0,
    txErrors: 0,
    drops: {},
    lateAdverts: 0,
    maxLateMs: 0,
    garp: 0,
    na: 0,
    transitions: 0,
    lowerPrioAnswered: 0,
    lowerPrioSuppressed: 0,
  }
}

/** What a reload did to the instances (reload.ts plans it). */
export interface UpdateReport {
  added: string[]
  removed: string[]
  changed: string[]
  unchanged: string[]
}

/** One input a Tracker feeds an instance (track.ts); reload.ts clears the ones no longer fed. */
export interface TrackedSource {
  instance: string
  /** `script:<name>` or `file:<path>` (track.ts). */
  source: string
  kind: 'fault' | 'delta'
}

/** A flood of bad packets is one `vrrp.drop` event per reason and source this often, not one per packet. */
export const DROP_EVENT_MS = 10_000
