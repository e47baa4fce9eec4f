// The VRRP worker's logic as one object: instances, the sockets they share, the instances waiting for
// their interface, sync groups, tracker inputs and reloads. Sockets, timers, clock and rtnetlink are
// injected (worker.ts passes the addon-backed ones), so all of it runs in the unit tier with fakes.
import type { Timers } from '../../clock.js'
import { toWireError } from '../../errors.js'
import { type Addr, formatAddr } from '../../net/addr.js'
import type { Link } from '../../net/rtnl-link.js'
import type { Counters, Down, LogLevel, RuntimeInstance, SyncGroup, Up } from '../messages.js'
import { planUpdate, staleTracking, type UpdateReport } from '../reload.js'
import { type Member, syncHold, syncMoves } from '../sync.js'
import { Instance, type InstanceNet } from './instance.js'
import type { NetEvents, NetState } from './netstate.js'
import { SharedChannel, type WorkerChannel } from './shared-channel.js'
import type { Announcer, ChannelSpec } from './sockets.js'
import { vmacAddress, vmacName } from './vmac.js'

/** The worker's namespace view: NetState, or a fake. */
export type WorkerNet = InstanceNet & Pick<NetState, 'primary' | 'tentative' | 'createVmac' | 'deleteLink' | 'close'>

export type { WorkerChannel } from './shared-channel.js'

/** The instances' timers (DeadlineTimers: one timerfd), closed at shutdown. */
export type WorkerTimers = Timers & { close(): void }

export type RealtimeOutcome = { ok: true; tid: number; priority: number } | { ok: false; tid: number; reason: string }

export interface WorkerDeps {
  post(m: Up): void
  /** Monotonic ms. */
  now(): number
  /** Wall-clock ms for reports. */
  wall(): number
  /** Opened first at start, so a failure is the start's error and not an instance's. */
  openTimers(): WorkerTimers
  openNet(events: NetEvents): Promise<WorkerNet>
  openChannel(spec: ChannelSpec): WorkerChannel
  announcer: Pick<Announcer, 'garp' | 'na' | 'close'> & Partial<Pick<Announcer, 'prepareFor' | 'rehearse'>>
  setRealtime(priority: number): RealtimeOutcome
  /** The worker thread's id (gettid), reported at start: `top -H`, perf and the tests find the thread by it. */
  tid?(): number
  /** Instances' Master_Down wake-up ahead of the deadline (InstanceDeps.takeoverLeadMs); absent: none. */
  takeoverLeadMs?: number
  /** now()'s times as CLOCK_MONOTONIC ns (InstanceDeps.deadlineNs); absent for a test's clock. */
  deadlineNs?(atMs: number): number
  /** ms since the kernel received a datagram with this stamp (InstanceDeps.receivedMsAgo). */
  receivedMsAgo?(timestampNs: number, maxAgeMs?: number): number | undefined
}

const linkIsUp = (l: Link | undefined): boolean => l?.up === true && l.lowerUp

/** Link state → faults (the instance's own interface, weight-0 tracks) and priority deltas. */
function applyLink(inst: Instance, link: Link): void {
  const up = linkIsUp(link)
  if (link.name === inst.cfg.interface) inst.setFault(`interface:${link.name}`, !up)
  for (const t of inst.cfg.trackInterfaces) {
    if (t.name !== link.name) continue
    if (t.weight === 0) inst.setFault(`track:${t.name}`, !up)
    else inst.setDelta(`track:${t.name}`, up ? 0 : t.weight)
  }
}

const view = (members: Instance[]): Member[] =>
  members.map((i) => ({ name: i.cfg.name, role: i.role, wantsMaster: i.wantsMaster }))

