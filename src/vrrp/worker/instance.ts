// One VRRP instance at run time: the pure state machine (fsm.ts) bound to a socket, host timers at
// absolute monotonic deadlines, the VIPs (rtnetlink) and GARP/NA bursts. Runs inside the worker.
import { isDeepStrictEqual } from 'node:util'
import type { Timers } from '../../clock.js'
import { type Addr, addrFromBytes, formatAddr, prefixContains, sameAddr } from '../../net/addr.js'
import type { ReceivedDatagram as SysReceived } from '../../sys/types.js'
import * as fsm from '../fsm.js'
import {
  type Counters,
  DROP_EVENT_MS,
  emptyCounters,
  type LogLevel,
  type RuntimeInstance,
  type RuntimeVip,
  type Up,
} from '../messages.js'
import { encode, passwordAuthData } from '../packet.js'
import { intervalOnWire } from '../timers.js'
import { intervalCs, type LocalInstance, validate } from '../validate.js'
import { BurstSchedule } from './burst.js'
import type { NetState } from './netstate.js'
import { type Announcer, arrival, type Channel } from './sockets.js'

/** What an instance reads and changes of its namespace (NetState, or a fake in the unit tier). */
export type InstanceNet = Pick<NetState, 'link' | 'linkByName' | 'addresses' | 'has' | 'addVip' | 'deleteVip'>

export interface InstanceDeps {
  /** Monotonic ms (performance.now()). */
  now(): number
  /** Wall-clock ms for reports (performance.timeOrigin + now). */
  wall(): number
  net: InstanceNet
  announcer: Pick<Announcer, 'garp' | 'na'>
  channel: Pick<Channel, 'group' | 'send'>
  /** Where adverts, VIPs and GARPs go: the instance's interface, or its virtual-MAC macvlan. */
  ifindex: number
  /** The instance's own interface when `ifindex` is a macvlan on it. */
  parentIfindex?: number
  primary: Addr
  timers: Timers
  /** Sync groups: whether a partner holds this member in BACKUP when Master_Down fires (sync.ts). */
  syncHold?(): boolean
  post(up: Up): void
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void
}

const TIMERS: readonly fsm.Timer[] = ['adver', 'masterDown', 'preemptDelay']

const vipsOf = (c: RuntimeInstance): RuntimeVip[] => [...c.vips, ...c.excludedVips]

/** What receive validation compares an advert with (validate.ts). */
function localOf(cfg: RuntimeInstance): LocalInstance {
  return {
    vrid: cfg.vrid,
    version: cfg.version,
    family: cfg.family,
    priority: cfg.priority,
    advertMs: cfg.advertMs,
    vips: cfg.vips.map((v) => v.prefix.addr),
    ownAddrs: [],
    // unicast with a TTL below 255 crosses routers: the listed peers, not the TTL, say who may speak
    ttlCheck: !(cfg.unicast && cfg.unicast.ttl < 255),
    ...(cfg.auth ? { auth: cfg.auth } : {}),
  }
}
/** A host timer that fires this little before its deadline counts as on time (libuv ms clock). */
const EARLY_SLACK_MS = 1

export class Instance {
  private config: RuntimeInstance
  private state: fsm.FsmState
  readonly counters: Counters = emptyCounters()
  /** When a drop event was last posted, by reason and source. */
  private readonly dropEvents = new Map<string, number>()
  private readonly host = new Map<fsm.Timer, { at: number; handle: unknown }>()
  /** The adverts last encoded, one per target, and what they were encoded from (sendAdvert). */
  private adverts: { cfg: RuntimeInstance; primary: Addr; priority: number; packets: Buffer[] } | undefined
  private bursts: BurstSchedule
  private readonly local: LocalInstance
  private readonly owner: boolean
  /** VIP changes run one after another, in the order the machine asked for them. */
  private vipChain: Promise<void> = Promise.resolve()
  private readonly deltas = new Map<string, number>()
  private readonly faults = new Map<string, boolean>()
  private readonly warned = new Set<string>()
  private stopped = false

  constructor(
    cfg: RuntimeInstance,
    private readonly d: InstanceDeps,
  ) {
    this.config = cfg
    this.owner = cfg.priority === 255
    this.state = fsm.create(this.fsmConfig(cfg))
    this.local = localOf(cfg)
    this.bursts = new BurstSchedule(cfg.announce, () => this.announceRound(), d.timers)
  }

