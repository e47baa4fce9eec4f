// The VRRP worker thread's entry: SCHED_RR for this thread, then every instance's sockets, timers
// and rtnetlink live here, so a stalled main loop cannot delay an advert (design.md). It talks to
// the main thread only through its MessagePort (messages.ts); log records go up, never to a file.

import { performance } from 'node:perf_hooks'
import { parentPort } from 'node:worker_threads'
import { toWireError } from '../errors.js'
import { type Addr, formatAddr } from '../net/addr.js'
import type { Link } from '../net/rtnl-link.js'
import { type DeadlineHandle, DeadlineTimers } from '../sys/deadline-timer.js'
import { setThreadRealtime } from '../sys/sched.js'
import { Instance } from './instance.js'
import type { Counters, Down, LogLevel, RuntimeInstance, SyncGroup, Up } from './messages.js'
import { NetState } from './netstate.js'
import { planUpdate, staleTracking, type UpdateReport } from './reload.js'
import { Announcer, Channel } from './sockets.js'
import { type Member, syncHold, syncMoves } from './sync.js'
import { vmacAddress, vmacName } from './vmac.js'

const port = parentPort
if (!port) throw new Error('src/vrrp/worker.js runs only as a worker thread')

const post = (m: Up) => {
  port.postMessage(m)
  if (m.type === 'transition') {
    moved.push(m)
    if (moved.length === 1) queueMicrotask(syncStep)
  }
}
/** Transitions not yet offered to the sync groups (handled in a microtask: no re-entry into a step). */
const moved: Array<Extract<Up, { type: 'transition' }>> = []
const log = (level: LogLevel, msg: string, fields: Record<string, unknown> = {}) =>
  post({ type: 'log', level, msg, fields })

const instances: Instance[] = []
const channels = new Map<string, Channel>()
const announcer = new Announcer()
let net: NetState | undefined
let shuttingDown = false
let starting: Promise<void> = Promise.resolve()
/** Reloads run one after another. */
let updating: Promise<void> = Promise.resolve()

/**
 * The instances' timers: one timerfd at the earliest deadline, in ns (sys/deadline-timer.ts).
 * setTimeout slept in epoll_wait for whole milliseconds and woke this thread 0.1–0.9 ms after each
 * advert's deadline. No setTimeout fallback: timerfd is in every kernel lvsd runs on (2.6.27+ with
 * these flags), and creating one fails only where the instances' sockets would fail as well.
 */
let deadlines: DeadlineTimers | undefined
const openTimers = (): DeadlineTimers => {
  deadlines ??= new DeadlineTimers()
  return deadlines
}
const timers = {
  set: (fn: () => void, ms: number) => openTimers().set(fn, ms),
  clear: (h: unknown) => deadlines?.clear(h as DeadlineHandle),
}

function linkIsUp(l: Link | undefined): boolean {
  return l?.up === true && l.lowerUp
}

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

function channelFor(cfg: RuntimeInstance, ifname: string, ifindex: number, source: Addr): Channel {
  const u = cfg.unicast
  const key = `${cfg.family}/${ifname}/${u ? `u:${u.source ? formatAddr(u.source) : ''}` : 'm'}`
  let ch = channels.get(key)
  if (!ch) {
    ch = new Channel({
      family: cfg.family,
      ifname,
      ifindex,
      ...(u ? { unicast: { ttl: u.ttl }, ...(u.source ? { source: u.source } : {}) } : { source }),
    })
    const members: Instance[] = []
    channelMembers.set(ch, members)
    const family = cfg.family
    ch.socket.onReceive(
      (m) => {
        for (const i of members) i.receive(m)
      },
      (err) => log('error', 'VRRP socket receive failed', { family, err: String(err) }),
    )
    channels.set(key, ch)
  }
  return ch
}
const channelMembers = new Map<Channel, Instance[]>()

let syncGroups: SyncGroup[] = []

const membersOf = (g: SyncGroup): Instance[] => g.members.map(byName).filter((i): i is Instance => i !== undefined)
const groupOf = (name: string): SyncGroup | undefined => syncGroups.find((g) => g.members.includes(name))
const view = (members: Instance[]): Member[] =>
  members.map((i) => ({ name: i.cfg.name, role: i.role, wantsMaster: i.wantsMaster }))

/** keepalived's sync group rule for FAULT: one member's own fault puts every member in FAULT. */
function syncFaults(): void {
  for (const i of instances) {
    const g = groupOf(i.cfg.name)
    // a reload may have moved the instance out of a group: its old group's fault goes with it
    for (const src of i.syncFaultSources()) if (src !== `sync:${g?.name}`) i.setFault(src, false)
    if (!g) continue
    // only another member's fault counts, or a member would hold itself in FAULT for ever
    i.setFault(
      `sync:${g.name}`,
      membersOf(g).some((o) => o !== i && o.ownFault),
    )
  }
}

