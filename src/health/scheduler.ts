// Runs the checks of many real servers: phases spread over each interval, bounded concurrency,
// per-check timeouts that really abort, no double starts, retries, slow-start ticks, live reload.
import { backgroundClock, type Clock, callAt } from '../clock.js'
import { type CheckRunner, CheckRuns, newSlot, type RunSlot, realRunner } from './check-runs.js'
import { Lane } from './lane.js'
import { type HealthStep, init, reconfigure, type ServerState, step } from './state.js'
import { TimerQueue } from './timer-queue.js'
import type { CheckSpec, Result, ServerSpec, Transition } from './types.js'

export interface SchedulerOptions {
  /** Default: realRunner. */
  runner?: CheckRunner
  onTransition: (t: Transition) => void
  /** Every finished check, before the reducer sees it (metrics, logs of failures). */
  onResult?: (server: string, check: string, r: Result) => void
  /** A consumer callback threw. Default: rethrown on a later tick, outside the scheduler's bookkeeping. */
  onError?: (e: unknown) => void
  clock?: Clock
  /**
   * Checks in flight at once (each holds at most one socket or process), per lane: TCP checks through
   * the batched prober have this many slots, every other kind as many again, and each of the two has
   * a slow lane of as many for checks whose last run took half their timeout or more
   * (src/health/lane.ts). Default 256.
   */
  maxConcurrent?: number
  /** The first run of each check waits an extra random 0..warmupMs (keepalived warmup). Default 0. */
  warmupMs?: number
  /** A start later than this after its slot counts as late. Default 100 ms. */
  lateMs?: number
  random?: () => number
}

export interface SchedulerStats {
  servers: number
  checks: number
  running: number
  queued: number
  /** Checks whose last run took at least half their timeout: they queue and run in the slow lanes. */
  slow: number
  started: number
  completed: number
  timeouts: number
  /** Started more than lateMs after their slot (the concurrency limit or the event loop held them). */
  late: number
  /** Slots skipped because the previous run of that check was still running or waiting. */
  missed: number
}

interface Server {
  spec: ServerSpec
  state: ServerState
  jobs: Map<string, Job>
  cancelTick?: () => void
}

interface Job {
  server: Server
  spec: CheckSpec
  phase: number
  /** Start of the next regular slot (its timer is the queue entry at this time). */
  nextDue: number
  /** A retry is wanted at this time (a queue entry, unless the regular slot comes first). */
  retryAt: number | undefined
  /** Waiting for a concurrency slot, since this time. */
  queuedAt: number | undefined
  /** The lane it waits in or runs in (set when queued). */
  lane: Lane<Job> | undefined
  /** Its last run took half its timeout or more: it waits and runs in a slow lane. */
  slow: boolean
  /** A run is in flight (until its promise settles, even past its timeout). */
  busy: boolean
  /** The current run holds a concurrency slot (until its result or its timeout). */
  holding: boolean
  /** Runs started so far: the timeout entry of an earlier run is ignored. */
  run: number
  /** How its runs start and are cancelled (check-runs.ts). */
  slot: RunSlot
  removed: boolean
}

/** What a queue entry of a job is for (TIMEOUT + 4 × run for a timeout). */
const DUE = 0
const RETRY = 1
const TIMEOUT = 2

/** FNV-1a: a stable phase per check, so a reload or restart keeps each check in its place. */
export function phaseOf(key: string, intervalMs: number): number {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h % Math.max(1, intervalMs)
}

function keyOf(x: unknown): string {
  return JSON.stringify(x, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))
}

export class Scheduler {
  private readonly clock: Clock
  private readonly warmup: number
  private readonly lateMs: number
  private readonly random: () => number
  private readonly servers = new Map<string, Server>()
  /**
   * The batched TCP prober's lane and every other check's, each split by the check's last run: one
   * that took half its timeout or more (a server that hangs, drips, or never finishes its handshake)
   * waits in the slow lane, so it cannot hold the slots of the checks that answer.
   */
  private readonly probeLane: Lane<Job>
  private readonly probeSlowLane: Lane<Job>
  private readonly otherLane: Lane<Job>
  private readonly otherSlowLane: Lane<Job>
  private readonly lanes: readonly Lane<Job>[]
  private stopped = false
  private readonly timers: TimerQueue<Job>
  private readonly counters = { started: 0, completed: 0, timeouts: 0, late: 0, missed: 0 }
  private readonly runs: CheckRuns<Job>

