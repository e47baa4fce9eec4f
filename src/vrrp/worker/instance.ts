// One VRRP instance at run time: the pure state machine (fsm.ts) bound to what it hears
// (advert-intake.ts), its host timers at absolute monotonic deadlines (host-timers.ts), its adverts,
// the VIPs (rtnetlink) and GARP/NA bursts, and the takeover path. Runs inside the worker.
import { isDeepStrictEqual } from 'node:util'
import type { Timers } from '../../clock.js'
import { type Addr, formatAddr, sameAddr } from '../../net/addr.js'
import type { PacerEvents } from '../../sys/pacer.js'
import type { ReceivedDatagram as SysReceived } from '../../sys/types.js'
import * as fsm from '../fsm.js'
import { type Counters, emptyCounters, type LogLevel, type RuntimeInstance, type Up } from '../messages.js'
import type { LocalInstance } from '../validate.js'
import { type AdvertEvent, AdvertIntake } from './advert-intake.js'
import { AdvertPackets } from './advert-packets.js'
import { type AsideHandle, repeatable } from './advert-routing.js'
import { Announcements } from './announcements.js'
import { HostTimers } from './host-timers.js'
import { fsmConfigOf, localOf } from './instance-config.js'
import type { NetState } from './netstate.js'
import { PacedAdverts } from './paced-adverts.js'
import type { AdvertPace, Announcer, Channel } from './sockets.js'
import { type LeadHost, masterDown } from './takeover-lead.js'
import { WireAhead } from './takeover-wire.js'
import { type VipAddsAhead, VipChanges, vipsOf } from './vip-changes.js'

/** What an instance reads and changes of its namespace (NetState, or a fake in the unit tier). */
export type InstanceNet = Pick<NetState, 'link' | 'linkByName' | 'addresses' | 'has' | 'addVip' | 'deleteVip'> &
  Partial<Pick<NetState, 'hold' | 'generation'>>

export interface InstanceDeps {
  /** Monotonic ms (performance.now()). */
  now(): number
  /** Wall-clock ms for reports (performance.timeOrigin + now). */
  wall(): number
  net: InstanceNet
  announcer: Pick<Announcer, 'garp' | 'na'> & Partial<Pick<Announcer, 'prepareFor' | 'rehearse'>>
  channel: Pick<Channel, 'group' | 'send'> & Partial<Pick<Channel, 'outgoing'>>
  /** Where adverts, VIPs and GARPs go: the instance's interface, or its virtual-MAC macvlan. */
  ifindex: number
  /** The instance's own interface when `ifindex` is a macvlan on it. */
  parentIfindex?: number
  primary: Addr
  timers: Timers
  /** Sync groups: whether a partner holds this member in BACKUP when Master_Down fires (sync.ts). */
  syncHold?(): boolean
  /**
   * How long before Master_Down the host timer fires (ms; 0 or absent: at the deadline). The step
   * is computed and the advert encoded in that lead, then the instance waits on `now()` until the
   * deadline itself, so the cold path (run once per takeover) costs nothing after it. Only for a
   * clock that advances by itself: the worker's, never a test's virtual one.
   */
  takeoverLeadMs?: number
  /**
   * ms since the kernel received a datagram with this stamp (rx-age.ts); undefined: not known.
   * `maxAgeMs`: the most it can be (a datagram the kernel set aside); absent: read at once.
   */
  receivedMsAgo?(timestampNs: number, maxAgeMs?: number): number | undefined
  /** Delivers the adverts the channel's socket holds now (to every instance on it), before a takeover. */
  receiveQueued?(): void
  /** The sockets receiveQueued() reads (SharedChannel.queuedFds); undefined: not known. */
  queuedFds?(): number[] | undefined
  /**
   * CLOCK_MONOTONIC ns of a time on now()'s clock, for the takeover's wait for its deadline in C
   * (sys/sent-ahead.ts). Only for the worker's real clock; absent, the wait is a loop on now().
   */
  deadlineNs?(atMs: number): number
  /**
   * Sync groups: applies the partners' moves still pending from transitions already taken. A
   * timer runs it first, so a partner that went MASTER this very turn moves this member as 'sync'
   * before the member's own Master_Down can decide alone.
   */
  settleSync?(): void
  /**
   * A pacer for this instance's routine adverts as master (Channel.pacer, native/pacer.cc): each
   * one then leaves from C++ without waking JavaScript. Absent (the unit tier's fakes): a host
   * timer per advert, the state machine's own Adver_Timer.
   */
  pace?(events: PacerEvents): AdvertPace
  /**
   * The channel's kernel routing (advert-routing.ts): an exact repeat of the advert this instance
   * accepted last in BACKUP is set aside instead of waking the thread, and handed over (catchUp)
   * before anything needs the state. Absent (the unit tier's fakes): every advert read at once.
   */
  aside?: AsideHandle
  post(up: Up): void
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void
}