/** Members follow a partner into and out of MASTER (sync.ts), then FAULT is shared. */
function syncStep(): void {
  for (const t of moved.splice(0)) {
    const g = groupOf(t.instance)
    if (!g) continue
    for (const m of syncMoves(view(membersOf(g)), t)) byName(m.instance)?.sync(m.to)
  }
  syncFaults()
}

function syncHoldOf(name: string): boolean {
  const g = groupOf(name)
  return g !== undefined && syncHold(view(membersOf(g)), name)
}

/** Instances whose interface or source address does not exist yet; retried on link/address events. */
const waiting = new Map<string, { cfg: RuntimeInstance; reason: string }>()

/** The instances the main thread asked for last (start or update), in its order. */
let configs: RuntimeInstance[] = []

async function start(list: RuntimeInstance[], rtPriority: number): Promise<void> {
  configs = list
  // opened before anything else, so a failure is the start's error and not an instance's
  openTimers()
  if (rtPriority > 0) {
    const r = setThreadRealtime(rtPriority)
    post({
      type: 'ready',
      realtime: r.ok
        ? { ok: true, tid: r.tid, priority: r.priority }
        : { ok: false, tid: r.tid, priority: 0, reason: r.reason },
    })
  } else post({ type: 'ready', realtime: { ok: false, tid: 0, priority: 0, reason: 'rt_priority 0' } })
  const n = await NetState.open({
    link: (l) => {
      for (const i of instances) applyLink(i, l)
      retryWaiting()
    },
    addressAdded: () => retryWaiting(),
    addressDeleted: (ifindex, addr) => {
      for (const i of instances) i.addressDeleted(ifindex, addr)
    },
    error: (msg, fields) => log('error', msg, fields),
  })
  net = n
  for (const cfg of list) await createAndStart(n, cfg)
}

function retryWaiting(): void {
  if (!net || shuttingDown) return
  for (const { cfg } of [...waiting.values()]) void createAndStart(net, cfg)
}

/** Creates and starts an instance, or parks it (logged once) until its interface and source exist. */
async function createAndStart(n: NetState, cfg: RuntimeInstance): Promise<void> {
  if (byName(cfg.name) || creating.has(cfg.name) || shuttingDown) return
  const p = create(n, cfg)
    .catch((err) => log('error', 'instance could not be created', { vrrp: cfg.name, err: String(err) }))
    .finally(() => creating.delete(cfg.name))
  creating.set(cfg.name, p)
  await p
}

/** Creations under way, so a reload that removes the instance waits for it first. */
const creating = new Map<string, Promise<void>>()
/** Virtual-MAC interfaces this run created, by instance, deleted when it stops (as keepalived). */
const vmacs = new Map<string, number>()