export class VrrpWorkerCore {
  private readonly instances: Instance[] = []
  /** The advert sockets, by family, interface and mode, with the instances on each. */
  private readonly channels = new Map<string, SharedChannel>()
  private net: WorkerNet | undefined
  private timers: WorkerTimers | undefined
  private shuttingDown = false
  private starting: Promise<void> = Promise.resolve()
  /** Reloads run one after another. */
  private updating: Promise<void> = Promise.resolve()
  private syncGroups: SyncGroup[] = []
  /** Transitions not yet offered to the sync groups (handled in a microtask: no re-entry into a step). */
  private readonly moved: Array<Extract<Up, { type: 'transition' }>> = []
  /** Instances whose interface or source address does not exist yet; retried on link/address events. */
  private readonly waiting = new Map<string, { cfg: RuntimeInstance; reason: string }>()
  /** The instances the main thread asked for last (start or update), in its order. */
  private configs: RuntimeInstance[] = []
  /** Creations under way, so a reload that removes the instance waits for it first. */
  private readonly creating = new Map<string, Promise<void>>()
  /** Virtual-MAC interfaces this run created, by instance, deleted when it stops (as keepalived). */
  private readonly vmacs = new Map<string, number>()
  /** Inputs from the main thread's trackers, kept so an instance created later starts with them. */
  private readonly external = new Map<
    string,
    { deltas: Map<string, number>; faults: Map<string, boolean>; preemptHold?: boolean }
  >()
  /** The instances' timers, opened lazily by the first instance or at start. */
  private readonly instanceTimers = {
    set: (fn: () => void, ms: number) => this.openTimers().set(fn, ms),
    clear: (h: unknown) => this.timers?.clear(h),
  }

  constructor(private readonly d: WorkerDeps) {}

  /** One message from the main thread. */
  handle(m: Down): void {
    switch (m.type) {
      case 'start':
        this.syncGroups = m.syncGroups ?? []
        this.starting = this.start(m.instances, m.rtPriority)
        this.starting.catch((err) => this.post({ type: 'error', error: toWireError(err) }))
        return
      case 'priority':
        this.externalOf(m.instance).deltas.set(m.source, m.delta)
        this.byName(m.instance)?.setDelta(m.source, m.delta)
        return
      case 'fault':
        this.externalOf(m.instance).faults.set(m.source, m.on)
        this.byName(m.instance)?.setFault(m.source, m.on)
        return
      case 'preemptHold':
        this.externalOf(m.instance).preemptHold = m.on
        this.byName(m.instance)?.setPreemptHold(m.on)
        return
      case 'update': {
        const id = m.id
        this.updating = this.updating
          .then(() => this.update(m.instances, m.syncGroups))
          .then(
            (report) => this.post({ type: 'updated', id, report }),
            (err) => this.post({ type: 'updated', id, error: toWireError(err) }),
          )
        return
      }
      case 'tracked':
        for (const st of staleTracking(this.external, m.sources)) {
          const e = this.externalOf(st.instance)
          if (st.kind === 'delta') {
            e.deltas.delete(st.source)
            this.byName(st.instance)?.setDelta(st.source, 0)
          } else {
            e.faults.delete(st.source)
            this.byName(st.instance)?.setFault(st.source, false)
          }
        }
        return
      case 'counters':
        this.post({ type: 'counters', counters: this.counters() })
        return
      case 'shutdown':
        this.shutdown().catch((err) => this.post({ type: 'error', error: toWireError(err) }))
        return
    }
  }

  /** Resolves once every start, reload and creation asked for so far has run (tests wait on it). */
  async settled(): Promise<void> {
    await this.starting.catch(() => {})
    await this.updating
    await Promise.all([...this.creating.values()])
  }

  private post(m: Up): void {
    this.d.post(m)
    if (m.type === 'transition') {
      this.moved.push(m)
      if (this.moved.length === 1) queueMicrotask(() => this.syncStep())
    }
  }

