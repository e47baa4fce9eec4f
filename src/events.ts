// The one table of events lvsd emits, with typed payloads, and the bus they travel on: the API's event
// stream, /metrics and the logs all subscribe here (docs/api.md lists every name; a test keeps them in step).
import { channel } from 'node:diagnostics_channel'

export type VrrpState = 'INIT' | 'BACKUP' | 'MASTER' | 'FAULT'

/** Why the IPVS table was touched: the config said so, the kernel drifted, a check changed a weight, or an operator did. */
export type IpvsCause = 'config' | 'drift' | 'health' | 'operator'

export type DaemonState = 'starting' | 'ready' | 'reloading' | 'stopping'

export type OperatorAction = 'drain' | 'undrain' | 'weight' | 'release' | 'resume' | 'reload'

/** An error as data: a stable code (src/errors.ts) and the text for people. */
export interface EventError {
  code: string
  message: string
}

/**
 * Payloads are plain JSON (addresses as text, times as wall-clock ms since the epoch), so an event can
 * be written to the stream, a log line or a worker message unchanged.
 */
export interface EventPayloads {
  'daemon.state': { state: DaemonState; reason?: string }
  'vrrp.transition': {
    instance: string
    from: VrrpState
    to: VrrpState
    /** The state machine's reason (docs/vrrp.md): master_down, priority_zero, preempt, higher_priority, … */
    why: string
    /** Wall-clock ms of the transition as the VRRP worker saw it. */
    at: number
    /** Effective priority at the transition. */
    priority: number
  }
  'vrrp.priority': { instance: string; configured: number; effective: number; source: string }
  'vrrp.advert_late': { instance: string; lateMs: number }
  'vrrp.drop': { instance: string; reason: string; from?: string }
  'health.result': {
    service: string
    /** address:port ([v6]:port) of the real server. */
    server: string
    check: string
    ok: boolean
    ms: number
    /** The checker's failure code (timeout, refused, status, …) when !ok. */
    code?: string
    detail?: string
  }
  'health.transition': {
    service: string
    server: string
    up: boolean
    /** The weight the server now gets from health (0 when down). */
    weight: number
    reason: string
    latencyMs: number
  }
  'quorum.change': { service: string; up: boolean; alive: number; required: number }
  'ipvs.op': {
    op: string
    /** The service key, and `/ server` for a destination op (e.g. tcp/10.0.0.3/80 10.0.0.7:80). */
    target: string
    ok: boolean
    error?: EventError
    ms: number
    cause: IpvsCause
  }
  'ipvs.drift': {
    target: string
    /** missing: lvsd's entry vanished; unexpected: an entry appeared in an owned service; changed: settings differ. */
    kind: 'missing' | 'unexpected' | 'changed'
    repaired: boolean
  }
  'config.reload': {
    ok: boolean
    source: string
    /** sha256 of the file that is now running (the old one when !ok). */
    hash: string
    errors?: { path: string; message: string; line?: number; col?: number }[]
    /** Entity ids, e.g. service:web, instance:vi_1, server:web/10.0.0.7:80. */
    changes: { added: string[]; removed: string[]; changed: string[] }
    ms: number
  }
  'program.failed': {
    /** What the program is for: a notify program, a track script or a quorum_up/quorum_down program. */
    role: 'notify' | 'track' | 'quorum'
    /** The instance, sync group, script or service it belongs to. */
    owner: string
    program: string
    /** exit: non-zero status; signal: killed; timeout: killed at its timeout; spawn: could not start (EMFILE, ENOENT, …). */
    reason: 'exit' | 'signal' | 'timeout' | 'spawn'
    detail: string
  }
  'operator.action': {
    action: OperatorAction
    target: string
    ok: boolean
    params?: Record<string, unknown>
    error?: EventError
    /** Who asked, from the connection's SO_PEERCRED (absent when the kernel gave none). */
    peer?: { pid: number; uid: number; gid: number }
  }
  'peer.channel': {
    /** up: a valid message was heard; down: none for peer.dead_after. */
    state: 'up' | 'down'
    /** The peer's node name (as last heard) and address. */
    peer: string
    address: string
  }
  'peer.drop': {
    /** auth, malformed, replay, stale, reflected, type (docs/peer.md); at most once per source and reason. */
    reason: string
    source: string
    detail?: string
  }
  'peer.operator': {
    /** The replicated action: drain:SERVICE/SERVER, weight:SERVICE/SERVER, release:INSTANCE@NODE. */
    key: string
    value: boolean | number | null
    /** The node that took the action, and its version (docs/peer.md §Conflicts). */
    node: string
    version: number
  }
  'peer.drift': {
    peer: string
    /** What differs (service:NAME, instance:NAME, sync) and how; empty when the configs agree again. */
    differs: { key: string; kind: 'differs' | 'only-here' | 'only-peer' }[]
  }
  'peer.health': {
    service: string
    server: string
    here: string
    peer: string
    /** true once the views have differed longer than fall × interval; false when they agree again. */
    disagree: boolean
  }
  'peer.conns': {
    service: string
    /** Connections in this node's (the backup's) kernel, and in the master's. */
    here: number
    master: number
    /** true once the backup has held too few for peer.conns_after; false when it caught up. */
    lagging: boolean
  }
}

