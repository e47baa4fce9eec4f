// Keeps the kernel's IPVS table at lvsd's desired table: config-driven passes (apply) diffed against lvsd's
// view of the kernel, and a periodic re-read that repairs drift (someone ran `ipvsadm -d …`) and refreshes
// the view; one op event each, touching only services lvsd owns.

import { type Clock, realClock } from '../clock.js'
import { isLvsdError, type LvsdError } from '../errors.js'
import { applyOps, type IpvsOps, type OpResult, readTable } from './apply.js'
import { describeDest, describeKey } from './client.js'
import { diff, type Op } from './diff.js'
import { desiredTable, type ServiceState, serviceId } from './model.js'
import { TableView } from './view.js'

/** Why a pass ran: a new desired table, the periodic re-read, or a re-try of an op that failed last pass. */
export type PassCause = 'config' | 'drift'
export type OpCause = 'config' | 'drift' | 'retry'

export interface OpEvent {
  readonly cause: OpCause
  readonly op: Op
  /** 'tcp 10.0.0.3:80' or 'tcp 10.0.0.3:80 -> 10.0.0.8:80', for logs. */
  readonly target: string
  readonly ok: boolean
  readonly status: OpResult['status']
  readonly error?: LvsdError
  readonly ms: number
}

export interface PassReport {
  readonly cause: PassCause
  readonly ops: number
  readonly failed: number
  readonly ms: number
  /** The kernel's table could not be read (nothing was applied). */
  readonly readError?: LvsdError
  /** The pass read the kernel's table (drift passes, the first pass, a pass after a failure or a stale view). */
  readonly read: boolean
  /** Netlink requests the pass sent: commands plus dump requests (one per service read, one for the list). */
  readonly requests: number
  /**
   * A config pass diffed against the view and the kernel refused ops in a way that says the view was stale
   * (ESRCH, ENOENT, EEXIST: someone changed the table behind lvsd's back); the pass then read the kernel and
   * diffed again. ops/failed above are that second round's; these are the first's.
   */
  readonly stale?: { readonly ops: number; readonly failed: number }
}

interface RunResult {
  ops: number
  failed: number
  staleFailures: number
  readError?: LvsdError
}

/** Refusals that mean the kernel's table is not what the view says. */
const STALE_CODES: ReadonlySet<string> = new Set(['ESRCH', 'ENOENT', 'EEXIST'])

export interface ReconcilerOptions {
  /** Period of the drift re-read in ms (default 5000); 0 disables the loop. */
  intervalMs?: number
  /**
   * The largest share of one core (0–1, default 0.1) the drift loop may take: after a pass of d ms the
   * next waits max(intervalMs, d × (1 − share) / share), so a table whose re-read takes longer than the
   * interval allows is read less often instead of back to back (see driftDelay).
   */
  maxDriftShare?: number
  /** The drift loop's timers and the passes' durations (tests drive the loop in virtual time). */
  clock?: Clock
  onEvent?: (e: OpEvent) => void
  onPass?: (p: PassReport) => void
  /**
   * Commands in flight at once (default 64): the kernel answers a socket's messages in order, so pipelining
   * keeps the order and saves a round trip per op (see bench/ipvs-apply.ts). Dumps are never pipelined.
   */
  window?: number
  /** See ApplyOptions.ack (default 'last': the kernel answers failures and each window's last command). */
  ack?: 'each' | 'last'
  /** Ids (serviceId) of services lvsd owned before (e.g. a previous run's), to delete if no longer desired. */
  owned?: Iterable<string>
}

export function describeOp(op: Op): string {
  if (op.op === 'add-service' || op.op === 'edit-service') return describeKey(op.service.key)
  if (op.op === 'del-service') return describeKey(op.key)
  return `${describeKey(op.key)} -> ${describeDest(op.dest)}`
}

/**
 * The wait before the next drift pass: the configured interval, stretched so that passes take at most
 * `maxShare` of the time (pass / (pass + wait) ≤ maxShare). The pass is measured in wall time, which bounds
 * its CPU time from above (the dumps run in lvsd's thread, inside its syscalls).
 */
export function driftDelay(intervalMs: number, lastPassMs: number | undefined, maxShare: number): number {
  if (lastPassMs === undefined || !(maxShare > 0) || maxShare >= 1) return intervalMs
  return Math.max(intervalMs, Math.ceil((lastPassMs * (1 - maxShare)) / maxShare))
}

/** The drift loop's timing, for metrics: the last drift pass and the wait armed after it. */
export interface DriftTiming {
  readonly intervalMs: number
  readonly maxShare: number
  /** Duration of the last drift pass (undefined before the first). */
  readonly lastPassMs: number | undefined
  /** The wait before the next pass, as driftDelay gives it now. */
  readonly effectiveIntervalMs: number
}

