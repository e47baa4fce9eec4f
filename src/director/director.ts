// The director: config → (VRRP worker, health scheduler) → desired IPVS table → reconciler → kernel.
// Both directors keep the table programmed (as keepalived does), so a takeover only moves the VIP;
// the kernel sync daemon follows the VRRP instance named in ipvs.sync. A reload applies only the
// difference: the worker keeps unchanged instances, the scheduler keeps unchanged servers' health,
// and the reconciler sends only the changed IPVS operations. Events are logged by their subscriber
// (src/api/event-log.ts); this file logs only what has no event.
import type { Config } from '../config/types.js'
import { LvsdError } from '../errors.js'
import { EventBus, type IpvsCause } from '../events.js'
import type { IpvsClient } from '../ipvs/client.js'
import type { DriftTiming } from '../ipvs/reconciler.js'
import type { SyncRole } from '../ipvs/syncd.js'
import type { Logger } from '../log.js'
import { type Prefix, sameAddr } from '../net/addr.js'
import { opKey } from '../peer/operator-state.js'
import { describeResult, type ProgramResult } from '../sys/program.js'
import type { WorkerPort } from '../vrrp/main/runtime.js'
import type { Counters } from '../vrrp/messages.js'
import { configChanges } from './config-changes.js'
import { DesiredTable, followedInstance } from './desired-table.js'
import type { DoctorReport } from './doctor.js'
import { HealthSide } from './health-side.js'
import { policyWarnings, serverId } from './health-specs.js'
import { HeldVips } from './held-vips.js'
import { IpvsSide, needsIpvs } from './ipvs-side.js'
import { type PeerSide, peerHooks } from './peer-director.js'
import { NO_PROGRAM_USERS, type ProgramUsers, resolveProgramUsers } from './program-users.js'
import { ServerBook } from './servers.js'
import { statusOf } from './status.js'
import type {
  CheckCounters,
  ConfigInfo,
  Director,
  InstanceStatus,
  ReloadResult,
  ServerRef,
  ServerStatus,
  Status,
} from './types.js'
import { unsupported } from './vrrp-instances.js'
import { VrrpSide } from './vrrp-side.js'

/** A loaded configuration and where it came from. */
export interface LoadedConfig {
  config: Config
  info: ConfigInfo
}

export type LoadConfig = () => Promise<
  | { ok: true; loaded: LoadedConfig; warnings: string[] }
  /** `text`: the errors as `file:line:col path: message` lines, when the file was parsed. */
  | { ok: false; info: ConfigInfo; errors: ReloadError[]; text?: string[] }
>
type ReloadError = NonNullable<ReloadResult['errors']>[number]

export interface DirectorOptions {
  log: Logger
  version: string
  /** Reads and validates the configuration file again (reload). */
  load: LoadConfig
  /** Opens the IPVS client (the VM tier and tests inject one bound to a namespace). */
  connectIpvs: () => Promise<IpvsClient>
  /** Drift re-read period of the reconciler, ms, over the config's ipvs.drift.interval (tests). */
  driftIntervalMs?: number
  /** Kernel counters older than this are read again on refresh (default 1000 ms). */
  statsMaxAgeMs?: number
  /** Where lvsd records the IPVS services it owns across restarts (src/director/owned-file.ts); none in tests. */
  ownedFile?: string
  /** Where lvsd records the VIPs it holds as master (src/director/held-vips.ts); none in unit tests. */
  heldVipsFile?: string
  /** The VRRP worker, instead of a thread running src/vrrp/worker/worker.js (unit tests run it in-process). */
  vrrpWorker?: () => WorkerPort
}

export class LvsDirector implements Director {
  readonly events = new EventBus()
  private config: Config
  private info: ConfigInfo
  private readonly startedAt = Date.now()
  private readonly log: Logger
  private readonly vrrp: VrrpSide
  private readonly book = new ServerBook()
  private readonly health: HealthSide
  private readonly ipvs: IpvsSide
  /** The table lvsd wants, and each service's quorum judged on the way. */
  private readonly wanted: DesiredTable
  private users: ProgramUsers = NO_PROGRAM_USERS
  private readonly held: HeldVips | undefined
  private vrrpCounters: Record<string, Counters> | undefined
  private reloading: Promise<ReloadResult> | undefined
  /** The channel to the other director (src/director/peer-side.ts); absent without `peer:`. */
  private peer: PeerSide | undefined
  /** Saved operator state being applied at start: into the book only, the first pass follows. */
  private restoring = false
  private stopping: Promise<void> | undefined