async function create(n: NetState, cfg: RuntimeInstance): Promise<void> {
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
    if (waiting.get(cfg.name)?.reason !== reason) {
      log(dad ? 'info' : 'warn', 'instance waits for its interface and source address', { vrrp: cfg.name, reason })
    }
    waiting.set(cfg.name, { cfg, reason })
    return
  }
  waiting.delete(cfg.name)
  let ifname = cfg.interface
  let ifindex = link.index
  if (cfg.virtualMac) {
    ifname = vmacName(cfg.vrid, cfg.family)
    ifindex = await n.createVmac(ifname, link, vmacAddress(cfg.vrid, cfg.family), cfg.family)
    vmacs.set(cfg.name, ifindex)
  }
  const channel = channelFor(cfg, ifname, ifindex, primary)
  const inst = new Instance(cfg, {
    now: () => performance.now(),
    wall: () => performance.timeOrigin + performance.now(),
    net: n,
    announcer,
    channel,
    ifindex,
    ...(ifindex !== link.index ? { parentIfindex: link.index } : {}),
    primary,
    timers,
    syncHold: () => syncHoldOf(cfg.name),
    post,
    log,
  })
  channelMembers.get(channel)?.push(inst)
  instances.push(inst)
  log('info', 'instance configured', {
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
  applyExternal(inst)
  await inst.start()
}

function counters(): Record<string, Counters> {
  const out: Record<string, Counters> = {}
  for (const i of instances) out[i.cfg.name] = { ...i.counters, drops: { ...i.counters.drops } }
  return out
}

async function shutdown(): Promise<void> {
  if (shuttingDown) return
  shuttingDown = true
  // a shutdown racing the start-up waits for it, so no instance is created after the resignations
  await starting.catch(() => {})
  await Promise.all(instances.map((i) => i.shutdown()))
  post({ type: 'counters', counters: counters() })
  for (const c of channels.values()) c.close()
  for (const v of vmacs.values())
    await net?.deleteLink(v).catch((err) => log('warn', 'macvlan not deleted', { err: String(err) }))
  announcer.close()
  net?.close()
  deadlines?.close()
  post({ type: 'stopped' })
}

const byName = (name: string) => instances.find((i) => i.cfg.name === name)

/** Stops one instance as a shutdown would (a master resigns, VIPs go) and frees what only it used. */
async function removeInstance(name: string): Promise<void> {
  waiting.delete(name)
  await creating.get(name)
  const inst = byName(name)
  if (!inst) return
  await inst.shutdown()
  instances.splice(instances.indexOf(inst), 1)
  for (const [key, ch] of channels) {
    const members = channelMembers.get(ch) ?? []
    if (!members.includes(inst)) continue
    members.splice(members.indexOf(inst), 1)
    if (members.length > 0) continue
    ch.close()
    channels.delete(key)
    channelMembers.delete(ch)
  }
  const vmac = vmacs.get(name)
  if (vmac !== undefined) {
    vmacs.delete(name)
    await net?.deleteLink(vmac).catch((err) => log('warn', 'macvlan not deleted', { vrrp: name, err: String(err) }))
  }
}

/** Down or missing counts as down, as at creation. */
function trackDown(name: string): boolean {
  return !linkIsUp(net?.linkByName(name))
}

/** New tunables in place; tracked interfaces whose weight changed or that came or went are re-applied. */
function reconfigureInstance(inst: Instance, cfg: RuntimeInstance): void {
  const before = inst.cfg.trackInterfaces
  inst.reconfigure(cfg)
  const names = new Set([...before, ...cfg.trackInterfaces].map((t) => t.name))
  for (const name of names) {
    const t = cfg.trackInterfaces.find((x) => x.name === name)
    const down = t !== undefined && trackDown(name)
    inst.setFault(`track:${name}`, down && t.weight === 0)
    inst.setDelta(`track:${name}`, down && t.weight !== 0 ? t.weight : 0)
  }
}

/** A reload: the plan of reload.ts carried out; unchanged instances are not touched at all. */
async function update(list: RuntimeInstance[], groups: SyncGroup[]): Promise<UpdateReport> {
  await starting
  if (shuttingDown || !net) throw new Error('the VRRP worker is stopping')
  const n = net
  const plan = planUpdate(configs, list)
  configs = list
  syncGroups = groups
  const cfgOf = (name: string) => list.find((i) => i.name === name) as RuntimeInstance
  for (const name of plan.removed) await removeInstance(name)
  for (const name of plan.changed) {
    const inst = byName(name)
    if (plan.modes[name] === 'in_place' && inst) {
      log('info', 'instance reconfigured in place', { vrrp: name })
      reconfigureInstance(inst, cfgOf(name))
    } else {
      if (inst) log('info', 'instance restarted: its identity changed', { vrrp: name })
      await removeInstance(name)
      await createAndStart(n, cfgOf(name))
    }
  }
  for (const name of plan.added) await createAndStart(n, cfgOf(name))
  syncFaults()
  const { modes: _modes, ...report } = plan
  return report
}

/** Inputs from the main thread's trackers, kept so an instance created later starts with them. */
const external = new Map<string, { deltas: Map<string, number>; faults: Map<string, boolean> }>()
function externalOf(name: string) {
  let e = external.get(name)
  if (!e) {
    e = { deltas: new Map(), faults: new Map() }
    external.set(name, e)
  }
  return e
}
function applyExternal(i: Instance): void {
  const e = external.get(i.cfg.name)
  if (!e) return
  for (const [source, delta] of e.deltas) i.setDelta(source, delta)
  for (const [source, on] of e.faults) i.setFault(source, on)
}

port.on('message', (m: Down) => {
  switch (m.type) {
    case 'start':
      syncGroups = m.syncGroups ?? []
      starting = start(m.instances, m.rtPriority)
      starting.catch((err) => {
        post({ type: 'error', error: toWireError(err) })
      })
      return
    case 'priority':
      externalOf(m.instance).deltas.set(m.source, m.delta)
      byName(m.instance)?.setDelta(m.source, m.delta)
      return
    case 'fault':
      externalOf(m.instance).faults.set(m.source, m.on)
      byName(m.instance)?.setFault(m.source, m.on)
      return
    case 'update': {
      const id = m.id
      updating = updating
        .then(() => update(m.instances, m.syncGroups))
        .then(
          (report) => post({ type: 'updated', id, report }),
          (err) => post({ type: 'updated', id, error: toWireError(err) }),
        )
      return
    }
    case 'tracked':
      for (const st of staleTracking(external, m.sources)) {
        const e = externalOf(st.instance)
        if (st.kind === 'delta') {
          e.deltas.delete(st.source)
          byName(st.instance)?.setDelta(st.source, 0)
        } else {
          e.faults.delete(st.source)
          byName(st.instance)?.setFault(st.source, false)
        }
      }
      return
    case 'counters':
      post({ type: 'counters', counters: counters() })
      return
    case 'shutdown':
      shutdown().catch((err) => post({ type: 'error', error: toWireError(err) }))
      return
  }
})
