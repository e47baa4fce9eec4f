// How one run of a check starts and is cancelled: straight to the batched native TCP or HTTP prober
// when it can (nothing allocated per run), else through the checker's promise with an
// AbortController. The scheduler decides when a run starts and what its result does; this decides
// only how, and hands the result back through `finish`.
import type { Clock } from '../clock.js'
import type { HttpOutcome } from '../sys/http-probe.js'
import { runCheck } from './checkers.js'
import { cancelHttp, type HttpWire, httpResult, httpWire, startHttpProbe } from './http-native.js'
import { cancelTcp, startTcpProbe, tcpResult, tcpWire, type Wire } from './tcp.js'
import type { CheckSpec, HttpOptions, Result, Target } from './types.js'

export type RunCheck = (spec: CheckSpec, target: Target, signal: AbortSignal) => Promise<Result>

/**
 * TCP checks by the thousand, without a promise, AbortController, timer or closure per run: a target
 * prepared once per job, a probe that calls `done(errno)` once (0: the handshake completed) unless
 * cancelled. start() returns the probe's id, or a Result when the probe failed at once.
 */
export interface TcpProber {
  prepare(target: Target): Wire | Result
  start(w: Wire, done: (errno: number) => void): number | Result
  cancel(id: number): void
}

/**
 * Plain HTTP checks the same way (http-native.ts): prepare() gives undefined for a check that needs
 * Node (TLS, a digest), which then goes through run().
 */
export interface HttpProber {
  prepare(target: Target, opts: HttpOptions): HttpWire | Result | undefined
  start(w: HttpWire, done: (o: HttpOutcome) => void): number | Result
  cancel(id: number): void
  result(w: HttpWire, o: HttpOutcome, ms: number): Result
}

/**
 * How the scheduler runs checks: every check goes through here, so tests replace every path. The
 * probers' functions are called unbound (no `this`).
 */
export interface CheckRunner {
  run: RunCheck
  /** The TCP fast path; without it TCP checks go through run() like the others. */
  tcp?: TcpProber
  /** The plain-HTTP fast path; without it HTTP checks go through run(). */
  http?: HttpProber
}

/** The real checkers (checkers.ts) and the batched native TCP and HTTP probers (tcp.ts, http-native.ts). */
export const realRunner: CheckRunner = {
  run: runCheck,
  tcp: { prepare: tcpWire, start: startTcpProbe, cancel: cancelTcp },
  http: { prepare: httpWire, start: startHttpProbe, cancel: cancelHttp, result: httpResult },
}

/** What a job keeps between its runs: made once per job (the callbacks too), never per run. */
export interface RunSlot {
  /** The run in flight went to a batched prober: `probe` is its id while in flight, else -1. */
  viaProbe: boolean
  probe: number
  /** The clock's time when the probe started (Result.ms). */
  probeT0: number
  /** The target in the TCP prober's form, built at the first run (the target of a job never changes). */
  wire: Wire | undefined
  onProbe: ((errno: number) => void) | undefined
  /** An HTTP check's native form ('node': it goes through run()); undefined until its first run. */
  http: HttpWire | 'node' | undefined
  onHttp: ((o: HttpOutcome) => void) | undefined
  cancelProbe: (() => void) | undefined
  /** Aborts the run in flight (cleared once it has settled). */
  cancel: (() => void) | undefined
}

export function newSlot(): RunSlot {
  return {
    viaProbe: false,
    probe: -1,
    probeT0: 0,
    wire: undefined,
    onProbe: undefined,
    http: undefined,
    onHttp: undefined,
    cancelProbe: undefined,
    cancel: undefined,
  }
}

/** A job as the runs see it: what to check, where (its server's target), and its slot. */
export interface RunJob {
  readonly spec: CheckSpec
  readonly slot: RunSlot
  readonly server: { readonly spec: { readonly target: Target } }
}

/** `settled`: the run itself has ended (false for a timeout whose checker may still be running). */
export type Finish<J> = (job: J, r: Result, settled: boolean) => void

