// TCP check (keepalived TCP_CHECK): a completed three-way handshake passes; the connection is then
// closed with an RST. Probes go through src/sys/tcp-probe.ts (one epoll set, batched outcomes), which
// costs a fraction of a net.Socket per check (docs/benchmarks.md, health-scale). The scheduler's
// realRunner (check-runs.ts) calls tcpWire/startTcpProbe/cancelTcp, without an AbortSignal or a promise per check.
import { performance } from 'node:perf_hooks'
import { errnoName } from '../sys/errno.js'
import { ifNameToIndex } from '../sys/iface.js'
import { sockaddrIn, sockaddrIn6 } from '../sys/sockaddr.js'
import { type PreparedProbe, tcpProbes } from '../sys/tcp-probe.js'
import { classify, endpointOf, errnoFailCode } from './probe.js'
import type { Result, Target, TcpOptions } from './types.js'

/** A target ready for probing (tcpWire): keep it for as long as the target is checked. */
export interface Wire {
  readonly probe: PreparedProbe
  readonly detail: string
}

// Targets are plain data that the scheduler keeps for as long as a check runs: build each one's
// sockaddrs once, not once per check
const wires = new WeakMap<Target, Wire>()

/** Where a probe of the target connects, from where and through which interface, as the kernel takes them. */
export function probeAddrs(t: Target): { to: Buffer; source?: Buffer; device?: string } {
  const a = t.connectAddr ?? t.addr
  const sa = (bytes: Uint8Array, port: number) =>
    a.family === 4 ? sockaddrIn(bytes, port) : sockaddrIn6(bytes, { port, scopeId: a.zone ? ifNameToIndex(a.zone) : 0 })
  return {
    to: sa(a.bytes, endpointOf(t).port),
    ...(t.sourceAddr ? { source: sa(t.sourceAddr.bytes, 0) } : {}),
    ...(t.bindInterface ? { device: t.bindInterface } : {}),
  }
}

function wireOf(t: Target): Wire {
  let w = wires.get(t)
  if (!w) {
    const ep = endpointOf(t)
    const probe = tcpProbes().prepare(probeAddrs(t))
    w = { probe, detail: `connected to ${ep.host}:${ep.port}` }
    wires.set(t, w)
  }
  return w
}

function failure(errno: number, ms: number): Result {
  const name = errnoName(errno)
  return { ok: false, ms, detail: `connect failed: ${name}`, code: errnoFailCode(name) }
}

const round = (ms: number) => Math.round(ms * 1000) / 1000

/** The target's probe form, built once per target (a Result when the target cannot be probed). */
export function tcpWire(target: Target): Wire | Result {
  try {
    return wireOf(target)
  } catch (e) {
    const { code, detail } = classify(e)
    return { ok: false, ms: 0, detail, code }
  }
}

/**
 * Starts a TCP probe without allocating anything per run: `done(errno)` runs once from the event loop
 * (0 = the handshake completed) unless the probe is cancelled; tcpResult() turns it into a Result.
 * Returns the probe's id for cancelTcp, or a Result when the probe failed at once (`done` is then
 * never called). This is what the scheduler uses, with one `done` and one Wire per job.
 */
export function startTcpProbe(w: Wire, done: (errno: number) => void): number | Result {
  let id: number
  try {
    id = tcpProbes().startPrepared(w.probe, done)
  } catch (e) {
    // the epoll set could not be made (EMFILE…): a failed check, not an exception in the scheduler
    const { code, detail } = classify(e)
    return { ok: false, ms: 0, detail, code }
  }
  return id < 0 ? failure(-id, 0) : id
}

/** The Result of a probe that ended with `errno` after `ms`. */
export function tcpResult(w: Wire, errno: number, ms: number): Result {
  return errno === 0 ? { ok: true, ms: round(ms), detail: w.detail } : failure(errno, round(ms))
}

/**
 * Starts a TCP check; `done` gets its Result once, from the event loop, unless it is cancelled.
 * Returns an id for cancelTcp, or -1 when the check failed at once (then `done` has already run).
 */
export function startTcp(target: Target, done: (r: Result) => void): number {
  const t0 = performance.now()
  const w = tcpWire(target)
  const id = 'probe' in w ? startTcpProbe(w, (errno) => done(tcpResult(w, errno, performance.now() - t0))) : w
  if (typeof id === 'number') return id
  done({ ...id, ms: round(performance.now() - t0) })
  return -1
}

/** Abandons a check started by startTcp: its socket is closed and `done` is not called. */
export function cancelTcp(id: number): void {
  if (id >= 0) tcpProbes().cancel(id)
}

export function check(target: Target, _opts: TcpOptions, signal: AbortSignal): Promise<Result> {
  return new Promise<Result>((resolve) => {
    if (signal.aborted) return resolve({ ok: false, ms: 0, code: 'timeout', detail: 'timed out before it started' })
    const t0 = performance.now()
    const onAbort = () => {
      cancelTcp(id)
      resolve({ ok: false, ms: round(performance.now() - t0), code: 'timeout', detail: 'timed out' })
    }
    const id = startTcp(target, (r) => {
      signal.removeEventListener('abort', onAbort)
      resolve(r)
    })
    if (id >= 0) signal.addEventListener('abort', onAbort, { once: true })
  })
}
