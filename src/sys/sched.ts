// Real-time scheduling of the calling thread (sched_setscheduler(0, …) is per thread on Linux), so
// the VRRP worker can run SCHED_RR without raising the main thread (node-systems-notes §8).
import { SCHED_RR } from './constants.js'
import { errnoName, sys, sysErrorCode } from './errno.js'
import { native } from './native.js'

export type RealtimeResult =
  | { ok: true; tid: number; policy: number; priority: number }
  | { ok: false; tid: number; code: string; reason: string }

/**
 * Makes the calling thread SCHED_RR (or `policy`) at `priority`. Missing privilege (EPERM: no
 * CAP_SYS_NICE or RLIMIT_RTPRIO too low) is an expected outcome, returned rather than thrown.
 */
export function setThreadRealtime(priority: number, policy: number = SCHED_RR): RealtimeResult {
  const n = native()
  try {
    const tid = sys(() => n.schedSetScheduler(policy, priority))
    return { ok: true, tid, policy, priority }
  } catch (e) {
    const code = sysErrorCode(e)
    if (code !== errnoName(1)) throw e
    return {
      ok: false,
      tid: n.gettid(),
      code,
      reason: 'not permitted: needs CAP_SYS_NICE (AmbientCapabilities=CAP_SYS_NICE) and LimitRTPRIO= under systemd',
    }
  }
}

/** Policy and priority of the calling thread. */
export function getThreadPolicy(): { tid: number; policy: number; priority: number } {
  const n = native()
  const policy = sys(() => n.schedGetScheduler())
  const priority = sys(() => n.schedGetPriority())
  return { tid: n.gettid(), policy, priority }
}

/** Back to SCHED_OTHER (priority 0) for the calling thread. */
export function setThreadNormal(): number {
  return sys(() => native().schedSetScheduler(0, 0))
}

export function threadId(): number {
  return native().gettid()
}