  private constructor(
    loaded: LoadedConfig,
    private readonly opts: DirectorOptions,
  ) {
    this.config = loaded.config
    this.info = loaded.info
    this.log = opts.log
    this.wanted = new DesiredTable({
      config: () => this.config,
      users: () => this.users,
      book: this.book,
      health: (id) => this.health.state(id),
      events: this.events,
      log: this.log,
      holdPreemption: (instance, held) => this.vrrp.holdPreemption(instance, held),
      programFailed: (owner, argv, r) => this.programFailed('quorum', owner, argv, r),
    })
    this.health = new HealthSide({
      log: this.log,
      events: this.events,
      book: this.book,
      onChange: () => this.applySoon('health'),
    })
    this.ipvs = new IpvsSide({
      log: this.log,
      events: this.events,
      connectIpvs: opts.connectIpvs,
      driftIntervalMs: opts.driftIntervalMs,
      ownedFile: opts.ownedFile,
      statsMaxAgeMs: opts.statsMaxAgeMs,
    })
    if (opts.heldVipsFile)
      this.held = new HeldVips(opts.heldVipsFile, this.config.control.socket, (err) =>
        this.log.warn({ file: opts.heldVipsFile, err: err.message }, 'cannot record the VIPs held'),
      )
    this.vrrp = new VrrpSide(
      this.log,
      {
        onTransition: (t) => {
          if (t.to === 'MASTER' || t.from === 'MASTER') this.held?.set(t.instance, this.heldOf(t.instance, t.to))
          this.events.publish('vrrp.transition', {
            instance: t.instance,
            from: t.from,
            to: t.to,
            why: t.why,
            at: t.at,
            priority: t.priority,
          })
          void this.followSync()
        },
        onFatal: (reason) => this.onFatal(reason),
        onProgramFailed: (role, owner, argv, r) => this.programFailed(role, owner, argv, r),
        onDrop: (instance, reason, from) =>
          this.events.publish('vrrp.drop', { instance, reason, ...(from === undefined ? {} : { from }) }),
        onLate: (instance, lateMs) => this.events.publish('vrrp.advert_late', { instance, lateMs }),
        onPriority: (m) => this.events.publish('vrrp.priority', m),
      },
      this.config,
      opts.vrrpWorker,
    )
  }

  /** Starts everything the configuration asks for; rejects (having undone what started) when IPVS is needed but absent. */
  static async start(loaded: LoadedConfig, opts: DirectorOptions): Promise<LvsDirector> {
    const d = new LvsDirector(loaded, opts)
    d.events.publish('daemon.state', { state: 'starting' })
    try {
      await d.startParts()
    } catch (e) {
      await d.stop('start failed')
      throw e
    }
    return d
  }

  private async startParts(): Promise<void> {
    const c = this.config
    for (const line of [...unsupported(c), ...policyWarnings(c)]) this.log.warn({ unsupported: true }, line)
    this.book.sync(c)
    this.users = await resolveProgramUsers(c)
    if (this.users.default)
      this.log.info({ user: this.users.default.name, uid: this.users.default.uid }, 'programs run as')
    if (needsIpvs(c)) await this.ipvs.open(c)
    // the saved operator state (drains, weights) goes into the book before the health scheduler exists
    // and before any pass: no pass (a health result's included) may program the kernel without it
    if (c.peer) this.peer = await this.startPeer(c, c.peer)
    this.restoring = true
    await this.peer?.applySaved(['drain', 'weight'])
    this.restoring = false
    await this.ipvs.applySettings(c, () => this.syncRole())
    await this.health.schedule(c, this.users)
    if (this.ipvs.opened) {
      await this.applyTable('config')
      this.ipvs.startDrift(c)
    }
    await this.vrrp.start(c, this.users)
    await this.peer?.applySaved(['release'])
    await this.peer?.open()
  }

  private async startPeer(c: Config, p: NonNullable<Config['peer']>): Promise<PeerSide> {
    const { PeerSide } = await import('./peer-side.js')
    return new PeerSide(p, c.node, this.opts.version, this.log, peerHooks(this.peerAccess()), c)
  }