  get cfg(): RuntimeInstance {
    return this.config
  }

  get role(): fsm.Role {
    return this.state.role
  }

  /** Master_Down_Timer fired while a sync group partner held it back (see fsm.ts). */
  get wantsMaster(): boolean {
    return this.state.wantsMaster
  }

  /**
   * A reload changed tunables only (reload.ts decided so: same interface, VRID, version, family,
   * unicast, ownership). The state is kept; a master advertises the new settings at once and adds
   * or removes only the VIPs that differ. Tracked interfaces are the worker's (it owns link state).
   */
  reconfigure(cfg: RuntimeInstance): void {
    if (this.stopped) return
    const before = this.config
    this.config = cfg
    Object.assign(this.local, localOf(cfg))
    if (!this.local.auth) delete this.local.auth
    if (!isDeepStrictEqual(before.announce, cfg.announce)) {
      const refreshing = this.state.role === 'MASTER'
      this.bursts.stop()
      this.bursts = new BurstSchedule(cfg.announce, () => this.announceRound(), this.d.timers)
      if (refreshing) this.bursts.refreshOnly()
    }
    const addrsChanged = !isDeepStrictEqual(before.vips, cfg.vips)
    this.apply({ kind: 'reconfigure', config: this.fsmConfig(cfg), addrsChanged })
    if (this.state.role !== 'MASTER' || this.owner) return
    const gone = vipsOf(before).filter((v) => !vipsOf(cfg).some((w) => isDeepStrictEqual(v, w)))
    const fresh = vipsOf(cfg).filter((v) => !vipsOf(before).some((w) => isDeepStrictEqual(v, w)))
    if (gone.length === 0 && fresh.length === 0) return
    this.queueVips(async () => {
      for (const v of gone) await this.vipOp('del', v)
      for (const v of fresh) await this.vipOp('add', v)
      if (fresh.length > 0 && this.state.role === 'MASTER' && !this.stopped) this.bursts.once()
    })
  }

  /** Applies a sync group partner's move (keepalived forces members into MASTER/BACKUP together). */
  sync(to: 'MASTER' | 'BACKUP'): void {
    if (!this.stopped) this.apply({ kind: 'sync', to })
  }

  private fsmConfig(cfg: RuntimeInstance): fsm.FsmConfig {
    return {
      version: cfg.version,
      priority: cfg.priority,
      advertMs: cfg.advertMs,
      primary: this.d.primary,
      preempt: cfg.preempt,
      preemptDelayMs: cfg.preemptDelayMs,
      accept: cfg.accept,
      lowerPrioAdvert: cfg.lowerPrioAdvert ?? true,
      lowerPrioAnswerMs: cfg.lowerPrioAnswerMs ?? fsm.DEFAULTS.lowerPrioAnswerMs,
      higherPrioAdvert: cfg.higherPrioAdvert ?? true,
    }
  }

  /** In FAULT for a reason of its own (not only because a sync group partner is). */
  get ownFault(): boolean {
    return [...this.faults.keys()].some((k) => !k.startsWith('sync:')) || fsm.priorityOf(this.state) === 0
  }

  get priority(): number {
    return fsm.priorityOf(this.state)
  }

  /** Removes VIPs a crashed earlier run left behind, then starts in Backup (or Master if owner). */
  async start(): Promise<void> {
    if (!this.owner) {
      for (const v of this.allVips()) {
        const ifindex = this.vipIndex(v)
        if (ifindex !== undefined && this.d.net.has(ifindex, v.prefix.addr)) {
          this.d.log('info', 'removing a VIP left by an earlier run', {
            vrrp: this.cfg.name,
            vip: formatAddr(v.prefix.addr),
          })
          await this.d.net.deleteVip(ifindex, v)
        }
      }
    }
    this.apply({ kind: 'startup' })
  }

  /** Priority 0 (if master), VIPs removed; resolves when the kernel has confirmed the removal. */
  async shutdown(): Promise<void> {
    if (this.stopped) return
    this.apply({ kind: 'shutdown' })
    this.stopped = true
    for (const t of TIMERS) this.clearHost(t)
    this.bursts.stop()
    await this.vipChain
  }