export class CheckRuns<J extends RunJob> {
  constructor(
    private readonly runner: CheckRunner,
    private readonly clock: Clock,
    private readonly finish: Finish<J>,
  ) {}

  /** TCP checks wait in the batched prober's lanes when there is one. */
  viaTcpProber(spec: CheckSpec): boolean {
    return this.runner.tcp !== undefined && spec.kind === 'tcp'
  }

  /** Starts a run at `now`; its result comes through `finish`, at once when it could not start. */
  start(job: J, now: number): void {
    const tcp = this.runner.tcp
    if (tcp && job.spec.kind === 'tcp') {
      // TCP, the check that runs by the thousand: straight to the batched prober, with no
      // AbortController, promise, timer or closure per run. A cancelled probe never calls back.
      const s = job.slot
      s.viaProbe = true
      if (s.wire === undefined) {
        const w = tcp.prepare(job.server.spec.target)
        if (!('probe' in w)) {
          this.finish(job, w, true)
          return
        }
        s.wire = w
      }
      const wire = s.wire
      s.onProbe ??= (errno) => {
        s.probe = -1
        this.finish(job, tcpResult(wire, errno, this.clock.now() - s.probeT0), true)
      }
      this.launch(job, now, tcp.cancel, tcp.start, wire, s.onProbe)
      return
    }
    const http = this.runner.http
    if (http && job.spec.kind === 'http' && this.startHttp(job, http, job.spec.opts, now)) return
    this.startPromise(job, now)
  }

  /**
   * The run in flight passed its timeout: cancels it and finishes it with `r`. A cancelled probe
   * never calls back, so that settles the run; a checker's promise settles when it does.
   */
  timeout(job: J, r: Result): void {
    const s = job.slot
    if (s.viaProbe) {
      s.cancelProbe?.()
      this.finish(job, r, true)
    } else {
      s.cancel?.()
      this.finish(job, r, false)
    }
  }

  private startPromise(job: J, now: number): void {
    const s = job.slot
    s.viaProbe = false
    const ac = new AbortController()
    s.cancel = () => ac.abort()
    let p: Promise<Result>
    try {
      p = this.runner.run(job.spec, job.server.spec.target, ac.signal)
    } catch (e) {
      p = Promise.reject(e)
    }
    p.then(
      (r) => this.finish(job, r, true),
      (e: unknown) =>
        this.finish(
          job,
          {
            ok: false,
            ms: this.clock.now() - now,
            code: 'error',
            detail: e instanceof Error ? e.message : String(e),
          },
          true,
        ),
    )
  }

  /** Starts a plain HTTP check on the native prober; false when it needs Node (run()). */
  private startHttp(job: J, http: HttpProber, opts: HttpOptions, now: number): boolean {
    const s = job.slot
    if (s.http === undefined) {
      const w = http.prepare(job.server.spec.target, opts)
      if (w !== undefined && !('http' in w)) {
        s.viaProbe = true
        this.finish(job, w, true)
        return true
      }
      s.http = w ?? 'node'
    }
    const wire = s.http
    if (wire === 'node') return false
    s.onHttp ??= (o) => {
      s.probe = -1
      this.finish(job, http.result(wire, o, this.clock.now() - s.probeT0), true)
    }
    this.launch(job, now, http.cancel, http.start, wire, s.onHttp)
    return true
  }

  /**
   * Starts a run on a batched prober (TCP, HTTP): the job's canceller made once, the start time kept
   * for the Result, and a probe that could not start finished at once. Nothing allocated per run.
   */
  private launch<W, O>(
    job: J,
    now: number,
    cancel: (id: number) => void,
    start: (w: W, done: (o: O) => void) => number | Result,
    wire: W,
    done: (o: O) => void,
  ): void {
    const s = job.slot
    s.viaProbe = true
    s.cancelProbe ??= () => {
      if (s.probe >= 0) cancel(s.probe)
      s.probe = -1
    }
    s.cancel = s.cancelProbe
    s.probeT0 = now
    const id = start(wire, done)
    if (typeof id === 'number') s.probe = id
    else this.finish(job, id, true)
  }
}