  /** What the peer side may read and do here (src/director/peer-director.ts). */
  private peerAccess() {
    return {
      events: this.events,
      config: () => this.config,
      book: this.book,
      health: (id: string) => this.health.state(id),
      records: this.vrrp.records,
      syncRole: () => this.ipvs.syncRole,
      kernel: () => this.ipvs.kernel,
      refresh: () => this.refresh(),
      drain: (id: string, on: boolean) => this.drainId(id, on),
      weight: (id: string, w: number | null) => this.weightId(id, w),
      release: (name: string, on: boolean) => {
        if (this.vrrp.records.has(name)) this.vrrp.setReleased(name, on)
      },
    }
  }

  /** The sync role from the followed instance: master while MASTER, backup otherwise. */
  private syncRole(): SyncRole {
    const s = this.config.ipvs.sync
    if (!s) return 'none'
    const follow = followedInstance(this.config, s.follow)
    return follow !== undefined && this.vrrp.records.get(follow)?.state === 'MASTER' ? 'master' : 'backup'
  }

  private async followSync(): Promise<void> {
    await this.ipvs.followSync(this.syncRole())
  }

  /** The drift loop's timing (for the metrics), while lvsd programs IPVS. */
  get drift(): DriftTiming | undefined {
    return this.ipvs.drift
  }

  /** The health scheduler's counters (for the metrics), once some real server has checks. */
  get checks(): CheckCounters | undefined {
    return this.health.stats
  }

  // ---- IPVS table ----

  private programFailed(
    role: 'notify' | 'track' | 'quorum',
    owner: string,
    argv: readonly string[],
    r: Exclude<ProgramResult, { kind: 'exit'; code: 0 }>,
  ): void {
    this.events.publish('program.failed', {
      role,
      owner,
      program: argv[0] ?? '',
      reason: r.kind,
      detail: describeResult(argv[0] ?? '', r),
    })
  }

  /** Coalesces bursts (many health transitions at once) into one pass. */
  private applySoon(cause: IpvsCause): void {
    if (!this.stopping) this.ipvs.applySoon(cause, this.wanted.next)
  }

  private async applyTable(cause: IpvsCause): Promise<void> {
    await this.ipvs.apply(cause, this.wanted.next)
  }

  /** The VIPs an instance holds while MASTER (none for an address owner: they are its own addresses). */
  private heldOf(instance: string, role: string): { dev: string; prefix: Prefix }[] | undefined {
    const i = this.config.vrrp.instances.find((x) => x.name === instance)
    if (role !== 'MASTER' || !i || i.address_owner) return undefined
    return [...i.vips, ...i.excluded_vips].map((v) => ({ dev: v.dev ?? i.interface, prefix: v.address }))
  }

  /** Called when a part the daemon cannot run without has died: stop and exit non-zero. */
  onFatal: (reason: string) => void = () => {}

  // ---- reload ----

  reload(): Promise<ReloadResult> {
    if (this.stopping) return Promise.reject(new LvsdError('LVSD_API_CONFLICT', 'lvsd is stopping'))
    this.reloading ??= this.doReload().finally(() => {
      this.reloading = undefined
    })
    return this.reloading
  }

  private async doReload(): Promise<ReloadResult> {
    const t0 = performance.now()
    this.events.publish('daemon.state', { state: 'reloading' })
    const r = await this.opts.load()
    if (!r.ok) {
      const lines = r.text ?? r.errors.map((e) => e.message)
      return this.refuseReload(r.info.source, r.errors, lines, t0)
    }
    const before = this.config
    const after = r.loaded.config
    // prepare: what can fail, without touching the running state (a refusal keeps every part on `before`)
    let users: ProgramUsers
    try {
      users = await resolveProgramUsers(after)
      if (!this.ipvs.opened && needsIpvs(after)) await this.ipvs.open(after)
    } catch (e) {
      const err = e as Error & { code?: string }
      const issue = { path: '', message: err.message }
      return this.refuseReload(r.loaded.info.source, [issue], [`${err.code ?? 'error'}: ${err.message}`], t0)
    }
    // commit
    for (const w of r.warnings) this.log.warn({ config: true }, w)
    const changes = configChanges(before, after)
    this.config = after
    this.info = r.loaded.info
    this.users = users
    for (const line of [...unsupported(after), ...policyWarnings(after)]) this.log.warn({ unsupported: true }, line)
    this.book.sync(after)
    await this.ipvs.applySettings(after, () => this.syncRole())
    await this.health.schedule(after, users)
    this.wanted.keepOnly(new Set(after.virtual_services.map((s) => s.name)))
    await this.vrrp.reload(before, after, users)
    await this.reloadPeer(before, after)
    await this.applyTable('config')
    this.ipvs.startDrift(after)
    const ms = performance.now() - t0
    this.events.publish('config.reload', { ok: true, source: this.info.source, hash: this.info.hash, changes, ms })
    this.events.publish('daemon.state', { state: 'ready', reason: 'reloaded' })
    return { ok: true, config: this.info, changes }
  }