  /** preempt_on_quorum: hold (or release) preemption of a lower-priority master. */
  setPreemptHold(on: boolean): void {
    if (on !== this.state.preemptHeld) this.apply({ kind: 'preemptHold', on })
  }

  /** A tracked object changed the priority by `delta` (the sum over sources is what counts). */
  setDelta(source: string, delta: number): void {
    if (delta === 0) this.deltas.delete(source)
    else this.deltas.set(source, delta)
    let sum = 0
    for (const v of this.deltas.values()) sum += v
    if (sum === this.state.trackDelta) return
    const before = fsm.priorityOf(this.state)
    this.apply({ kind: 'priority', delta: sum })
    const effective = fsm.priorityOf(this.state)
    // the main thread publishes it as the vrrp.priority event
    if (effective !== before)
      this.d.post({ type: 'priority', instance: this.cfg.name, configured: this.cfg.priority, effective, source })
  }

  /** The fault sources set by sync groups (`sync:<group>`), so a reload can clear stale ones. */
  syncFaultSources(): string[] {
    return [...this.faults.keys()].filter((k) => k.startsWith('sync:'))
  }

  setFault(source: string, on: boolean): void {
    if (on) this.faults.set(source, true)
    else this.faults.delete(source)
    const any = this.faults.size > 0
    if (any !== this.state.faultFlag) this.apply({ kind: 'fault', on: any })
  }

  /** An address of ours disappeared (an IPv6 VIP after a link flap): a master puts it back. */
  addressDeleted(ifindex: number, addr: Addr): void {
    if (this.state.role !== 'MASTER' || this.owner || this.stopped) return
    const v = this.allVips().find((x) => sameAddr(x.prefix.addr, addr) && this.vipIndex(x) === ifindex)
    if (!v) return
    this.d.log('warn', 'VIP removed from the interface while master: adding it again', {
      vrrp: this.cfg.name,
      vip: formatAddr(addr),
    })
    this.queueVips(async () => {
      await this.d.net.addVip(ifindex, v)
      this.bursts.once()
    })
  }

  /** One datagram from the instance's channel. Never throws: a bad packet is a counted drop. */
  receive(m: SysReceived): void {
    if (this.stopped) return
    const rx = arrival(this.cfg.family, m)
    if (!rx) {
      this.drop('family')
      return
    }
    const group = this.d.channel.group
    const own = this.d.net.addresses(this.d.ifindex, this.cfg.family)
    if (this.d.parentIfindex !== undefined) own.push(...this.d.net.addresses(this.d.parentIfindex, this.cfg.family))
    this.local.ownAddrs = own.map((a) => a.address)
    const v = validate(m.data, rx, this.local)
    if (!v.ok) {
      // the sender as far as the packet says (IPv4: its header, if there is one; IPv6: the socket)
      const from = rx.family === 6 ? rx.src : m.data.length >= 20 ? addrFromBytes(m.data.subarray(12, 16)) : undefined
      this.drop(v.reason, from)
      return
    }
    if (group && !sameAddr(v.dst, group)) return // a unicast advert reaching the multicast socket
    const u = this.cfg.unicast
    if (u && !u.peers.some((p) => sameAddr(p, v.src)) && !u.allowFrom.some((n) => prefixContains(n, v.src))) {
      this.drop('peer', v.src)
      return
    }
    const only = this.cfg.acceptFrom
    if (only && only.length > 0 && !only.some((n) => prefixContains(n, v.src))) {
      this.drop('peer', v.src)
      return
    }
    if (this.cfg.strictSource && !this.onLink(v.src)) {
      this.drop('source', v.src)
      return
    }
    if (v.addrsMismatch) this.warnOnce('addrs', 'the owner advertises other VIPs than ours', { src: formatAddr(v.src) })
    if (v.ownerConflict)
      this.warnOnce('owner', 'another address owner advertises this VRID', { src: formatAddr(v.src) })
    this.counters.rx++
    // who is master is a fact of the wire: the peer channel may be down while its adverts arrive
    this.counters.lastAdvert = {
      from: formatAddr(v.src),
      priority: v.advert.priority,
      advertMs: intervalCs(v.advert) * 10,
      at: this.d.wall(),
    }
    this.apply({ kind: 'advert', src: v.src, priority: v.advert.priority, intervalCs: intervalCs(v.advert) })
  }