/** One commit of fsm steps: the reports it posts at its end, and whether its VIP adds went out. */
interface Commit {
  /** Wall-clock ms of the step, for the reports. */
  at: number
  reports: Up[]
  /** The VIPs were added in this commit (addVipsNow): an announce may go at once. */
  vipsSent: boolean
  /** VIP additions built before the deadline, held until the commit's `vips` action. */
  ahead?: VipAddsAhead | undefined
  /**
   * The held additions' answers, sent but not yet handed to the VIP chain: that waits until the
   * first GARP/NA has left (or another VIP change comes), as nothing in between needs it.
   */
  unreported?: Promise<PromiseSettledResult<void>[]> | undefined
}

export class Instance {
  private config: RuntimeInstance
  private state: fsm.FsmState
  readonly counters: Counters = emptyCounters()
  private readonly timers: HostTimers
  private readonly intake: AdvertIntake
  private readonly adverts: AdvertPackets
  private readonly announcements: Announcements
  private readonly local: LocalInstance
  private readonly owner: boolean
  private readonly vips: VipChanges
  /** The latest time a step was taken at (heardAt's floor). */
  private lastStepAt = Number.NEGATIVE_INFINITY
  private readonly deltas = new Map<string, number>()
  private readonly faults = new Map<string, boolean>()
  private readonly warned = new Set<string>()
  private stopped = false
  /** Adver_Timer on the native pacer (paced-adverts.ts); undefined: on a host timer. */
  private paced: PacedAdverts | undefined
  private readonly lead: LeadHost
  /** What the takeover prepared in the lead sends, in one call at the deadline (takeover-wire.ts). */
  private readonly wire: WireAhead