const opKey = (op: Op) => `${op.op} ${describeOp(op)}`

/** The same client, calling count() before each request it sends. */
function countingOps(c: IpvsOps, count: () => void): IpvsOps {
  const counted =
    <A extends unknown[], R>(f: (...a: A) => R) =>
    (...a: A): R => {
      count()
      return f(...a)
    }
  const batch = c.batch?.bind(c)
  return {
    ...(batch ? { batch } : {}),
    addService: counted((s) => c.addService(s)),
    editService: counted((s) => c.editService(s)),
    delService: counted((k) => c.delService(k)),
    addDest: counted((k, d) => c.addDest(k, d)),
    editDest: counted((k, d) => c.editDest(k, d)),
    delDest: counted((k, d) => c.delDest(k, d)),
    listServices: counted((o) => c.listServices(o)),
    listDests: counted((k, o) => c.listDests(k, o)),
  }
}

export class Reconciler {
  private desiredTable: ServiceState[] = []
  private ownedIds: Set<string>
  private chain: Promise<unknown> = Promise.resolve()
  private timer: unknown
  private running = false
  /** Ops that failed in the last pass: when a drift pass sends them again, they count as retries. */
  private lastFailed = new Set<string>()
  private readonly clock: Clock
  private intervalMsNow: number
  private maxShare: number
  private lastDriftMs: number | undefined
  readonly window: number
  /** The kernel's table as lvsd last read and changed it; undefined until the first read, or when in doubt. */
  private view: TableView | undefined
  /** The client, counting each request into counters.requests. */
  private readonly counted: IpvsOps
  readonly counters = {
    passes: 0,
    configOps: 0,
    driftRepairs: 0,
    retries: 0,
    failedOps: 0,
    readErrors: 0,
    /** Netlink requests sent by passes: commands plus dump requests. */
    requests: 0,
    /** Config passes whose view turned out stale (and that then read the kernel). */
    staleViews: 0,
  }

  constructor(
    client: IpvsOps,
    private readonly opts: ReconcilerOptions = {},
  ) {
    this.clock = opts.clock ?? realClock
    this.intervalMsNow = opts.intervalMs ?? 5000
    this.maxShare = opts.maxDriftShare ?? 0.1
    this.window = opts.window ?? 64
    this.ownedIds = new Set(opts.owned ?? [])
    this.counted = countingOps(client, () => this.counters.requests++)
  }

  get intervalMs(): number {
    return this.intervalMsNow
  }

  get drift(): DriftTiming {
    return {
      intervalMs: this.intervalMsNow,
      maxShare: this.maxShare,
      lastPassMs: this.lastDriftMs,
      effectiveIntervalMs: driftDelay(this.intervalMsNow, this.lastDriftMs, this.maxShare),
    }
  }

  /**
   * New drift settings (a reload): they take effect when the loop next arms; 0 stops the loop after the
   * pass in progress, and start() runs it again with a positive interval.
   */
  setDrift(intervalMs: number, maxShare: number): void {
    this.intervalMsNow = intervalMs
    this.maxShare = maxShare
    if (intervalMs <= 0) {
      this.running = false
      if (this.timer !== undefined) this.clock.clear(this.timer)
      this.timer = undefined
    }
  }

  get desired(): readonly ServiceState[] {
    return this.desiredTable
  }

  /** Services lvsd is responsible for: the desired ones plus owned ones it could not delete yet. */
  get owned(): ReadonlySet<string> {
    return this.ownedIds
  }

  /**
   * Replaces the desired table (validated by desiredTable: LVSD_IPVS_TABLE_INVALID throws here) and runs a
   * pass against the view: the kernel's table as lvsd last read it plus the ops it accepted since, so a
   * changed weight costs one SET_DEST and no dump. The first pass, and a pass after a failed op, reads the
   * kernel instead; so does one whose ops show the view was stale (see PassReport.stale). Passes never
   * overlap: this one waits for a running one.
   */
  apply(desired: readonly ServiceState[]): Promise<PassReport> {
    const table = desiredTable(desired)
    return this.enqueue(() => {
      this.desiredTable = table
      for (const s of table) this.ownedIds.add(serviceId(s.service.key))
      return this.pass('config')
    })
  }

  /** One drift pass now (the loop runs the same). */
  check(): Promise<PassReport> {
    return this.enqueue(() => this.pass('drift'))
  }

  /** Starts the periodic re-read (no-op when intervalMs is 0 or already started). */
  start(): void {
    if (this.running || this.intervalMs <= 0) return
    this.running = true
    this.arm()
  }

