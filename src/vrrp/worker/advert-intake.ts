// What an instance hears on its channel: each datagram validated (validate.ts, RFC 5798 §7.1), then
// held against the configured peers and sources. A drop is counted by reason, reported once per
// reason and source every DROP_EVENT_MS and logged once per reason; a flood is mostly drops, so
// a drop allocates nothing beyond what validation needs.
import { type Addr, formatAddr, isLinkLocal, prefixContains, sameAddr } from '../../net/addr.js'
import type { ReceivedDatagram as SysReceived } from '../../sys/types.js'
import type * as fsm from '../fsm.js'
import { type Counters, DROP_EVENT_MS, type LogLevel, type RuntimeInstance, type Up } from '../messages.js'
import { intervalCs, type LocalInstance, validate } from '../validate.js'
import type { NetState } from './netstate.js'
import { arrival, type Channel } from './sockets.js'

/** What the intake reads of the instance's world (InstanceDeps), looked up at each use. */
export interface IntakeHost {
  net: Pick<NetState, 'addresses'> & Partial<Pick<NetState, 'generation'>>
  channel: Pick<Channel, 'group'>
  ifindex: number
  /** The instance's own interface when `ifindex` is a macvlan on it. */
  parentIfindex?: number
  now(): number
  wall(): number
  post(up: Up): void
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void
}

export interface IntakeDeps {
  host: IntakeHost
  cfg(): RuntimeInstance
  /** The instance's own view of itself for validate(); the instance keeps it current on reload. */
  local: LocalInstance
  counters: Counters
}

export type AdvertEvent = Extract<fsm.Event, { kind: 'advert' }>

const ipv4Number = (a: number | Addr): number =>
  typeof a === 'number'
    ? a
    : (((a.bytes[0] ?? 0) << 24) | ((a.bytes[1] ?? 0) << 16) | ((a.bytes[2] ?? 0) << 8) | (a.bytes[3] ?? 0)) >>> 0