  constructor(
    cfg: RuntimeInstance,
    private readonly d: InstanceDeps,
  ) {
    this.config = cfg
    this.owner = cfg.priority === 255
    this.state = fsm.create(fsmConfigOf(cfg, this.d.primary))
    this.local = localOf(cfg)
    this.intake = new AdvertIntake({ host: d, cfg: () => this.config, local: this.local, counters: this.counters })
    this.timers = new HostTimers({
      timers: d.timers,
      now: () => this.d.now(),
      leadOf: (t) => this.leadOf(t),
      settle: () => this.d.settleSync?.(),
      due: (t, at, now) => this.due(t, at, now),
      ...(d.aside
        ? {
            watch: (w) => d.aside?.watch(w) ?? false,
            unwatch: () => d.aside?.unwatch(),
            catchUp: () => d.aside?.catchUp(),
          }
        : {}),
    })
    const config = () => this.config
    this.vips = new VipChanges({ net: d.net, ifindex: d.ifindex, cfg: config, log: d.log })
    this.announcements = new Announcements(cfg.announce, {
      announcer: d.announcer,
      net: d.net,
      vips: this.vips,
      timers: d.timers,
      counters: this.counters,
      warnOnce: (key, msg, fields) => this.warnOnce(key, msg, fields),
    })
    this.adverts = new AdvertPackets({
      cfg: config,
      primary: () => this.d.primary,
      group: () => this.d.channel.group,
      failed: (err) => this.warnOnce('encode', 'advert encoding failed', { err: String(err) }),
    })
    if (d.pace)
      this.paced = new PacedAdverts(d.pace, {
        adverts: this.adverts,
        now: () => this.d.now(),
        priority: () => fsm.priorityOf(this.state),
        advertMs: () => this.config.advertMs,
        warnOnce: (key, msg, fields) => this.warnOnce(key, msg, fields),
        late: (lateMs) => this.reportLate(lateMs),
      })
    this.wire = new WireAhead(d, {
      warnOnce: (key, msg, fields) => this.warnOnce(key, msg, fields),
      debug: (msg, fields) => this.d.log('debug', msg, { vrrp: this.cfg.name, ...fields }),
    })
    this.lead = {
      state: () => this.state,
      now: () => this.d.now(),
      catchUp: () => this.d.aside?.catchUp(true),
      syncHold: () => this.d.syncHold?.(),
      stepAt: (when) => {
        this.lastStepAt = Math.max(this.lastStepAt, when)
      },
      prepare: (steps) => {
        for (const r of steps) for (const a of r.actions) if (a.kind === 'send') this.adverts.at(a.priority)
        const adds = !this.owner && steps.some((r) => r.actions.some((a) => a.kind === 'vips' && a.op === 'add'))
        const ahead = adds ? this.vips.ahead() : undefined
        const announced = ahead ? this.announcements.prepare() : []
        const parts = {
          advert: (p: number) => this.adverts.outgoing(p, this.d.channel),
          adds: ahead?.held.outgoing(),
          announced,
        }
        this.wire.prepare(steps, parts)
        return ahead
      },
      receiveQueued: () => this.d.receiveQueued?.(),
      sendAhead: () => this.wire.sendNow(),
      sendAt: (at) => this.wire.sendAt(at),
      commit: (steps, ahead) => {
        // the reports carry the deadline's time, when the advert left, not the commit's after it
        try {
          this.commit(steps, ahead, undefined, this.wire.takeSentAt())
        } finally {
          this.wire.settle()
        }
      },
      rearm: (at) => this.timers.set('masterDown', at, 0),
    }
  }

  /** The counters, with what the pacer sent and counted in C++ folded in. */
  countersNow(): Counters {
    const c: Counters = { ...this.counters, drops: { ...this.counters.drops } }
    this.paced?.fold(c)
    return c
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
    if (!isDeepStrictEqual(before.announce, cfg.announce))
      this.announcements.reconfigure(cfg.announce, this.state.role === 'MASTER')
    const addrsChanged = !isDeepStrictEqual(before.vips, cfg.vips)
    this.apply({ kind: 'reconfigure', config: fsmConfigOf(cfg, this.d.primary), addrsChanged })
    if (this.state.role !== 'MASTER' || this.owner) return
    const gone = vipsOf(before).filter((v) => !vipsOf(cfg).some((w) => isDeepStrictEqual(v, w)))
    const fresh = vipsOf(cfg).filter((v) => !vipsOf(before).some((w) => isDeepStrictEqual(v, w)))
    if (gone.length === 0 && fresh.length === 0) return
    this.vips.queue(async () => {
      for (const v of gone) await this.vips.op('del', v)
      for (const v of fresh) await this.vips.op('add', v)
      if (fresh.length > 0 && this.state.role === 'MASTER' && !this.stopped) this.announcements.once()
    })
  }