  private async reloadPeer(before: Config, after: Config): Promise<void> {
    try {
      if (this.peer && after.peer) await this.peer.reload(before, after, after.peer)
      else if (this.peer) {
        this.peer.close()
        this.peer = undefined
      } else if (after.peer) {
        this.peer = await this.startPeer(after, after.peer)
        await this.peer.applySaved(['drain', 'weight', 'release'])
        await this.peer.open()
      }
    } catch (e) {
      // the file was valid; the key or the socket was not: the rest of the reload stands, the log says why
      this.log.error({ err: String(e), code: (e as { code?: string }).code }, 'peer channel not (re)started')
    }
  }

  private refuseReload(
    source: string,
    errors: NonNullable<ReloadResult['errors']>,
    lines: string[],
    t0: number,
  ): ReloadResult {
    const none = { added: [], removed: [], changed: [] }
    for (const line of lines) this.log.error({ config: source }, `reload refused: ${line}`)
    this.events.publish('config.reload', {
      ok: false,
      source,
      hash: this.info.hash,
      errors,
      changes: none,
      ms: performance.now() - t0,
    })
    this.events.publish('daemon.state', { state: 'ready', reason: 'reload refused' })
    return { ok: false, config: this.info, errors, changes: none }
  }

  // ---- operator actions ----

  private findServer(ref: ServerRef): { id: string; svc: Config['virtual_services'][number] } {
    const svc = this.config.virtual_services.find((s) => s.name === ref.service)
    if (!svc) throw new LvsdError('LVSD_API_UNKNOWN_SERVICE', `no service ${ref.service}`, { service: ref.service })
    const rs = svc.real_servers.find((r) => sameAddr(r.address, ref.addr) && r.port === ref.port)
    if (!rs)
      throw new LvsdError('LVSD_API_UNKNOWN_SERVER', `service ${ref.service} has no such real server`, {
        service: ref.service,
      })
    return { id: serverId(svc.name, rs), svc }
  }

  private serverStatus(id: string): ServerStatus {
    const found = this.getStatus()
      .services.flatMap((s) => s.servers.map((r) => ({ s, r })))
      .find(({ s, r }) => `${s.name}/${r.server}` === id)
    if (!found) throw new LvsdError('LVSD_API_UNKNOWN_SERVER', `no server ${id}`)
    return found.r
  }

  async drain(ref: ServerRef): Promise<ServerStatus> {
    return this.setDrain(ref, true)
  }

  async undrain(ref: ServerRef): Promise<ServerStatus> {
    return this.setDrain(ref, false)
  }

  private async setDrain(ref: ServerRef, on: boolean): Promise<ServerStatus> {
    const { id } = this.findServer(ref)
    await this.drainId(id, on)
    this.peer?.local(opKey('drain', id), on)
    return this.serverStatus(id)
  }

  /** Drains (or undrains) a configured server by id; the API and the peer channel both come here. */
  private async drainId(id: string, on: boolean): Promise<void> {
    const rec = this.book.get(id)
    if (rec && rec.drained !== on) {
      rec.drained = on
      this.health.setDrained(id, on)
      if (!this.restoring) await this.applyTable('operator')
    }
  }

  async setWeight(ref: ServerRef, weight: number | null): Promise<ServerStatus> {
    if (weight !== null && (!Number.isInteger(weight) || weight < 0 || weight > 65535))
      throw new LvsdError('LVSD_API_BAD_REQUEST', 'weight must be an integer 0–65535 or null')
    const { id } = this.findServer(ref)
    await this.weightId(id, weight)
    this.peer?.local(opKey('weight', id), weight)
    return this.serverStatus(id)
  }