export type EventName = keyof EventPayloads

/** Every event, with one line of meaning. The keys are a released interface: never renamed or reused. */
export const EVENTS: { readonly [K in EventName]: string } = {
  'daemon.state': 'the daemon started, became ready, began a reload or began stopping',
  'vrrp.transition': 'a VRRP instance changed state (with the reason)',
  'vrrp.priority': 'the effective priority of an instance changed (a tracked interface, script or file)',
  'vrrp.advert_late': 'an advert went out more than half an interval after its deadline',
  'vrrp.drop': 'a received VRRP packet was discarded (with the reason)',
  'health.result': 'one check of one real server finished',
  'health.transition': 'a real server went up or down',
  'quorum.change': 'a service gained or lost quorum',
  'ipvs.op': 'one IPVS command was applied to the kernel',
  'ipvs.drift': 'the kernel table differed from what lvsd programmed',
  'config.reload': 'a configuration reload finished (applied or refused)',
  'program.failed': 'a notify, track or quorum program failed, timed out or could not be started',
  'operator.action': 'an operator acted through the API (drain, weight, release, reload, …)',
  'peer.channel': 'the peer channel came up or went down',
  'peer.drop': 'a datagram to the peer channel was dropped (first per source and reason)',
  'peer.operator': 'an operator action taken on the peer was applied here',
  'peer.drift': 'the configs of the pair started or stopped differing',
  'peer.health': 'the two directors’ health views of a server started or stopped disagreeing',
  'peer.conns': 'the backup started or stopped holding far fewer connections than the master',
}

export const EVENT_NAMES = Object.keys(EVENTS) as EventName[]

export function isEventName(s: string): s is EventName {
  return Object.hasOwn(EVENTS, s)
}

/** An event as published: a sequence number (per bus, from 1), a wall-clock time and its payload. */
export interface LvsdEvent<K extends EventName = EventName> {
  seq: number
  at: number
  name: K
  data: EventPayloads[K]
}

/** Any event, narrowed by its name (`if (e.name === 'vrrp.transition') e.data.why`). */
export type AnyEvent = { [K in EventName]: LvsdEvent<K> }[EventName]

export interface EventBusOptions {
  /** Recent events kept for replay (the API's stream starts with them). Default 1000. */
  ring?: number
  /** Wall-clock ms (injected for tests). */
  now?: () => number
  /** A subscriber threw: the bus goes on delivering to the others. Default: a process warning. */
  onError?: (err: unknown, e: AnyEvent) => void
}

type Listener = (e: AnyEvent) => void

/**
 * Synchronous, in-order delivery. Each event is also published on node:diagnostics_channel as
 * `lvsd:<name>` (e.g. lvsd:vrrp.transition) for tracers outside lvsd's own code.
 */
export class EventBus {
  private readonly ring: (AnyEvent | undefined)[]
  private head = 0
  private count = 0
  private seq = 0
  private readonly all = new Set<Listener>()
  private readonly byName = new Map<EventName, Set<Listener>>()
  private readonly now: () => number
  private readonly onError: (err: unknown, e: AnyEvent) => void

  constructor(opts: EventBusOptions = {}) {
    const size = opts.ring ?? 1000
    if (!Number.isInteger(size) || size < 0) throw new RangeError('ring must be a non-negative integer')
    this.ring = new Array(size)
    this.now = opts.now ?? Date.now
    this.onError =
      opts.onError ??
      ((err, e) => process.emitWarning(`event subscriber for ${e.name} threw: ${String(err)}`, 'LvsdEventWarning'))
  }

  /** The sequence number of the last event published (0 before any). */
  get lastSeq(): number {
    return this.seq
  }

  publish<K extends EventName>(name: K, data: EventPayloads[K]): LvsdEvent<K> {
    const e = { seq: ++this.seq, at: this.now(), name, data } as LvsdEvent<K>
    const any = e as unknown as AnyEvent
    if (this.ring.length > 0) {
      this.ring[this.head] = any
      this.head = (this.head + 1) % this.ring.length
      if (this.count < this.ring.length) this.count++
    }
    // listeners added during delivery see the next event, not this one
    for (const fn of [...(this.byName.get(name) ?? []), ...this.all]) {
      try {
        fn(any)
      } catch (err) {
        this.onError(err, any)
      }
    }
    const ch = channel(`lvsd:${name}`)
    if (ch.hasSubscribers) ch.publish(e)
    return e
  }

  subscribe<K extends EventName>(name: K, fn: (e: LvsdEvent<K>) => void): () => void {
    let set = this.byName.get(name)
    if (!set) {
      set = new Set()
      this.byName.set(name, set)
    }
    const l = fn as unknown as Listener
    set.add(l)
    return () => set.delete(l)
  }

  subscribeAll(fn: (e: AnyEvent) => void): () => void {
    this.all.add(fn)
    return () => this.all.delete(fn)
  }

  /** Kept events with seq > after, oldest first. */
  recent(after = 0): AnyEvent[] {
    const out: AnyEvent[] = []
    const size = this.ring.length
    for (let i = 0; i < this.count; i++) {
      const e = this.ring[(this.head - this.count + i + size) % size]
      if (e && e.seq > after) out.push(e)
    }
    return out
  }
}