  constructor(private readonly opts: SchedulerOptions) {
    this.clock = opts.clock ?? backgroundClock
    this.runs = new CheckRuns<Job>(opts.runner ?? realRunner, this.clock, (job, r, settled) =>
      this.finish(job, r, settled),
    )
    const max = Math.max(1, opts.maxConcurrent ?? 256)
    this.probeLane = new Lane<Job>(max)
    this.probeSlowLane = new Lane<Job>(max)
    this.otherLane = new Lane<Job>(max)
    this.otherSlowLane = new Lane<Job>(max)
    this.lanes = [this.probeLane, this.otherLane, this.probeSlowLane, this.otherSlowLane]
    this.warmup = opts.warmupMs ?? 0
    this.lateMs = opts.lateMs ?? 100
    this.random = opts.random ?? Math.random
    this.timers = new TimerQueue<Job>(this.clock, (job, tag, at) => this.fire(job, tag, at))
  }

  /** Makes the scheduled set equal to `specs`: new ones start, missing ones stop, changed ones reload in place. */
  set(specs: readonly ServerSpec[]): void {
    const want = new Set(specs.map((s) => s.id))
    for (const id of [...this.servers.keys()]) if (!want.has(id)) this.remove(id)
    for (const s of specs) this.upsert(s)
  }

  /** Adds a server, or reloads it keeping the health state of checks whose id stays. */
  upsert(spec: ServerSpec): void {
    const now = this.clock.now()
    const old = this.servers.get(spec.id)
    if (!old) {
      const first = init(
        spec.id,
        spec.policy,
        spec.checks.map((c) => c.id),
        now,
      )
      const server: Server = { spec, state: first.state, jobs: new Map() }
      this.servers.set(spec.id, server)
      for (const c of spec.checks) this.addJob(server, c, now, true)
      this.apply(server, first)
      return
    }
    const targetChanged = keyOf(old.spec.target) !== keyOf(spec.target)
    const byId = new Map(spec.checks.map((c) => [c.id, c]))
    for (const [id, job] of old.jobs) {
      const next = byId.get(id)
      if (!next || targetChanged || keyOf(next) !== keyOf(job.spec)) {
        this.dropJob(job)
        old.jobs.delete(id)
      }
    }
    old.spec = spec
    for (const c of spec.checks) if (!old.jobs.has(c.id)) this.addJob(old, c, now, false)
    if (
      keyOf(old.state.policy) !== keyOf(spec.policy) ||
      old.jobs.size !== Object.keys(old.state.checks).length ||
      spec.checks.some((c) => !(c.id in old.state.checks))
    ) {
      this.apply(
        old,
        reconfigure(
          old.state,
          spec.policy,
          spec.checks.map((c) => c.id),
          now,
        ),
      )
    }
  }

  remove(id: string): void {
    const s = this.servers.get(id)
    if (!s) return
    for (const j of s.jobs.values()) this.dropJob(j)
    s.cancelTick?.()
    this.servers.delete(id)
  }

  drain(id: string): void {
    this.event(id, { kind: 'drain' })
  }

  undrain(id: string): void {
    this.event(id, { kind: 'undrain' })
  }

  /** The reducer state of a server (read-only view). */
  state(id: string): ServerState | undefined {
    return this.servers.get(id)?.state
  }

  stats(): SchedulerStats {
    let checks = 0
    let slow = 0
    for (const s of this.servers.values()) {
      checks += s.jobs.size
      for (const job of s.jobs.values()) if (job.slow) slow++
    }
    let running = 0
    let queued = 0
    for (const lane of this.lanes) {
      running += lane.inFlight
      queued += lane.queued
    }
    return { servers: this.servers.size, checks, running, queued, slow, ...this.counters }
  }

  /** Stops every timer and aborts every check in flight. */
  stop(): void {
    this.stopped = true
    for (const id of [...this.servers.keys()]) this.remove(id)
    this.timers.clear()
  }

  private event(id: string, e: { kind: 'drain' } | { kind: 'undrain' }): void {
    const s = this.servers.get(id)
    if (s) this.apply(s, step(s.state, e, this.clock.now()))
  }

  /** Runs a consumer callback so that its failure cannot leave the scheduler half-updated. */
  private deliver(fn: () => void): void {
    try {
      fn()
    } catch (e) {
      this.failed(e)
    }
  }

  private failed(e: unknown): void {
    if (this.opts.onError) this.opts.onError(e)
    else
      queueMicrotask(() => {
        throw e
      })
  }

  private apply(s: Server, r: HealthStep): void {
    s.state = r.state
    for (const t of r.transitions) this.deliver(() => this.opts.onTransition(t))
    if (r.retry) {
      const job = s.jobs.get(r.retry.check)
      if (job) this.armRetry(job, r.retry.at)
    }
    s.cancelTick?.()
    s.cancelTick = undefined
    if (r.wakeAt !== undefined && !this.stopped) {
      s.cancelTick = callAt(this.clock, r.wakeAt, () => {
        s.cancelTick = undefined
        if (this.servers.get(s.spec.id) === s) this.apply(s, step(s.state, { kind: 'tick' }, this.clock.now()))
      })
    }
  }