  private async weightId(id: string, weight: number | null): Promise<void> {
    const rec = this.book.get(id)
    if (rec && rec.operatorWeight !== (weight ?? undefined)) {
      rec.operatorWeight = weight ?? undefined
      if (this.restoring) return // start-up: the scheduler and the first pass come next, with it
      await this.health.schedule(this.config, this.users)
      await this.applyTable('operator')
    }
  }

  async release(name: string): Promise<InstanceStatus> {
    // as documented (docs/api.md): an instance in FAULT has no mastership to give up
    if (this.vrrp.records.get(name)?.state === 'FAULT')
      throw new LvsdError('LVSD_API_CONFLICT', `${name} is in FAULT`, { instance: name })
    this.vrrp.setReleased(name, true)
    this.peer?.local(opKey('release', name, this.config.node), true)
    return this.instanceStatus(name)
  }

  async resume(name: string): Promise<InstanceStatus> {
    this.vrrp.setReleased(name, false)
    this.peer?.local(opKey('release', name, this.config.node), false)
    return this.instanceStatus(name)
  }

  private instanceStatus(name: string): InstanceStatus {
    const i = this.getStatus().instances.find((x) => x.name === name)
    if (!i) throw new LvsdError('LVSD_API_UNKNOWN_INSTANCE', `no VRRP instance ${name}`, { instance: name })
    return i
  }

  // ---- doctor (docs/realserver.md) ----

  /** The last doctor run over every service: the metric lvsd_doctor_findings reports it. */
  lastDoctor: DoctorReport | undefined

  async doctor(service?: string): Promise<DoctorReport> {
    // loaded on first use: the probes (raw sockets, rtnetlink, crypto) cost ~0.7 MiB of heap that a
    // daemon nobody runs `lvsctl doctor` against never needs (docs/benchmarks.md, "Idle cost")
    const [{ runDoctor }, { probeDr }, { probeNat, probeTun }] = await Promise.all([
      import('./doctor.js'),
      import('./doctor-probe.js'),
      import('./doctor-probe-routes.js'),
    ])
    const r = await runDoctor(this.config, service, {
      dr: (t) => probeDr(t),
      tun: (t) => probeTun(t),
      nat: (t) => probeNat(t),
    })
    if (service === undefined) this.lastDoctor = r
    return r
  }

  // ---- status ----

  getConfig(): ConfigInfo {
    return { ...this.info }
  }

  getStatus(): Status {
    const s = statusOf({
      config: this.config,
      info: this.info,
      version: this.opts.version,
      startedAt: this.startedAt,
      instances: this.vrrp.records,
      vrrpCounters: this.vrrpCounters,
      book: this.book,
      health: (id) => this.health.state(id),
      quorum: this.wanted.quorumView,
      kernel: this.ipvs.kernel,
    })
    return this.peer ? this.peer.decorate(s) : s
  }

  async refresh(): Promise<void> {
    await Promise.all([
      this.vrrp.counters().then((c) => {
        if (c) this.vrrpCounters = c
      }),
      this.ipvs.refresh(this.config),
    ])
  }

  // ---- stop ----

  /**
   * Stops checks and the drift loop, resigns every master (priority 0, VIPs removed), stops the sync
   * daemon, and keeps or removes lvsd's IPVS services as ipvs.on_shutdown says.
   */
  stop(reason: string): Promise<void> {
    this.stopping ??= (async () => {
      this.events.publish('daemon.state', { state: 'stopping', reason })
      this.log.info({ reason }, 'stopping: masters resign with priority 0 and remove their VIPs')
      this.health.stop()
      this.peer?.close()
      // no new drift pass; one in flight (seconds for a large table, more under load) finishes while
      // the masters resign: waiting for it first delayed the priority-0 advert by 1.4-4 s in the drills
      const drift = this.ipvs.stopDrift()
      const counters = await this.vrrp.stop()
      await drift
      this.held?.clear()
      if (counters)
        for (const [name, c] of Object.entries(counters)) this.log.info({ vrrp: name, counters: c }, 'counters')
      await this.ipvs.close(this.config.ipvs.on_shutdown === 'flush')
      this.log.info('stopped')
    })()
    return this.stopping
  }
}
