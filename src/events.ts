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
  /**
   * Recent events kept for replay (the API's stream starts with them). Default 1000. Health results
   * are kept apart, as many again: at 10,000 checks a second they would push every transition out of
   * the replay within a tenth of a second.
   */
  ring?: number
  /** Wall-clock ms (injected for tests). */
  now?: () => number
  /** A subscriber threw: the bus goes on delivering to the others. Default: a process warning. */
  onError?: (err: unknown, e: AnyEvent) => void
}

type Listener = (e: AnyEvent) => void

/** The last `size` events of one kind, oldest first. */
class Ring {
  private readonly items: (AnyEvent | undefined)[]
  private head = 0
  private count = 0

  constructor(size: number) {
    this.items = new Array(size)
  }

  push(e: AnyEvent): void {
    const size = this.items.length
    if (size === 0) return
    this.items[this.head] = e
    this.head = (this.head + 1) % size
    if (this.count < size) this.count++
  }

  /** Kept events with seq > after, oldest first. */
  after(after: number): AnyEvent[] {
    const out: AnyEvent[] = []
    const size = this.items.length
    for (let i = 0; i < this.count; i++) {
      const e = this.items[(this.head - this.count + i + size) % size]
      if (e && e.seq > after) out.push(e)
    }
    return out
  }
}

/** The event that comes by the thousand a second (one per check). */
const HIGH_RATE: EventName = 'health.result'

/**
 * Synchronous, in-order delivery. Each event is also published on node:diagnostics_channel as
 * `lvsd:<name>` (e.g. lvsd:vrrp.transition) for tracers outside lvsd's own code.
 */
export class EventBus {
  private readonly ring: Ring
  private readonly results: Ring
  private seq = 0
  /**
   * Listeners in arrays replaced (never changed) on subscribe and unsubscribe: a delivery iterates
   * the array of its start, so a listener added meanwhile sees the next event, and publishing
   * copies nothing (it did, for every health result).
   */
  private all: readonly Listener[] = []
  private readonly byName = new Map<EventName, readonly Listener[]>()
  /** `lvsd:<name>` channels, looked up once per name. */
  private readonly channels = new Map<EventName, ReturnType<typeof channel>>()
  private readonly now: () => number
  private readonly onError: (err: unknown, e: AnyEvent) => void

  constructor(opts: EventBusOptions = {}) {
    const size = opts.ring ?? 1000
    if (!Number.isInteger(size) || size < 0) throw new RangeError('ring must be a non-negative integer')
    this.ring = new Ring(size)
    this.results = new Ring(size)
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
    ;(name === HIGH_RATE ? this.results : this.ring).push(any)
    this.deliver(this.byName.get(name), any)
    this.deliver(this.all, any)
    let ch = this.channels.get(name)
    if (!ch) {
      ch = channel(`lvsd:${name}`)
      this.channels.set(name, ch)
    }
    if (ch.hasSubscribers) ch.publish(e)
    return e
  }

  private deliver(list: readonly Listener[] | undefined, e: AnyEvent): void {
    if (!list) return
    for (const fn of list) {
      try {
        fn(e)
      } catch (err) {
        this.onError(err, e)
      }
    }
  }

  subscribe<K extends EventName>(name: K, fn: (e: LvsdEvent<K>) => void): () => void {
    const l = fn as unknown as Listener
    if ((this.byName.get(name) ?? []).includes(l)) return () => this.unsubscribe(name, l)
    this.byName.set(name, [...(this.byName.get(name) ?? []), l])
    return () => this.unsubscribe(name, l)
  }

  private unsubscribe(name: EventName, l: Listener): void {
    const left = (this.byName.get(name) ?? []).filter((x) => x !== l)
    if (left.length) this.byName.set(name, left)
    else this.byName.delete(name)
  }

  subscribeAll(fn: (e: AnyEvent) => void): () => void {
    if (!this.all.includes(fn)) this.all = [...this.all, fn]
    return () => {
      this.all = this.all.filter((x) => x !== fn)
    }
  }

  /** Kept events with seq > after, oldest first (state events and health results merged by seq). */
  recent(after = 0): AnyEvent[] {
    const a = this.ring.after(after)
    const b = this.results.after(after)
    if (b.length === 0) return a
    if (a.length === 0) return b
    const out: AnyEvent[] = []
    let i = 0
    let j = 0
    while (i < a.length || j < b.length) {
      const x = a[i]
      const y = b[j]
      if (y === undefined || (x !== undefined && x.seq < y.seq)) {
        out.push(x as AnyEvent)
        i++
      } else {
        out.push(y)
        j++
      }
    }
    return out
  }
}
