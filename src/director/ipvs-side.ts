// The director's IPVS side: the client and the reconciler (opened with the first service, so a
// VRRP-only daemon never loads the IPVS code), the kernel-wide settings (timeouts, the sync daemon
// and its role), the passes that bring the kernel to the table the director wants, their events,
// the record of the services lvsd owns, and the kernel counters for status.
import type { Config } from '../config/types.js'
import { isLvsdError } from '../errors.js'
import type { EventBus, IpvsCause } from '../events.js'
import type { IpvsClient } from '../ipvs/client.js'
import type { ServiceState } from '../ipvs/model.js'
import type { DriftTiming, OpEvent, Reconciler } from '../ipvs/reconciler.js'
import type { SyncDaemons, SyncRole } from '../ipvs/syncd.js'
import type { Logger } from '../log.js'
import { stableJson } from './config-changes.js'
import { readOwned, writeOwned } from './owned-file.js'
import { type KernelCounters, readKernelCounters } from './status.js'

export interface IpvsSideOptions {
  log: Logger
  events: EventBus
  /** Opens the IPVS client (the VM tier and tests inject one bound to a namespace). */
  connectIpvs: () => Promise<IpvsClient>
  /** Overrides the config's ipvs.drift.interval (tests). */
  driftIntervalMs?: number | undefined
  /** Where lvsd records the IPVS services it owns across restarts; none in tests. */
  ownedFile?: string | undefined
  /** Kernel counters older than this are read again on refresh (default 1000 ms). */
  statsMaxAgeMs?: number | undefined
}

/** Uses IPVS at all: services to program, a sync daemon to run or timeouts to set. */
export function needsIpvs(c: Config): boolean {
  const t = c.ipvs.timeouts
  return c.virtual_services.length > 0 || c.ipvs.sync !== undefined || !!(t.tcp || t.tcp_fin || t.udp)
}

export class IpvsSide {
  private client: IpvsClient | undefined
  private reconciler: Reconciler | undefined
  private syncd: SyncDaemons | undefined
  private syncKey = ''
  private syncModule: typeof import('../ipvs/syncd.js') | undefined
  /** Causes of queued config passes, oldest first: the reconciler runs passes in call order. */
  private readonly passCauses: IpvsCause[] = []
  private applyQueued: IpvsCause | undefined
  private counters: KernelCounters | undefined
  private countersAt = 0
  private stopped = false

  constructor(private readonly opts: IpvsSideOptions) {}

  get opened(): boolean {
    return this.client !== undefined
  }

  get syncRole(): SyncRole {
    return this.syncd?.role ?? 'none'
  }

  /** The drift loop's timing (for the metrics), while lvsd programs IPVS. */
  get drift(): DriftTiming | undefined {
    return this.reconciler?.drift
  }

  get kernel(): KernelCounters | undefined {
    return this.counters
  }

  /** Opens the client and the reconciler; fails (touching nothing) on a kernel without IPVS. */
  async open(c: Config): Promise<void> {
    const [{ Reconciler }, syncd] = await Promise.all([import('../ipvs/reconciler.js'), import('../ipvs/syncd.js')])
    this.syncModule = syncd
    this.client = await this.opts.connectIpvs()
    const { log } = this.opts
    const file = this.opts.ownedFile
    const owned = file ? readOwned(file) : []
    if (owned.length > 0) log.info({ owned: owned.length, file }, 'IPVS services owned by an earlier run')
    let ownedKey = stableJson([...owned].sort())
    this.reconciler = new Reconciler(this.client, {
      owned,
      ...this.driftSettings(c),
      onEvent: (e) => this.onOp(e),
      onPass: (p) => {
        if (p.cause === 'config') this.passCauses.shift()
        const now = this.reconciler ? stableJson([...this.reconciler.owned].sort()) : ownedKey
        if (file && now !== ownedKey && this.reconciler) {
          ownedKey = now
          try {
            writeOwned(file, this.reconciler.owned)
          } catch (e) {
            log.error({ file, err: String(e) }, 'cannot record the IPVS services lvsd owns')
          }
        }
        if (p.readError) log.error({ err: p.readError.message }, 'IPVS table could not be read')
        else if (p.ops > 0 || p.cause === 'config')
          log[p.ops > 0 ? 'info' : 'debug'](
            { cause: p.cause, ops: p.ops, failed: p.failed, requests: p.requests, read: p.read, ms: Math.round(p.ms) },
            'IPVS pass',
          )
      },
    })
  }

  /** The drift loop's settings of a config (the director option overrides the interval). */
  private driftSettings(c: Config): { intervalMs: number; maxDriftShare: number } {
    return {
      intervalMs: this.opts.driftIntervalMs ?? c.ipvs.drift.interval,
      maxDriftShare: c.ipvs.drift.max_cpu_percent / 100,
    }
  }