  private addJob(server: Server, spec: CheckSpec, now: number, warm: boolean): void {
    const phase = phaseOf(`${server.spec.id}\u0000${spec.id}`, spec.intervalMs)
    const from = now + (warm && this.warmup > 0 ? Math.floor(this.random() * this.warmup) : 0)
    const job: Job = {
      server,
      spec,
      phase,
      nextDue: nextSlot(from, phase, spec.intervalMs),
      retryAt: undefined,
      queuedAt: undefined,
      lane: undefined,
      slow: false,
      busy: false,
      holding: false,
      run: 0,
      slot: newSlot(),
      removed: false,
    }
    server.jobs.set(spec.id, job)
    this.armDue(job)
  }

  private dropJob(job: Job): void {
    // its queue entries are passed over when they come (fire() checks `removed`)
    job.removed = true
    job.slot.cancel?.()
    if (job.queuedAt !== undefined) {
      // left in the FIFO, passed over by pump()
      job.queuedAt = undefined
      job.lane?.dropped()
    }
  }

  private armDue(job: Job): void {
    if (this.stopped || job.removed) return
    this.timers.push(job.nextDue, job, DUE)
  }

  /** A queue entry came: entries no longer wanted (cancelled lazily) are recognised here. */
  private fire(job: Job, tag: number, at: number): void {
    if (job.removed || this.stopped) return
    const kind = tag % 4
    if (kind === DUE) {
      if (at === job.nextDue) this.due(job)
    } else if (kind === RETRY) {
      if (job.retryAt === at && !job.busy && job.queuedAt === undefined) this.enqueue(job, at)
    } else if ((tag - TIMEOUT) / 4 === job.run && job.holding) {
      this.timeout(job)
    }
  }

  private due(job: Job): void {
    const due = job.nextDue
    const now = this.clock.now()
    // slots the event loop slept through are missed, not run in a burst
    job.nextDue = nextSlot(now + 1, job.phase, job.spec.intervalMs)
    this.counters.missed += Math.max(0, Math.floor((now - due) / job.spec.intervalMs))
    if (job.busy || job.queuedAt !== undefined) this.counters.missed++
    else this.enqueue(job, due)
    this.armDue(job)
  }

  private armRetry(job: Job, at: number): void {
    job.retryAt = at
    // a regular slot before the retry time serves as the retry
    if (at < job.nextDue) this.timers.push(at, job, RETRY)
  }

  private enqueue(job: Job, due: number): void {
    job.queuedAt = due
    if (this.runs.viaTcpProber(job.spec)) job.lane = job.slow ? this.probeSlowLane : this.probeLane
    else job.lane = job.slow ? this.otherSlowLane : this.otherLane
    job.lane.push(job)
    this.pump()
  }

  private pump(): void {
    for (const lane of this.lanes) for (let job = lane.next(); job && !this.stopped; job = lane.next()) this.start(job)
  }

  private start(job: Job): void {
    const now = this.clock.now()
    if (now - (job.queuedAt ?? now) > this.lateMs) this.counters.late++
    job.queuedAt = undefined
    job.retryAt = undefined
    job.busy = true
    job.holding = true
    job.run++
    if (job.lane) job.lane.inFlight++
    this.counters.started++
    // the slot is given back at the timeout even if a checker ignores the abort; the job itself
    // stays busy until its run settles, so it is never run twice at once
    this.timers.push(now + job.spec.timeoutMs, job, TIMEOUT + 4 * job.run)
    this.runs.start(job, now)
  }

  /** The run in flight passed its timeout: recorded as a `timeout`, its slot freed. */
  private timeout(job: Job): void {
    this.counters.timeouts++
    const timeoutMs = job.spec.timeoutMs
    const r: Result = { ok: false, ms: timeoutMs, code: 'timeout', detail: `no answer within ${timeoutMs} ms` }
    this.runs.timeout(job, r)
  }

  /** A run's result (or its timeout): `settled` when the run itself has ended. */
  private finish(job: Job, r: Result, settled: boolean): void {
    if (settled) {
      job.busy = false
      job.slot.cancel = undefined
    }
    if (!job.holding) return
    job.holding = false
    if (job.lane) job.lane.inFlight--
    job.slow = r.code === 'timeout' || r.ms * 2 >= job.spec.timeoutMs
    this.counters.completed++
    if (!job.removed && this.servers.get(job.server.spec.id) === job.server) {
      const onResult = this.opts.onResult
      if (onResult) {
        try {
          onResult(job.server.spec.id, job.spec.id, r)
        } catch (e) {
          this.failed(e)
        }
      }
      this.apply(
        job.server,
        step(job.server.state, { kind: 'result', check: job.spec.id, result: r }, this.clock.now()),
      )
    }
    this.pump()
  }
}

/** The first time after or at `from` that is `phase` past a multiple of the interval. */
export function nextSlot(from: number, phase: number, intervalMs: number): number {
  const base = Math.floor((from - phase) / intervalMs) * intervalMs + phase
  return base >= from ? base : base + intervalMs
}