  /** RFC 5798 §5.1.2.1: an IPv6 advert comes from a link-local address; IPv4 from the interface's subnets. */
  private onLink(src: Addr): boolean {
    if (src.family === 6) return src.bytes[0] === 0xfe && ((src.bytes[1] ?? 0) & 0xc0) === 0x80
    return this.d.net
      .addresses(this.d.parentIfindex ?? this.d.ifindex, 4)
      .some((a) => prefixContains({ addr: a.local ?? a.address, len: a.prefixLen }, src))
  }

  private drop(reason: keyof Counters['drops'], from?: Addr): void {
    this.counters.drops[reason] = (this.counters.drops[reason] ?? 0) + 1
    // one event per reason and source per DROP_EVENT_MS: a flood is counted, not streamed
    const key = `${reason} ${from ? formatAddr(from) : ''}`
    const now = this.d.now()
    const last = this.dropEvents.get(key)
    if (last === undefined || now - last >= DROP_EVENT_MS) {
      if (this.dropEvents.size > 1024) this.dropEvents.clear() // spoofed sources must not grow memory
      this.dropEvents.set(key, now)
      this.d.post({ type: 'drop', instance: this.cfg.name, reason, ...(from ? { from: formatAddr(from) } : {}) })
    }
    if (reason !== 'vrid') this.warnOnce(`drop:${reason}`, 'advert dropped', { reason })
  }

  private warnOnce(key: string, msg: string, fields: Record<string, unknown>): void {
    if (this.warned.has(key)) return
    this.warned.add(key)
    this.d.log('warn', msg, { vrrp: this.cfg.name, ...fields })
  }

  private apply(e: fsm.Event, now = this.d.now()): void {
    const r = fsm.step(this.state, e, now)
    this.state = r.state
    for (const a of r.actions) this.act(a)
    this.syncTimers()
  }

  private act(a: fsm.Action): void {
    switch (a.kind) {
      case 'transition':
        this.counters.transitions++
        if (a.from === 'MASTER') this.bursts.stop()
        this.d.post({
          type: 'transition',
          instance: this.cfg.name,
          from: a.from,
          to: a.to,
          why: a.why,
          at: this.d.wall(),
          priority: fsm.priorityOf(this.state),
        })
        return
      case 'send':
        this.sendAdvert(a.priority)
        return
      case 'vips':
        if (this.owner) return
        this.queueVips(() => this.changeVips(a.op))
        return
      case 'suppressed':
        this.counters.lowerPrioSuppressed++
        return
      case 'announce':
        if (a.why === 'lower_priority') this.counters.lowerPrioAnswered++
        // after the VIPs are in (the NA's source selection and the hosts' replies need them)
        this.queueVips(async () => {
          if (this.state.role === 'MASTER' && !this.stopped) this.bursts.start()
        })
        return
      case 'arm':
      case 'disarm':
        return // syncTimers() follows the state's timer table
    }
  }

  private queueVips(fn: () => Promise<void>): void {
    this.vipChain = this.vipChain.then(fn).catch((err) => {
      this.d.log('error', 'VIP change failed', { vrrp: this.cfg.name, err: String(err) })
    })
  }

  private async changeVips(op: 'add' | 'del'): Promise<void> {
    for (const v of this.allVips()) await this.vipOp(op, v)
  }

  private async vipOp(op: 'add' | 'del', v: RuntimeVip): Promise<void> {
    const ifindex = this.vipIndex(v)
    if (ifindex === undefined) {
      this.d.log('error', 'VIP interface missing', { vrrp: this.cfg.name, dev: v.dev })
      return
    }
    if (op === 'add') await this.d.net.addVip(ifindex, v)
    else await this.d.net.deleteVip(ifindex, v)
  }

  private allVips(): RuntimeVip[] {
    return vipsOf(this.cfg)
  }

  private vipIndex(v: RuntimeVip): number | undefined {
    if (!v.dev || v.dev === this.cfg.interface) return this.d.ifindex
    return this.d.net.linkByName(v.dev)?.index
  }

