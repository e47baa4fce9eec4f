// The director: config → (VRRP worker, health scheduler) → desired IPVS table → reconciler → kernel.
// Both directors keep the table programmed (as keepalived does), so a takeover only moves the VIP;
// the kernel sync daemon follows the VRRP instance named in ipvs.sync. A reload applies only the
// difference: the worker keeps unchanged instances, the scheduler keeps unchanged servers' health,
// and the reconciler sends only the changed IPVS operations. Events are logged by their subscriber
// (src/api/event-log.ts); this file logs only what has no event.
import type { Config } from '../config/types.js'
import { isLvsdError, LvsdError } from '../errors.js'
import { EventBus, type IpvsCause } from '../events.js'
import type { Scheduler } from '../health/scheduler.js'
import type { Transition } from '../health/types.js'
import type { IpvsClient } from '../ipvs/client.js'
import type { ServiceState } from '../ipvs/model.js'
import type { OpEvent, Reconciler } from '../ipvs/reconciler.js'
import type { SyncDaemons, SyncRole } from '../ipvs/syncd.js'
import type { Logger } from '../log.js'
import { type Prefix, sameAddr } from '../net/addr.js'
import { describeResult, type ProgramResult, runProgram } from '../sys/program.js'
import { lookupUser } from '../sys/users.js'
import type { Counters } from '../vrrp/messages.js'
import { configChanges, stableJson } from './config-changes.js'
import { type DoctorReport, runDoctor } from './doctor.js'
import { probeDr } from './doctor-probe.js'
import { probeNat, probeTun } from './doctor-probe-routes.js'
import { execUsers, policyWarnings, serverId, serverSpec } from './health-specs.js'
import { HeldVips } from './held-vips.js'
import { aliveWeight, serviceTable } from './ipvs-table.js'
import { readOwned, writeOwned } from './owned-file.js'
import { nextQuorum } from './quorum.js'
import { ServerBook } from './servers.js'
import { type KernelCounters, readKernelCounters, statusOf } from './status.js'
import type { ConfigInfo, Director, InstanceStatus, ReloadResult, ServerRef, ServerStatus, Status } from './types.js'
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
  /** Drift re-read period of the reconciler, ms (default 5000). */
  driftIntervalMs?: number
  /** Kernel counters older than this are read again on refresh (default 1000 ms). */
  statsMaxAgeMs?: number
  /** Where lvsd records the IPVS services it owns across restarts (src/director/owned-file.ts); none in tests. */
  ownedFile?: string
  /** Where lvsd records the VIPs it holds as master (src/director/held-vips.ts); none in unit tests. */
  heldVipsFile?: string
}

/** Uses IPVS at all: services to program, a sync daemon to run or timeouts to set. */
function needsIpvs(c: Config): boolean {
  const t = c.ipvs.timeouts
  return c.virtual_services.length > 0 || c.ipvs.sync !== undefined || !!(t.tcp || t.tcp_fin || t.udp)
}

export class LvsDirector implements Director {
  readonly events = new EventBus()
  private config: Config
  private info: ConfigInfo
  private readonly startedAt = Date.now()
  private readonly log: Logger
  private readonly vrrp: VrrpSide
  /** Created with the first real server: a VRRP-only daemon never loads the health code. */
  private scheduler: Scheduler | undefined
  private ipvs: IpvsClient | undefined
  private reconciler: Reconciler | undefined
  private syncd: SyncDaemons | undefined
  private syncKey = ''
  private syncModule: typeof import('../ipvs/syncd.js') | undefined
  private readonly book = new ServerBook()
  private readonly quorum = new Map<string, boolean>()
  private uids = new Map<string, { uid: number; gid: number }>()
  private readonly held: HeldVips | undefined
  /** Causes of queued config passes, oldest first: the reconciler runs passes in call order. */
  private readonly passCauses: IpvsCause[] = []
  private applyQueued: IpvsCause | undefined
  private kernel: KernelCounters | undefined
  private kernelAt = 0
  private vrrpCounters: Record<string, Counters> | undefined
  private reloading: Promise<ReloadResult> | undefined
  private stopping: Promise<void> | undefined