  /** Stops the loop and waits for a pass in progress. */
  async stop(): Promise<void> {
    this.running = false
    if (this.timer !== undefined) this.clock.clear(this.timer)
    this.timer = undefined
    await this.idle()
  }

  /** Resolves when no pass is running or queued. */
  async idle(): Promise<void> {
    for (;;) {
      const c = this.chain
      await c
      if (c === this.chain) return
    }
  }

  private arm(): void {
    this.timer = this.clock.set(
      () => {
        this.timer = undefined
        if (!this.running) return
        void this.check().finally(() => {
          if (this.running) this.arm()
        })
      },
      driftDelay(this.intervalMsNow, this.lastDriftMs, this.maxShare),
    )
  }

  private enqueue<T>(f: () => Promise<T>): Promise<T> {
    const p = this.chain.then(f, f)
    this.chain = p.catch(() => undefined)
    return p
  }

  private async pass(cause: PassCause): Promise<PassReport> {
    const t0 = this.clock.now()
    this.counters.passes++
    const requests0 = this.counters.requests
    // a config pass trusts the view (the table as last read plus what the kernel accepted since); the
    // drift pass, and any pass without a view, reads the kernel
    const fromView = cause === 'config' && this.view !== undefined
    let r = await this.run(cause, fromView)
    let stale: PassReport['stale']
    if (fromView && r.staleFailures > 0) {
      // someone changed the kernel behind the view's back: read it and diff again, in this same pass
      this.counters.staleViews++
      stale = { ops: r.ops, failed: r.failed }
      r = await this.run(cause, false)
    }
    const p: PassReport = {
      cause,
      ops: r.ops,
      failed: r.failed,
      ms: this.clock.now() - t0,
      read: !fromView || stale !== undefined,
      requests: this.counters.requests - requests0,
    }
    if (stale) (p as { stale?: PassReport['stale'] }).stale = stale
    if (r.readError) (p as { readError?: LvsdError }).readError = r.readError
    if (cause === 'drift') this.lastDriftMs = p.ms
    return this.report(p)
  }

  /** Diffs the desired table against the view (fromView) or a fresh read, and applies the ops. */
  private async run(cause: PassCause, fromView: boolean): Promise<RunResult> {
    let view = fromView ? this.view : undefined
    if (!view) {
      try {
        view = new TableView(await readTable(this.counted))
      } catch (e) {
        if (!isLvsdError(e)) throw e
        this.counters.readErrors++
        return { ops: 0, failed: 0, staleFailures: 0, readError: e }
      }
    }
    const ops = diff(this.desiredTable, view.table(), this.ownedIds)
    const failedNow = new Set<string>()
    let staleFailures = 0
    const results = await applyOps(this.counted, ops, {
      now: () => this.clock.now(),
      window: this.window,
      ack: this.opts.ack ?? 'last',
      onResult: (r) => {
        // op keys only matter for failures and for telling a retry from drift (most passes have neither)
        const retry = cause === 'drift' && this.lastFailed.size > 0 && this.lastFailed.has(opKey(r.op))
        const opCause: OpCause = cause === 'config' ? 'config' : retry ? 'retry' : 'drift'
        if (r.status === 'ok') {
          view.apply(r.op)
          if (opCause === 'config') this.counters.configOps++
          else if (opCause === 'drift') this.counters.driftRepairs++
          else this.counters.retries++
        } else {
          this.counters.failedOps++
          failedNow.add(opKey(r.op))
          if (r.status === 'failed' && STALE_CODES.has(String(r.error?.details.code))) staleFailures++
        }
        if (!this.opts.onEvent) return
        const e: OpEvent = {
          cause: opCause,
          op: r.op,
          // formatted on first read: a large config pass may be logged only as a summary
          get target() {
            return describeOp(r.op)
          },
          ok: r.status === 'ok',
          status: r.status,
          ms: r.ms,
        }
        if (r.error) (e as { error?: LvsdError }).error = r.error
        this.opts.onEvent(e)
      },
    })
    this.lastFailed = failedNow
    const failed = results.filter((r) => r.status !== 'ok').length
    // a refused or unanswered op leaves the kernel's state in doubt: the next pass reads it
    this.view = failed === 0 ? view : undefined
    // ownership: what is desired, plus owned services whose deletion failed (tried again next pass)
    const keep = new Set(this.desiredTable.map((s) => serviceId(s.service.key)))
    for (const r of results) if (r.op.op === 'del-service' && r.status !== 'ok') keep.add(serviceId(r.op.key))
    this.ownedIds = keep
    return { ops: ops.length, failed, staleFailures }
  }

  private report(p: PassReport): PassReport {
    this.opts.onPass?.(p)
    return p
  }
}