  private announceRound(): void {
    for (const v of this.allVips()) {
      const ifindex = this.vipIndex(v)
      const mac = ifindex === undefined ? undefined : this.d.net.link(ifindex)?.mac
      if (ifindex === undefined || !mac || mac.length !== 6) continue
      try {
        if (v.prefix.addr.family === 4) {
          if (this.d.announcer.garp(ifindex, mac, v.prefix.addr)) this.counters.garp++
        } else if (this.d.announcer.na(ifindex, mac, v.prefix.addr)) this.counters.na++
      } catch (err) {
        this.warnOnce(`announce:${v.prefix.addr.family}`, 'GARP/NA send failed', { err: String(err) })
      }
    }
  }

  private sendAdvert(priority: number): void {
    const c = this.cfg
    const targets: Addr[] = c.unicast ? c.unicast.peers : [this.d.channel.group as Addr]
    // adverts repeat byte for byte until the priority, the config or the source address changes:
    // encoded once, not on every tick of a master (each encode was garbage and CPU in the worker)
    let a = this.adverts
    if (a?.cfg !== c || a.primary !== this.d.primary || a.priority !== priority) {
      a = { cfg: c, primary: this.d.primary, priority, packets: [] }
      this.adverts = a
    }
    targets.forEach((to, i) => {
      try {
        let pkt = a.packets[i]
        if (!pkt) {
          pkt = this.encodeAdvert(priority, to)
          a.packets[i] = pkt
        }
        if (this.d.channel.send(pkt, to)) this.counters.tx++
        else this.counters.txErrors++
      } catch (err) {
        this.counters.txErrors++
        this.warnOnce('send', 'advert send failed', { err: String(err) })
      }
    })
  }

  private encodeAdvert(priority: number, to: Addr): Buffer {
    const c = this.cfg
    return encode(
      {
        version: c.version,
        type: 1,
        vrid: c.vrid,
        priority,
        interval: intervalOnWire(c.version, c.advertMs),
        family: c.family,
        addrs: c.vips.map((v) => v.prefix.addr),
        ...(c.version === 2
          ? {
              auth: {
                type: c.auth?.type ?? 0,
                data: passwordAuthData(c.auth?.type === 1 ? (c.auth.password ?? '') : ''),
              },
            }
          : {}),
      },
      c.version === 3 ? { src: this.d.primary, dst: to } : undefined,
    )
  }

  /** Host timers mirror the machine's armed deadlines (absolute, monotonic). */
  private syncTimers(): void {
    if (this.stopped) return
    for (const t of TIMERS) {
      const want = this.state.timers[t]
      const have = this.host.get(t)
      if (want === have?.at) continue
      this.clearHost(t)
      if (want !== undefined) this.setHost(t, want)
    }
  }

  private clearHost(t: fsm.Timer): void {
    const h = this.host.get(t)
    if (h) this.d.timers.clear(h.handle)
    this.host.delete(t)
  }

  private setHost(t: fsm.Timer, at: number): void {
    const handle = this.d.timers.set(() => this.fire(t, at), Math.max(0, at - this.d.now()))
    this.host.set(t, { at, handle })
  }

  private fire(t: fsm.Timer, at: number): void {
    if (this.host.get(t)?.at !== at) return
    this.host.delete(t)
    let now = this.d.now()
    if (now < at - EARLY_SLACK_MS) {
      this.setHost(t, at)
      return
    }
    now = Math.max(now, at)
    if (t === 'adver') {
      const late = now - at
      if (late > this.counters.maxLateMs) this.counters.maxLateMs = late
      if (late > this.cfg.advertMs / 2) {
        this.counters.lateAdverts++
        const lateMs = Math.round(late * 10) / 10
        // the main thread logs it as the vrrp.advert_late event
        this.d.post({ type: 'late', instance: this.cfg.name, lateMs })
      }
    }
    if (t === 'masterDown' && this.state.role === 'BACKUP' && this.d.syncHold) {
      const on = this.d.syncHold()
      if (on !== this.state.syncHold) this.apply({ kind: 'syncHold', on }, now)
    }
    this.apply({ kind: 'timer', timer: t }, now)
  }
}