  private constructor(
    loaded: LoadedConfig,
    private readonly opts: DirectorOptions,
  ) {
    this.config = loaded.config
    this.info = loaded.info
    this.log = opts.log
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
      },
      this.config,
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
    this.uids = await this.resolveUsers(c)
    if (needsIpvs(c)) await this.openIpvs()
    await this.applyKernelSettings(c)
    await this.scheduleChecks(c)
    if (this.reconciler) {
      await this.applyTable('config')
      this.reconciler.start()
    }
    await this.vrrp.start(c)
  }

  private async openIpvs(): Promise<void> {
    // loaded here, not at start-up: a VRRP-only daemon never needs the IPVS code
    const [{ Reconciler }, syncd] = await Promise.all([import('../ipvs/reconciler.js'), import('../ipvs/syncd.js')])
    this.syncModule = syncd
    this.ipvs = await this.opts.connectIpvs()
    const file = this.opts.ownedFile
    const owned = file ? readOwned(file) : []
    if (owned.length > 0) this.log.info({ owned: owned.length, file }, 'IPVS services owned by an earlier run')
    let ownedKey = stableJson([...owned].sort())
    this.reconciler = new Reconciler(this.ipvs, {
      owned,
      intervalMs: this.opts.driftIntervalMs ?? 5000,
      onEvent: (e) => this.onIpvsOp(e),
      onPass: (p) => {
        if (p.cause === 'config') this.passCauses.shift()
        const now = this.reconciler ? stableJson([...this.reconciler.owned].sort()) : ownedKey
        if (file && now !== ownedKey && this.reconciler) {
          ownedKey = now
          try {
            writeOwned(file, this.reconciler.owned)
          } catch (e) {
            this.log.error({ file, err: String(e) }, 'cannot record the IPVS services lvsd owns')
          }
        }
        if (p.readError) this.log.error({ err: p.readError.message }, 'IPVS table could not be read')
        else if (p.ops > 0 || p.cause === 'config')
          this.log[p.ops > 0 ? 'info' : 'debug'](
            { cause: p.cause, ops: p.ops, failed: p.failed, requests: p.requests, read: p.read, ms: Math.round(p.ms) },
            'IPVS pass',
          )
      },
    })
  }

  /** uid/gid of every exec check's user; an unknown user is an error, never a fallback to lvsd's own (root). */
  private async resolveUsers(c: Config): Promise<Map<string, { uid: number; gid: number }>> {
    const uids = new Map<string, { uid: number; gid: number }>()
    for (const name of execUsers(c)) {
      const u = await lookupUser(name)
      if (!u) throw new LvsdError('LVSD_CONFIG_INVALID', `exec check user ${name} does not exist`, { user: name })
      uids.set(name, u)
    }
    return uids
  }

  // ---- kernel-wide IPVS settings and the sync daemon ----

  private async applyKernelSettings(c: Config): Promise<void> {
    const ipvs = this.ipvs
    const { ensureTimeouts, SyncDaemons } = this.syncModule ?? {}
    if (!ipvs || !ensureTimeouts || !SyncDaemons) return
    const t = c.ipvs.timeouts
    const want = { tcp: (t.tcp ?? 0) / 1000, tcpFin: (t.tcp_fin ?? 0) / 1000, udp: (t.udp ?? 0) / 1000 }
    if (await ensureTimeouts(ipvs, want)) this.log.info({ timeouts: want }, 'IPVS timeouts set')
    const key = stableJson(c.ipvs.sync ?? null)
    if (key === this.syncKey) return
    const old = this.syncd
    this.syncKey = key
    this.syncd = undefined
    if (old) await old.setRole('none').catch((e) => this.log.error({ err: String(e) }, 'sync daemon stop failed'))
    const s = c.ipvs.sync
    if (!s) return
    this.syncd = new SyncDaemons(
      ipvs,
      {
        ifname: s.interface,
        syncId: s.sync_id,
        group: s.group,
        port: s.port,
        ttl: s.ttl,
        ...(s.maxlen === undefined ? {} : { maxLen: s.maxlen }),
      },
      (a) =>
        this.log[a.ok ? 'info' : 'error'](
          { action: a.action, state: a.state, ...(a.error ? { err: a.error.message } : {}) },
          `IPVS sync daemon ${a.action} ${a.state}`,
        ),
    )
    await this.followSync()
  }

  /** The sync role from the followed instance: master while MASTER, backup otherwise. */
  private syncRole(): SyncRole {
    const s = this.config.ipvs.sync
    if (!s) return 'none'
    const follow =
      s.follow ?? (this.config.vrrp.instances.length === 1 ? this.config.vrrp.instances[0]?.name : undefined)
    return follow !== undefined && this.vrrp.records.get(follow)?.state === 'MASTER' ? 'master' : 'backup'
  }

  private async followSync(): Promise<void> {
    const d = this.syncd
    if (!d) return
    const role = this.syncRole()
    if (d.role === role) return
    await d.setRole(role).catch((e) => this.log.error({ err: String(e), role }, 'sync daemon role change failed'))
  }

  // ---- health ----

  private async scheduleChecks(c: Config): Promise<void> {
    const specs = []
    for (const s of c.virtual_services)
      for (const rs of s.real_servers) {
        const spec = serverSpec(s, rs, this.book.baseWeight(s, rs), this.uids)
        if (spec) specs.push(spec)
      }
    if (!this.scheduler && specs.length === 0) return
    const scheduler = this.scheduler ?? (await this.createScheduler())
    if (this.stopping) return // stopped while the health code loaded: start no checks
    scheduler.set(specs)
    // a server that keeps its id keeps its drain in the reducer; a new one learns it here
    for (const spec of specs) if (this.book.get(spec.id)?.drained) scheduler.drain(spec.id)
  }

  private async createScheduler(): Promise<Scheduler> {
    const { Scheduler } = await import('../health/scheduler.js')
    if (this.scheduler) return this.scheduler
    this.scheduler = new Scheduler({
      onTransition: (t) => this.onHealth(t),
      onResult: (server, check, r) => {
        const rec = this.book.get(server)
        if (rec)
          rec.lastCheck = { ok: r.ok, ms: Math.round(r.ms), at: Date.now(), ...(r.ok ? {} : { detail: r.detail }) }
        const [service, text] = splitServerId(server)
        this.events.publish('health.result', {
          service,
          server: text,
          check,
          ok: r.ok,
          ms: r.ms,
          ...(r.code === undefined ? {} : { code: r.code }),
          ...(r.ok ? {} : { detail: r.detail }),
        })
      },
      onError: (e) => this.log.error({ err: String(e) }, 'health consumer failed'),
    })
    return this.scheduler
  }

  private onHealth(t: Transition): void {
    const rec = this.book.get(t.server)
    const [service, server] = splitServerId(t.server)
    if (t.kind !== 'weight' && rec) rec.healthSince = Date.now()
    if (t.kind !== 'weight') {
      this.events.publish('health.transition', {
        service,
        server,
        up: t.kind === 'up',
        weight: t.weight,
        reason: t.reason,
        latencyMs: Math.round(t.latency ?? 0),
      })
    }
    this.applySoon('health')
  }

  // ---- IPVS table ----

  /** Each service's quorum from its servers' state now; a change is an event and runs quorum_up/quorum_down. */
  private updateQuorum(): void {
    for (const s of this.config.virtual_services) {
      const alive = aliveWeight(this.serversNow(s))
      const was = this.quorum.get(s.name)
      const up = nextQuorum(was, alive, { quorum: s.quorum, hysteresis: s.hysteresis })
      if (was === up) continue
      this.quorum.set(s.name, up)
      if (was !== undefined || !up) this.quorumChanged(s.name, up, alive, s.quorum, up ? s.quorum_up : s.quorum_down)
    }
  }

  private serversNow(s: Config['virtual_services'][number]) {
    return s.real_servers.map((rs) => this.book.now(s, rs, this.scheduler?.state(serverId(s.name, rs))))
  }

  /** The table lvsd wants now: config, health, operator state and quorum in; no side effects. */
  private desired(): ServiceState[] {
    return this.config.virtual_services.map((s) => serviceTable(s, this.serversNow(s), this.quorum.get(s.name) ?? true))
  }

  private quorumChanged(service: string, up: boolean, alive: number, required: number, argv?: string[]): void {
    this.events.publish('quorum.change', { service, up, alive, required })
    if (!argv || argv.length === 0) return
    void runProgram(argv, { timeoutMs: 30_000 }).then((r) => {
      if (r.kind === 'exit' && r.code === 0) return
      this.log.error({ service, argv, err: describeResult(argv[0] ?? '', r) }, 'quorum program failed')
      this.programFailed('quorum', service, argv, r)
    })
  }

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
    if (!this.reconciler || this.stopping) return
    if (this.applyQueued !== undefined) return
    this.applyQueued = cause
    setImmediate(() => {
      const c = this.applyQueued ?? cause
      this.applyQueued = undefined
      void this.applyTable(c).catch((e) => this.log.error({ err: String(e) }, 'IPVS pass failed'))
    })
  }

  private async applyTable(cause: IpvsCause): Promise<void> {
    const r = this.reconciler
    if (!r) return
    this.passCauses.push(cause)
    this.updateQuorum()
    await r.apply(this.desired())
  }

  private onIpvsOp(e: OpEvent): void {
    const cause: IpvsCause = e.cause === 'config' ? (this.passCauses[0] ?? 'config') : 'drift'
    this.events.publish('ipvs.op', {
      op: e.op.op,
      target: e.target,
      ok: e.ok,
      ms: e.ms,
      cause,
      ...(e.error ? { error: { code: e.error.code, message: e.error.message } } : {}),
    })
    if (e.cause === 'drift') {
      const kind = e.op.op.startsWith('add') ? 'missing' : e.op.op.startsWith('del') ? 'unexpected' : 'changed'
      this.events.publish('ipvs.drift', { target: e.target, kind, repaired: e.ok })
    }
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
    let uids: Map<string, { uid: number; gid: number }>
    try {
      uids = await this.resolveUsers(after)
      if (!this.ipvs && needsIpvs(after)) await this.openIpvs()
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
    this.uids = uids
    for (const line of [...unsupported(after), ...policyWarnings(after)]) this.log.warn({ unsupported: true }, line)
    this.book.sync(after)
    await this.applyKernelSettings(after)
    await this.scheduleChecks(after)
    for (const name of [...this.quorum.keys()])
      if (!after.virtual_services.some((s) => s.name === name)) this.quorum.delete(name)
    await this.vrrp.reload(before, after)
    await this.applyTable('config')
    this.reconciler?.start()
    const ms = performance.now() - t0
    this.events.publish('config.reload', { ok: true, source: this.info.source, hash: this.info.hash, changes, ms })
    this.events.publish('daemon.state', { state: 'ready', reason: 'reloaded' })
    return { ok: true, config: this.info, changes }
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
    const rec = this.book.get(id)
    if (rec && rec.drained !== on) {
      rec.drained = on
      if (this.scheduler?.state(id)) {
        if (on) this.scheduler.drain(id)
        else this.scheduler.undrain(id)
      }
      await this.applyTable('operator')
    }
    return this.serverStatus(id)
  }

  async setWeight(ref: ServerRef, weight: number | null): Promise<ServerStatus> {
    if (weight !== null && (!Number.isInteger(weight) || weight < 0 || weight > 65535))
      throw new LvsdError('LVSD_API_BAD_REQUEST', 'weight must be an integer 0–65535 or null')
    const { id } = this.findServer(ref)
    const rec = this.book.get(id)
    if (rec && rec.operatorWeight !== (weight ?? undefined)) {
      rec.operatorWeight = weight ?? undefined
      await this.scheduleChecks(this.config)
      await this.applyTable('operator')
    }
    return this.serverStatus(id)
  }

  async release(name: string): Promise<InstanceStatus> {
    this.vrrp.setReleased(name, true)
    return this.instanceStatus(name)
  }

  async resume(name: string): Promise<InstanceStatus> {
    this.vrrp.setReleased(name, false)
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
    return statusOf({
      config: this.config,
      info: this.info,
      version: this.opts.version,
      startedAt: this.startedAt,
      instances: this.vrrp.records,
      vrrpCounters: this.vrrpCounters,
      book: this.book,
      health: (id) => this.scheduler?.state(id),
      quorum: this.quorum,
      kernel: this.kernel,
    })
  }

  async refresh(): Promise<void> {
    const now = Date.now()
    const tasks: Promise<void>[] = []
    tasks.push(
      this.vrrp.counters().then((c) => {
        if (c) this.vrrpCounters = c
      }),
    )
    if (this.ipvs && now - this.kernelAt >= (this.opts.statsMaxAgeMs ?? 1000)) {
      const ipvs = this.ipvs
      tasks.push(
        readKernelCounters(ipvs, this.config).then(
          (k) => {
            this.kernel = k
            this.kernelAt = Date.now()
          },
          (e) => {
            if (!isLvsdError(e)) throw e
            this.log.warn({ err: e.message }, 'IPVS counters could not be read')
          },
        ),
      )
    }
    await Promise.all(tasks)
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
      this.scheduler?.stop()
      await this.reconciler?.stop()
      const counters = await this.vrrp.stop()
      this.held?.clear()
      if (counters)
        for (const [name, c] of Object.entries(counters)) this.log.info({ vrrp: name, counters: c }, 'counters')
      if (this.syncd)
        await this.syncd.setRole('none').catch((e) => this.log.error({ err: String(e) }, 'sync stop failed'))
      if (this.reconciler && this.config.ipvs.on_shutdown === 'flush') {
        const p = await this.reconciler.apply([])
        this.log.info({ ops: p.ops, failed: p.failed }, 'IPVS services of lvsd removed (on_shutdown: flush)')
      }
      this.ipvs?.close()
      this.log.info('stopped')
    })()
    return this.stopping
  }
}

function splitServerId(id: string): [string, string] {
  const i = id.indexOf('/')
  return [id.slice(0, i), id.slice(i + 1)]
}