  /** Starts (or, after a reload, re-times) the drift loop. */
  startDrift(c: Config): void {
    if (!this.reconciler) return
    const d = this.driftSettings(c)
    this.reconciler.setDrift(d.intervalMs, d.maxDriftShare)
    this.reconciler.start()
  }

  // ---- kernel-wide settings and the sync daemon ----

  /** Timeouts and the sync daemon of c; `role` says which sync role the VRRP state asks for now. */
  async applySettings(c: Config, role: () => SyncRole): Promise<void> {
    const ipvs = this.client
    const { ensureTimeouts, SyncDaemons } = this.syncModule ?? {}
    if (!ipvs || !ensureTimeouts || !SyncDaemons) return
    const { log } = this.opts
    const t = c.ipvs.timeouts
    const want = { tcp: (t.tcp ?? 0) / 1000, tcpFin: (t.tcp_fin ?? 0) / 1000, udp: (t.udp ?? 0) / 1000 }
    if (await ensureTimeouts(ipvs, want)) log.info({ timeouts: want }, 'IPVS timeouts set')
    const key = stableJson(c.ipvs.sync ?? null)
    if (key === this.syncKey) return
    const old = this.syncd
    this.syncKey = key
    this.syncd = undefined
    if (old) await old.setRole('none').catch((e) => log.error({ err: String(e) }, 'sync daemon stop failed'))
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
        log[a.ok ? 'info' : 'error'](
          { action: a.action, state: a.state, ...(a.error ? { err: a.error.message } : {}) },
          `IPVS sync daemon ${a.action} ${a.state}`,
        ),
    )
    await this.followSync(role())
  }

  /** Moves the sync daemon to `role` (master while the followed instance is MASTER, backup otherwise). */
  async followSync(role: SyncRole): Promise<void> {
    const d = this.syncd
    if (!d || d.role === role) return
    await d.setRole(role).catch((e) => this.opts.log.error({ err: String(e), role }, 'sync daemon role change failed'))
  }

  // ---- passes ----

  /** One pass to `table()`, after `before` (quorum bookkeeping) ran; passes run in call order. */
  async apply(cause: IpvsCause, table: () => ServiceState[]): Promise<void> {
    const r = this.reconciler
    if (!r) return
    this.passCauses.push(cause)
    await r.apply(table())
  }

  /** Coalesces bursts (many health transitions at once) into one pass. */
  applySoon(cause: IpvsCause, table: () => ServiceState[]): void {
    if (!this.reconciler || this.stopped || this.applyQueued !== undefined) return
    this.applyQueued = cause
    setImmediate(() => {
      const c = this.applyQueued ?? cause
      this.applyQueued = undefined
      void this.apply(c, table).catch((e) => this.opts.log.error({ err: String(e) }, 'IPVS pass failed'))
    })
  }

  private onOp(e: OpEvent): void {
    const cause: IpvsCause = e.cause === 'config' ? (this.passCauses[0] ?? 'config') : 'drift'
    this.opts.events.publish('ipvs.op', {
      op: e.op.op,
      target: e.target,
      ok: e.ok,
      ms: e.ms,
      cause,
      ...(e.error ? { error: { code: e.error.code, message: e.error.message } } : {}),
    })
    if (e.cause === 'drift') {
      const kind = e.op.op.startsWith('add') ? 'missing' : e.op.op.startsWith('del') ? 'unexpected' : 'changed'
      this.opts.events.publish('ipvs.drift', { target: e.target, kind, repaired: e.ok })
    }
  }

  /** Reads the kernel's counters again when the last read is older than statsMaxAgeMs. */
  async refresh(c: Config): Promise<void> {
    const ipvs = this.client
    if (!ipvs || Date.now() - this.countersAt < (this.opts.statsMaxAgeMs ?? 1000)) return
    try {
      this.counters = await readKernelCounters(ipvs, c)
      this.countersAt = Date.now()
    } catch (e) {
      if (!isLvsdError(e)) throw e
      this.opts.log.warn({ err: e.message }, 'IPVS counters could not be read')
    }
  }

  // ---- stop ----

  /** Ends the drift loop (first, so no pass starts while the rest of lvsd stops). */
  async stopDrift(): Promise<void> {
    this.stopped = true
    await this.reconciler?.stop()
  }

  /** Stops the sync daemon, removes lvsd's services if `flush`, closes the client. */
  async close(flush: boolean): Promise<void> {
    const { log } = this.opts
    if (this.syncd) await this.syncd.setRole('none').catch((e) => log.error({ err: String(e) }, 'sync stop failed'))
    if (this.reconciler && flush) {
      const p = await this.reconciler.apply([])
      log.info({ ops: p.ops, failed: p.failed }, 'IPVS services of lvsd removed (on_shutdown: flush)')
    }
    this.client?.close()
  }
}