  /** Applies a sync group partner's move (keepalived forces members into MASTER/BACKUP together). */
  sync(to: 'MASTER' | 'BACKUP'): void {
    if (!this.stopped) this.apply({ kind: 'sync', to })
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
      for (const v of this.vips.all()) {
        const ifindex = this.vips.ifindexOf(v)
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
    this.timers.clearAll()
    this.paced?.close()
    this.announcements.stop()
    await this.vips.settled()
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
    const v = this.vips.all().find((x) => sameAddr(x.prefix.addr, addr) && this.vips.ifindexOf(x) === ifindex)
    if (!v) return
    this.d.log('warn', 'VIP removed from the interface while master: adding it again', {
      vrrp: this.cfg.name,
      vip: formatAddr(addr),
    })
    this.vips.queue(async () => {
      await this.d.net.addVip(ifindex, v)
      this.announcements.once()
    })
  }

  /**
   * One datagram from the instance's channel; `maxAgeMs` when the kernel set it aside (its stamp
   * may be that old), `repeat` when as an exact repeat, `copies` the identical datagrams it stands
   * for (the silence timer keeps the newest of what it read). Never throws: a bad packet is a
   * counted drop.
   */
  receive(m: SysReceived, maxAgeMs?: number, repeat = false, copies = 1): void {
    if (this.stopped) return
    // repeats set aside reached the host before this one: their steps come first
    this.d.aside?.catchUp()
    const at = this.heardAt(m, maxAgeMs)
    const heard = this.intake.read(m, this.d.wall() - (this.d.now() - at), copies)
    if (!heard) {
      // a repeat of the accepted advert refused now (the host's addresses changed under it): its
      // next repeats must not move Master_Down as taken for read, here or in C++
      if (repeat && this.intake.lastDrop !== 'vrid') this.d.aside?.forget()
      return
    }
    this.lastStepAt = Math.max(this.lastStepAt, at)
    this.commit([fsm.step(this.state, heard, at)], undefined, { m, e: heard, at })
  }

  /** Packets the kernel dropped from the channel's full queues (Channel.takeAside): `queue_full` drops. */
  countQueueFull(n: number): void {
    this.intake.queueFull(n)
  }

  /**
   * When the advert reached the host: Master_Down counts from there (keepalived reads it within
   * microseconds; this thread may take a millisecond to wake up and validate it). Never before a
   * step already taken, so the machine's time does not go backwards. A stamp that cannot be
   * trusted (the wall clock stepped) makes it now: a later takeover, never a false one.
   */
  private heardAt(m: SysReceived, maxAgeMs?: number): number {
    const now = this.d.now()
    const stamp = m.cmsg.timestampNs
    const ago = stamp === undefined ? undefined : this.d.receivedMsAgo?.(stamp, maxAgeMs)
    return ago === undefined ? now : Math.max(now - ago, this.lastStepAt)
  }

  private warnOnce(key: string, msg: string, fields: Record<string, unknown>): void {
    if (this.warned.has(key)) return
    this.warned.add(key)
    this.d.log('warn', msg, { vrrp: this.cfg.name, ...fields })
  }

  private apply(e: fsm.Event, now = this.d.now()): void {
    this.d.aside?.catchUp()
    this.lastStepAt = Math.max(this.lastStepAt, now)
    this.commit([fsm.step(this.state, e, now)])
  }

  /**
   * The steps' actions in order, except that reports to the main thread go last: the advert, the
   * VIPs and the GARP of a takeover do not wait for a structured clone. A report's `at` is still
   * the time of the step.
   */
  private commit(
    steps: fsm.Step[],
    ahead?: VipAddsAhead,
    heard?: { m: SysReceived; e: AdvertEvent; at: number },
    at = this.d.wall(),
  ): void {
    const ctx: Commit = { at, reports: [], vipsSent: false, ahead }
    const before = this.state
    for (const r of steps) {
      this.state = r.state
      for (const a of r.actions) this.act(a, ctx)
    }
    ctx.ahead?.held.release() // not taken by a `vips` action: cannot happen (vipAddsAhead checks)
    this.reportAhead(ctx)
    // only an advert that just re-armed Master_Down in BACKUP may be taken as read when it repeats;
    // before the timers, so Master_Down can go to the silence timer with its expectation set
    const downAt = this.state.timers.masterDown
    if (heard && downAt !== undefined && repeatable(before, this.state, heard.e))
      this.d.aside?.expect(heard.m, { heardMs: heard.at, downAtMs: downAt })
    else this.d.aside?.forget()
    this.syncTimers()
    for (const m of ctx.reports) this.d.post(m)
  }

  private act(a: fsm.Action, ctx: Commit): void {
    switch (a.kind) {
      case 'transition':
        this.counters.transitions++
        if (a.from === 'MASTER') this.announcements.stop()
        ctx.reports.push({
          type: 'transition',
          instance: this.cfg.name,
          from: a.from,
          to: a.to,
          why: a.why,
          at: ctx.at,
          priority: fsm.priorityOf(this.state),
        })
        return
      case 'send':
        this.sendAdvert(a.priority)
        return
      case 'vips':
        if (this.owner) return
        this.reportAhead(ctx)
        if (a.op === 'add' && ctx.ahead) {
          ctx.ahead.held.release({ answersLater: true })
          ctx.unreported = ctx.ahead.settled
          ctx.ahead = undefined
          ctx.vipsSent = true
        } else if (a.op === 'add' && this.vips.pending === 0) {
          this.vips.addNow()
          ctx.vipsSent = true
        } else this.vips.change(a.op)
        return
      case 'suppressed':
        this.counters.lowerPrioSuppressed++
        return
      case 'announce':
        if (a.why === 'lower_priority') this.counters.lowerPrioAnswered++
        // after the VIPs are in (the NA's source selection and the hosts' replies need them)
        // the VIPs of this commit are the only VIP change in flight: the burst goes at once
        if (ctx.vipsSent && this.vips.pending === (ctx.unreported ? 0 : 1)) {
          if (this.state.role === 'MASTER' && !this.stopped) this.announcements.start()
          this.reportAhead(ctx)
          return
        }
        this.reportAhead(ctx)
        this.vips.queue(async () => {
          if (this.state.role === 'MASTER' && !this.stopped) this.announcements.start()
        })
        return
      case 'arm':
      case 'disarm':
        return // syncTimers() follows the state's timer table
    }
  }

  /**
   * Hands the held additions' answers to the VIP chain (which logs a refusal). Done after the first
   * GARP/NA: queueing it first put ~50 µs of cold code between the address add and the GARP.
   */
  private reportAhead(ctx: Commit): void {
    if (!ctx.unreported) return
    this.vips.report(ctx.unreported)
    ctx.unreported = undefined
  }

  private sendAdvert(priority: number): void {
    const targets = this.adverts.targets()
    const packets = this.adverts.at(priority)
    for (let i = 0; i < targets.length; i++) {
      try {
        const pkt = packets[i]
        if (!pkt) throw new Error('advert not encoded')
        if (this.d.channel.send(pkt, targets[i] as Addr)) this.counters.tx++
        else this.counters.txErrors++
      } catch (err) {
        this.counters.txErrors++
        this.warnOnce('send', 'advert send failed', { err: String(err) })
      }
    }
  }

  /** Host timers mirror the machine's armed deadlines (absolute, monotonic); a pacer takes Adver_Timer. */
  private syncTimers(): void {
    if (!this.stopped) this.timers.sync(this.paced ? this.paced.hostTimers(this.state.timers) : this.state.timers)
  }

  /** An advert that left more than half an interval late: counted, and posted as vrrp.advert_late. */
  private reportLate(lateMs: number): void {
    this.d.post({ type: 'late', instance: this.cfg.name, lateMs: Math.round(lateMs * 10) / 10 })
  }

  /** Master_Down's host timer fires this early, with a clock that advances by itself (InstanceDeps). */
  private leadOf(t: fsm.Timer): number {
    return t === 'masterDown' ? Math.max(0, this.d.takeoverLeadMs ?? 0) : 0
  }

  /** A host timer is due (HostTimers): `now` may be up to its lead before `at`. */
  private due(t: fsm.Timer, at: number, firedAt: number): void {
    if (t === 'masterDown') {
      this.masterDown(at, firedAt)
      return
    }
    const now = Math.max(firedAt, at)
    if (t === 'adver') {
      const late = now - at
      if (late > this.counters.maxLateMs) this.counters.maxLateMs = late
      if (late > this.cfg.advertMs / 2) {
        this.counters.lateAdverts++
        // the main thread logs it as the vrrp.advert_late event
        this.reportLate(late)
      }
    }
    this.apply({ kind: 'timer', timer: t }, now)
  }

  /** Master_Down_Timer, woken up to takeoverLeadMs early (takeover-lead.ts). */
  private masterDown(at: number, now: number): void {
    masterDown(this.lead, at, now)
  }
}