  private log(level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void {
    this.post({ type: 'log', level, msg, fields })
  }

  private openTimers(): WorkerTimers {
    this.timers ??= this.d.openTimers()
    return this.timers
  }

  private byName(name: string): Instance | undefined {
    return this.instances.find((i) => i.cfg.name === name)
  }

  private channelFor(cfg: RuntimeInstance, ifname: string, ifindex: number, source: Addr): SharedChannel {
    const u = cfg.unicast
    const key = `${cfg.family}/${ifname}/${u ? `u:${u.source ? formatAddr(u.source) : ''}` : 'm'}`
    let shared = this.channels.get(key)
    if (!shared) {
      const channel = this.d.openChannel({
        family: cfg.family,
        ifname,
        ifindex,
        ...(u ? { unicast: { ttl: u.ttl }, ...(u.source ? { source: u.source } : {}) } : { source }),
      })
      shared = new SharedChannel(channel, cfg.family, {
        now: this.d.now,
        timers: this.instanceTimers,
        log: (level, msg, fields) => this.log(level, msg, fields),
      })
      this.channels.set(key, shared)
    }
    return shared
  }

  private membersOf(g: SyncGroup): Instance[] {
    return g.members.map((n) => this.byName(n)).filter((i): i is Instance => i !== undefined)
  }

  private groupOf(name: string): SyncGroup | undefined {
    return this.syncGroups.find((g) => g.members.includes(name))
  }

  /** keepalived's sync group rule for FAULT: one member's own fault puts every member in FAULT. */
  private syncFaults(): void {
    for (const i of this.instances) {
      const g = this.groupOf(i.cfg.name)
      // a reload may have moved the instance out of a group: its old group's fault goes with it
      for (const src of i.syncFaultSources()) if (src !== `sync:${g?.name}`) i.setFault(src, false)
      if (!g) continue
      // only another member's fault counts, or a member would hold itself in FAULT for ever
      i.setFault(
        `sync:${g.name}`,
        this.membersOf(g).some((o) => o !== i && o.ownFault),
      )
    }
  }

  /** Members follow a partner into and out of MASTER (sync.ts), then FAULT is shared. */
  private syncStep(): void {
    for (const t of this.moved.splice(0)) {
      const g = this.groupOf(t.instance)
      if (!g) continue
      for (const m of syncMoves(view(this.membersOf(g)), t)) this.byName(m.instance)?.sync(m.to)
    }
    this.syncFaults()
  }

  private syncHoldOf(name: string): boolean {
    const g = this.groupOf(name)
    return g !== undefined && syncHold(view(this.membersOf(g)), name)
  }

  private async start(list: RuntimeInstance[], rtPriority: number): Promise<void> {
    this.configs = list
    this.openTimers()
    if (rtPriority > 0) {
      const r = this.d.setRealtime(rtPriority)
      this.post({
        type: 'ready',
        realtime: r.ok
          ? { ok: true, tid: r.tid, priority: r.priority }
          : { ok: false, tid: r.tid, priority: 0, reason: r.reason },
      })
    } else
      this.post({
        type: 'ready',
        realtime: { ok: false, tid: this.d.tid?.() ?? 0, priority: 0, reason: 'rt_priority 0' },
      })
    const n = await this.d.openNet({
      link: (l) => {
        for (const i of this.instances) applyLink(i, l)
        this.retryWaiting()
      },
      addressAdded: () => {
        this.recheckAside()
        this.retryWaiting()
      },
      addressDeleted: (ifindex, addr) => {
        this.recheckAside()
        for (const i of this.instances) i.addressDeleted(ifindex, addr)
      },
      error: (msg, fields) => this.log('error', msg, fields),
    })
    this.net = n
    for (const cfg of list) await this.createAndStart(n, cfg)
  }

  private retryWaiting(): void {
    const n = this.net
    if (!n || this.shuttingDown) return
    for (const { cfg } of [...this.waiting.values()]) void this.createAndStart(n, cfg)
  }

  /** Creates and starts an instance, or parks it (logged once) until its interface and source exist. */
  private async createAndStart(n: WorkerNet, cfg: RuntimeInstance): Promise<void> {
    if (this.byName(cfg.name) || this.creating.has(cfg.name) || this.shuttingDown) return
    const p = this.create(n, cfg)
      .catch((err) => this.log('error', 'instance could not be created', { vrrp: cfg.name, err: toWireError(err) }))
      .finally(() => this.creating.delete(cfg.name))
    this.creating.set(cfg.name, p)
    await p
  }

  private async create(n: WorkerNet, cfg: RuntimeInstance): Promise<void> {
    const link = n.linkByName(cfg.interface)
    const vipAddrs = [...cfg.vips, ...cfg.excludedVips].map((v) => v.prefix.addr)
    const primary = link && (cfg.unicast?.source ?? n.primary(link.index, cfg.family, vipAddrs))
    if (!link || !primary) {
      // an address still in DAD (an interface just brought up at boot) is the normal wait, not a warning
      const dad = link && n.tentative(link.index, cfg.family)
      const reason = !link
        ? `no interface ${cfg.interface}`
        : dad
          ? `the IPv${cfg.family} address of ${cfg.interface} is tentative (duplicate address detection)`
          : `no IPv${cfg.family} source address on ${cfg.interface}`
      if (this.waiting.get(cfg.name)?.reason !== reason) {
        this.log(dad ? 'info' : 'warn', 'instance waits for its interface and source address', {
          vrrp: cfg.name,
          reason,
        })
      }
      this.waiting.set(cfg.name, { cfg, reason })
      return
    }
    this.waiting.delete(cfg.name)
    let ifname = cfg.interface
    let ifindex = link.index
    if (cfg.virtualMac) {
      ifname = vmacName(cfg.vrid, cfg.family)
      ifindex = await n.createVmac(ifname, link, vmacAddress(cfg.vrid, cfg.family), cfg.family)
      this.vmacs.set(cfg.name, ifindex)
    }
    const shared = this.channelFor(cfg, ifname, ifindex, primary)
    const channel = shared.channel
    const inst = new Instance(cfg, {
      now: this.d.now,
      wall: this.d.wall,
      net: n,
      announcer: this.d.announcer,
      channel,
      ifindex,
      ...(ifindex !== link.index ? { parentIfindex: link.index } : {}),
      primary,
      timers: this.instanceTimers,
      syncHold: () => this.syncHoldOf(cfg.name),
      ...(this.d.takeoverLeadMs ? { takeoverLeadMs: this.d.takeoverLeadMs } : {}),
      ...(this.d.receivedMsAgo ? { receivedMsAgo: this.d.receivedMsAgo } : {}),
      receiveQueued: () => shared.receiveQueued(),
      queuedFds: () => shared.queuedFds(),
      ...(this.d.deadlineNs ? { deadlineNs: this.d.deadlineNs } : {}),
      ...shared.aside(cfg.name),
      // the master's routine adverts leave from C++ where the channel can pace them (a fake cannot)
      ...(channel.pacer ? { pace: channel.pacer.bind(channel) } : {}),
      settleSync: () => {
        if (this.moved.length > 0) this.syncStep()
      },
      post: (m) => this.post(m),
      log: (level, msg, fields) => this.log(level, msg, fields),
    })
    shared.add(inst)
    this.instances.push(inst)
    this.log('info', 'instance configured', {
      vrrp: cfg.name,
      interface: cfg.interface,
      vrid: cfg.vrid,
      version: cfg.version,
      priority: cfg.priority,
      source: formatAddr(primary),
      ...(cfg.virtualMac ? { vmac: ifname } : {}),
    })
    // link state first, so an instance whose interface is down starts in FAULT
    applyLink(inst, link)
    for (const t of cfg.trackInterfaces) {
      const tl = n.linkByName(t.name)
      if (tl) applyLink(inst, tl)
      else if (t.weight === 0) inst.setFault(`track:${t.name}`, true)
      else inst.setDelta(`track:${t.name}`, t.weight)
    }
    this.applyExternal(inst)
    await inst.start()
  }

  /**
   * The host's addresses changed: a repeat of an accepted advert may be refused now (its source
   * is ours, or off-link under strict_source), so none is taken as read until one is checked again.
   */
  private recheckAside(): void {
    for (const c of this.channels.values()) c.recheck()
  }

  private counters(): Record<string, Counters> {
    // what the kernel set aside is counted once read: read it now
    for (const c of this.channels.values()) c.catchUp()
    const out: Record<string, Counters> = {}
    for (const i of this.instances) out[i.cfg.name] = i.countersNow()
    return out
  }

  private async shutdown(): Promise<void> {
    if (this.shuttingDown) return
    this.shuttingDown = true
    // a shutdown racing the start-up waits for it, so no instance is created after the resignations
    await this.starting.catch(() => {})
    await Promise.all(this.instances.map((i) => i.shutdown()))
    this.post({ type: 'counters', counters: this.counters() })
    for (const c of this.channels.values()) c.close()
    for (const v of this.vmacs.values())
      await this.net?.deleteLink(v).catch((err) => this.log('warn', 'macvlan not deleted', { err: toWireError(err) }))
    this.d.announcer.close()
    this.net?.close()
    this.timers?.close()
    this.post({ type: 'stopped' })
  }

  /** Stops one instance as a shutdown would (a master resigns, VIPs go) and frees what only it used. */
  private async removeInstance(name: string): Promise<void> {
    this.waiting.delete(name)
    await this.creating.get(name)
    const inst = this.byName(name)
    if (!inst) return
    await inst.shutdown()
    this.instances.splice(this.instances.indexOf(inst), 1)
    for (const [key, c] of this.channels) {
      if (!c.remove(inst)) continue
      c.close()
      this.channels.delete(key)
    }
    const vmac = this.vmacs.get(name)
    if (vmac !== undefined) {
      this.vmacs.delete(name)
      await this.net
        ?.deleteLink(vmac)
        .catch((err) => this.log('warn', 'macvlan not deleted', { vrrp: name, err: toWireError(err) }))
    }
  }

  /** New tunables in place; tracked interfaces whose weight changed or that came or went are re-applied. */
  private reconfigureInstance(inst: Instance, cfg: RuntimeInstance): void {
    const before = inst.cfg.trackInterfaces
    inst.reconfigure(cfg)
    const names = new Set([...before, ...cfg.trackInterfaces].map((t) => t.name))
    for (const name of names) {
      const t = cfg.trackInterfaces.find((x) => x.name === name)
      // down or missing counts as down, as at creation
      const down = t !== undefined && !linkIsUp(this.net?.linkByName(name))
      inst.setFault(`track:${name}`, down && t.weight === 0)
      inst.setDelta(`track:${name}`, down && t.weight !== 0 ? t.weight : 0)
    }
  }

  /** A reload: the plan of reload.ts carried out; unchanged instances are not touched at all. */
  private async update(list: RuntimeInstance[], groups: SyncGroup[]): Promise<UpdateReport> {
    await this.starting
    const n = this.net
    if (this.shuttingDown || !n) throw new Error('the VRRP worker is stopping')
    const plan = planUpdate(this.configs, list)
    this.configs = list
    this.syncGroups = groups
    const cfgOf = (name: string) => list.find((i) => i.name === name) as RuntimeInstance
    for (const name of plan.removed) await this.removeInstance(name)
    for (const name of plan.changed) {
      const inst = this.byName(name)
      if (plan.modes[name] === 'in_place' && inst) {
        this.log('info', 'instance reconfigured in place', { vrrp: name })
        this.reconfigureInstance(inst, cfgOf(name))
      } else {
        if (inst) this.log('info', 'instance restarted: its identity changed', { vrrp: name })
        await this.removeInstance(name)
        await this.createAndStart(n, cfgOf(name))
      }
    }
    for (const name of plan.added) await this.createAndStart(n, cfgOf(name))
    this.syncFaults()
    const { modes: _modes, ...report } = plan
    return report
  }

  private externalOf(name: string) {
    let e = this.external.get(name)
    if (!e) {
      e = { deltas: new Map(), faults: new Map() }
      this.external.set(name, e)
    }
    return e
  }

  private applyExternal(i: Instance): void {
    const e = this.external.get(i.cfg.name)
    if (!e) return
    for (const [source, delta] of e.deltas) i.setDelta(source, delta)
    for (const [source, on] of e.faults) i.setFault(source, on)
    if (e.preemptHold) i.setPreemptHold(true)
  }
}
