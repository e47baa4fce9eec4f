// A scenario run's figures and verdict from what it recorded. Pure: the recording in, figures and
// checks out, so every pass criterion is unit-tested on hand-made recordings.
import { longestGap } from '../demo/analysis.js'
import type { Check, Figures, Probe, ScenarioRun } from './types.js'

/** Served new connections' start times in [from, to): a gap between two is time a user was refused. */
function servedStarts(probes: Probe[], from: number, to: number): number[] {
  return probes.filter((p) => p.server !== null && p.t >= from && p.t < to).map((p) => p.t)
}

/**
 * Longest interval in [from, to) without an answered new connection. The edges count: a window
 * whose first answer comes late (or never) is an outage from its start.
 */
export function outageIn(probes: Probe[], from: number, to: number): number | null {
  if (!(to > from)) return null
  const starts = servedStarts(probes, from, to)
  const gap = longestGap([from, ...starts, ...(starts.length ? [] : [to])])
  const tail = starts.length ? to - (starts.at(-1) as number) : 0
  return Math.max(gap?.ms ?? 0, tail)
}

export function figures(r: ScenarioRun, ipvs: boolean, probeIntervalMs: number): Figures {
  const fault = r.fault
  const restoreT = r.restore?.t ?? r.endedAt
  // the window ends where the last probe started that could have finished: a trailing gap shorter
  // than a probe's timeout is not an outage yet
  let outageMs: number | null = null
  let returnOutageMs: number | null = null
  let failedAfterRecovery = 0
  if (ipvs && fault) {
    // from one probe interval before the fault: the last answer before it starts the gap
    const lastBefore = servedStarts(r.probes, r.startedAt, fault.t).at(-1) ?? fault.t - probeIntervalMs
    outageMs = outageIn(r.probes, lastBefore, restoreT)
    const back = r.probes.find((p) => p.server !== null && p.t > fault.t)
    if (back) failedAfterRecovery = r.probes.filter((p) => p.server === null && p.t > back.t && p.t < restoreT).length
    if (r.restore) {
      const lastBeforeReturn = servedStarts(r.probes, fault.t, r.restore.t).at(-1) ?? r.restore.t
      returnOutageMs = outageIn(r.probes, lastBeforeReturn, r.endedAt)
    }
  }
  let takeoverMs: number | null = null
  let garpAfterAdvertMs: number | null = null
  if (fault) {
    const adverts = r.frames.filter((f) => f.kind === 'advert')
    const lastOld = adverts.filter((f) => f.from === fault.node && f.t <= fault.t + 50).at(-1)
    const firstNew = adverts.find((f) => f.t > fault.t && f.from !== fault.node && (f.priority ?? 0) > 0)
    if (lastOld && firstNew) takeoverMs = firstNew.t - lastOld.t
    const garp = firstNew && r.frames.find((f) => f.kind === 'garp' && f.t >= firstNew.t && f.from === firstNew.from)
    if (firstNew && garp) garpAfterAdvertMs = garp.t - firstNew.t
  }
  return {
    outageMs,
    returnOutageMs,
    failedAfterRecovery,
    takeoverMs,
    garpAfterAdvertMs,
    probes: r.probes.length,
    failed: r.probes.filter((p) => p.server === null).length,
  }
}

/** The long connection lived through the run: no error or close, and replies after the restore or fault. */
function longSurvived(r: ScenarioRun): { ok: boolean; detail: string } {
  const bad = r.long.find((e) => e.ev === 'error' || e.ev === 'closed')
  if (bad) return { ok: false, detail: bad.ev === 'error' ? `error ${bad.err}` : 'closed by the far end' }
  const after = r.fault ? r.long.filter((e) => e.ev === 'reply' && e.t > (r.fault?.t ?? 0)).length : 0
  return after > 0
    ? { ok: true, detail: `${after} replies after the fault` }
    : { ok: false, detail: 'no reply after the fault' }
}

/** The common pass criteria; a scenario adds its own checks while it runs. */
export function commonChecks(r: ScenarioRun, ipvs: boolean, syncRuns: boolean): Check[] {
  const out: Check[] = []
  for (const s of r.steps) {
    if (s.expectOneMaster) {
      const ok = s.masters.length === 1 && (s.expectMaster === null || s.masters[0] === s.expectMaster)
      out.push({
        name: `one master after "${s.name}"`,
        ok,
        detail: `masters: ${s.masters.join(', ') || 'none'}${s.expectMaster ? ` (expected ${s.expectMaster})` : ''}`,
      })
    }
    if (s.expectMaster && s.vipNeighbour !== undefined) {
      out.push({
        name: `client's ARP entry on the master after "${s.name}"`,
        ok: s.vipNeighbour === s.expectMaster,
        detail: `VIP → ${s.vipNeighbour ?? 'no entry'}`,
      })
    }
  }
  const f = r.figures
  if (r.fault && r.bounds.outageMs !== null) {
    const v = ipvs ? f.outageMs : f.takeoverMs
    const what = ipvs ? 'client outage' : 'takeover on the wire (no IPVS: no requests)'
    out.push({
      name: `${what} ≤ ${r.bounds.outageMs} ms`,
      ok: v !== null && v <= r.bounds.outageMs,
      detail: v === null ? 'not measured' : `${v} ms (${r.bounds.why})`,
    })
  }
  if (ipvs && r.restore && r.bounds.returnOutageMs !== null) {
    out.push({
      name: `client outage at the return ≤ ${r.bounds.returnOutageMs} ms`,
      ok: f.returnOutageMs !== null && f.returnOutageMs <= r.bounds.returnOutageMs,
      detail: f.returnOutageMs === null ? 'not measured' : `${f.returnOutageMs} ms`,
    })
  }
  if (ipvs && r.fault && !r.bounds.failuresExpected) {
    out.push({
      name: 'no request failed after service came back',
      ok: f.failedAfterRecovery === 0,
      detail: `${f.failedAfterRecovery} failed`,
    })
  }
  if (ipvs && syncRuns && r.fault) {
    const s = longSurvived(r)
    out.push({ name: 'the established connection survived (sync daemon)', ok: r.longSynced && s.ok, detail: s.detail })
  }
  return out
}