const formatIpv4Number = (n: number): string => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`

export class AdvertIntake {
  /** When a drop event was last posted, by reason and source (an IPv4 source as its 32-bit number). */
  private readonly dropEvents = new Map<string, Map<number | string, number>>()
  private dropSources = 0
  /** The drop reasons already logged once. */
  private readonly loggedDrops = new Set<string>()
  private readonly warned = new Set<string>()
  /** The sender of the last accepted advert, whose text counters.lastAdvert holds. */
  private lastFrom: Addr | undefined
  /** Why the last datagram read() refused was dropped. */
  lastDrop: keyof Counters['drops'] | undefined
  /** The host's own addresses (the `own` drop) and the NetState generation they were read at. */
  private ownCache: { generation: number | undefined; addrs: Addr[] } = { generation: undefined, addrs: [] }

  constructor(private readonly d: IntakeDeps) {}

  /**
   * The advert `m` carries as the state machine's event, or undefined: dropped (and counted), or
   * not ours. `heardWall`: when it reached the host, wall-clock ms (the status's last advert).
   * `copies`: how many identical datagrams `m` stands for (repeats read in C++), each counted.
   */
  read(m: SysReceived, heardWall = this.d.host.wall(), copies = 1): AdvertEvent | undefined {
    const rx = arrival(this.d.cfg().family, m)
    if (!rx) {
      this.drop('family', undefined, copies)
      return undefined
    }
    const group = this.d.host.channel.group
    this.d.local.ownAddrs = this.ownAddrs()
    const v = validate(m.data, rx, this.d.local)
    if (!v.ok) {
      // the sender as far as the packet says (IPv4: its header, if there is one; IPv6: the socket)
      this.drop(v.reason, rx.family === 6 ? rx.src : m.data.length >= 20 ? m.data.readUInt32BE(12) : undefined, copies)
      return undefined
    }
    if (group && !sameAddr(v.dst, group)) return undefined // a unicast advert reaching the multicast socket
    const u = this.d.cfg().unicast
    if (u && !u.peers.some((p) => sameAddr(p, v.src)) && !u.allowFrom.some((n) => prefixContains(n, v.src))) {
      this.drop('peer', v.src, copies)
      return undefined
    }
    const only = this.d.cfg().acceptFrom
    if (only && only.length > 0 && !only.some((n) => prefixContains(n, v.src))) {
      this.drop('peer', v.src, copies)
      return undefined
    }
    if (this.d.cfg().strictSource && !this.onLink(v.src)) {
      this.drop('source', v.src, copies)
      return undefined
    }
    if (v.addrsMismatch) this.warnOnce('addrs', 'the owner advertises other VIPs than ours', { src: formatAddr(v.src) })
    if (v.ownerConflict)
      this.warnOnce('owner', 'another address owner advertises this VRID', { src: formatAddr(v.src) })
    this.d.counters.rx += copies
    // who is master is a fact of the wire: the peer channel may be down while its adverts arrive
    const last = this.d.counters.lastAdvert
    this.d.counters.lastAdvert = {
      // a flood of adverts from one sender formats its address once
      from: last && this.lastFrom && sameAddr(this.lastFrom, v.src) ? last.from : formatAddr(v.src),
      priority: v.advert.priority,
      advertMs: intervalCs(v.advert) * 10,
      at: heardWall,
    }
    this.lastFrom = v.src
    return { kind: 'advert', src: v.src, priority: v.advert.priority, intervalCs: intervalCs(v.advert) }
  }

  /** The host's addresses on the instance's interfaces (and a macvlan's parent), read again only after a change. */
  private ownAddrs(): Addr[] {
    const generation = this.d.host.net.generation
    if (generation !== undefined && generation === this.ownCache.generation) return this.ownCache.addrs
    const own = this.d.host.net.addresses(this.d.host.ifindex, this.d.cfg().family)
    if (this.d.host.parentIfindex !== undefined)
      own.push(...this.d.host.net.addresses(this.d.host.parentIfindex, this.d.cfg().family))
    this.ownCache = { generation, addrs: own.map((a) => a.address) }
    return this.ownCache.addrs
  }

  /** RFC 5798 §5.1.2.1: an IPv6 advert comes from a link-local address; IPv4 from the interface's subnets. */
  private onLink(src: Addr): boolean {
    if (src.family === 6) return isLinkLocal(src)
    return this.d.host.net
      .addresses(this.d.host.parentIfindex ?? this.d.host.ifindex, 4)
      .some((a) => prefixContains({ addr: a.local ?? a.address, len: a.prefixLen }, src))
  }

  /** `n` packets the kernel dropped from the channel's full queues, reported like any drop. */
  queueFull(n: number): void {
    this.drop('queue_full', undefined, n)
  }

  /**
   * Counts `n` dropped adverts; `from` is the sender, an IPv4 one as the 32-bit number of its
   * header. Nothing here allocates for a flood's repeats: no key string, no address copy.
   */
  private drop(reason: keyof Counters['drops'], from?: Addr | number, n = 1): void {
    this.lastDrop = reason
    this.d.counters.drops[reason] = (this.d.counters.drops[reason] ?? 0) + n
    // one event per reason and source per DROP_EVENT_MS: a flood is counted, not streamed
    const source =
      from === undefined ? '' : typeof from === 'number' || from.family === 4 ? ipv4Number(from) : formatAddr(from)
    const now = this.d.host.now()
    const last = this.dropEvents.get(reason)?.get(source)
    if (last === undefined || now - last >= DROP_EVENT_MS) {
      if (last === undefined) {
        // spoofed sources must not grow memory
        if (this.dropSources >= 1024) {
          this.dropEvents.clear()
          this.dropSources = 0
        }
        this.dropSources++
      }
      let bySource = this.dropEvents.get(reason)
      if (!bySource) {
        bySource = new Map()
        this.dropEvents.set(reason, bySource)
      }
      bySource.set(source, now)
      const text = from === undefined ? undefined : typeof from === 'number' ? formatIpv4Number(from) : formatAddr(from)
      this.d.host.post({ type: 'drop', instance: this.d.cfg().name, reason, ...(text ? { from: text } : {}) })
    }
    if (reason !== 'vrid' && !this.loggedDrops.has(reason)) {
      this.loggedDrops.add(reason)
      this.d.host.log('warn', 'advert dropped', { vrrp: this.d.cfg().name, reason })
    }
  }

  private warnOnce(key: string, msg: string, fields: Record<string, unknown>): void {
    if (this.warned.has(key)) return
    this.warned.add(key)
    this.d.host.log('warn', msg, { vrrp: this.d.cfg().name, ...fields })
  }
}
