// A scenario run's figures and verdict from what it recorded. Pure: the recording in, figures and
// checks out, so every pass criterion is unit-tested on hand-made recordings.
import { longestGap } from '../demo/analysis.js'
import type { Check, Figures, Probe, ScenarioRun } from './types.js'

/** When each answered new connection got its answer, in [from, to): what a user saw arrive. */
function answeredAt(probes: Probe[], from: number, to: number): number[] {
  return probes
    .filter((p) => p.server !== null)
    .map((p) => p.t + p.ms)
    .filter((t) => t >= from && t < to)
    .sort((a, b) => a - b)
}

/**
 * Longest interval in [from, to) without an answer arriving. The edges count: a window whose first
 * answer comes late (or never) is an outage from its start. Answers, not connection starts: under
 * a slow client (TCG) a probe may outlive a retransmitted SYN, so its start says little.
 */
export function outageIn(probes: Probe[], from: number, to: number): number | null {
  if (!(to > from)) return null
  const ats = answeredAt(probes, from, to)
  const gap = longestGap([from, ...ats, ...(ats.length ? [] : [to])])
  const tail = ats.length ? to - (ats.at(-1) as number) : 0
  return Math.max(gap?.ms ?? 0, tail)
}

/** What the client's wire shows of the fault: the old master's last advert, the new one's first, its GARP, and the old master's return. */
function onTheWire(r: ScenarioRun) {
  const fault = r.fault
  if (!fault) return null
  const adverts = r.frames.filter((f) => f.kind === 'advert')
  const firstNew = adverts.find((f) => f.t > fault.t && f.from !== fault.node && (f.priority ?? 0) > 0)
  if (!firstNew) return { lastOld: undefined, firstNew, garp: undefined, back: undefined }
  // the old master's last word before the new one spoke (its priority-0 advert when it said goodbye);
  // partitioned, it never stops talking to the client: then its last advert before the cut was in place
  const until = fault.kind === 'partition' ? (fault.doneAt ?? fault.t) + 5 + (r.clockErrorMs ?? 0) : firstNew.t
  const olds = adverts.filter((f) => f.from === fault.node && f.t <= until)
  let lastOld = olds.at(-1)
  // the cut followed an advert: one more before it was in place may or may not have reached the
  // peer, and a figure off by an advert interval is worse than none
  if (fault.afterAdvert !== undefined && lastOld && lastOld.t > fault.afterAdvert) lastOld = undefined
  const garp = r.frames.find((f) => f.kind === 'garp' && f.t >= firstNew.t && f.from === firstNew.from)
  // the old master back: its first gratuitous ARP after the takeover moves the client's traffic
  const back = r.frames.find((f) => f.kind === 'garp' && f.t > firstNew.t && f.from === fault.node)
  return { lastOld, firstNew, garp, back }
}

/** Probes in the order they started (the record holds them in the order they finished). */
export function byStart(probes: Probe[]): Probe[] {
  return [...probes].sort((a, b) => a.t - b.t)
}

/** The figures of a run nothing was measured in yet. */
export function noFigures(): Figures {
  return {
    outageMs: null,
    returnOutageMs: null,
    failedAfterRecovery: 0,
    failedAtReturn: 0,
    takeoverMs: null,
    garpAfterAdvertMs: null,
    probes: 0,
    failed: 0,
  }
}

export function figures(run: ScenarioRun, ipvs: boolean, _probeIntervalMs: number): Figures {
  // probes are recorded as they finish; every window below is about when they started
  const r = { ...run, probes: byStart(run.probes) }
  const fault = r.fault
  const restoreT = r.restore?.t ?? r.endedAt
  const wire = onTheWire(r)
  let outageMs: number | null = null
  let returnOutageMs: number | null = null
  let failedAfterRecovery = 0
  let failedAtReturn = 0
  // the return, on the client's clock: the old master's GARP; else the restore, stamped from the
  // host's clock and so widened by its error
  const returnT = wire?.back?.t ?? (r.restore ? r.restore.t - (r.clockErrorMs ?? 0) : Number.POSITIVE_INFINITY)
  if (ipvs && fault) {
    // from the last answer before the fault: the gap a user saw starts there
    const lastBefore = answeredAt(r.probes, r.startedAt, fault.t).at(-1) ?? fault.t
    // the window ends at the last answer that could have arrived: the last probe's start
    const end = Math.min(restoreT, r.probes.at(-1)?.t ?? restoreT)
    outageMs = outageIn(r.probes, lastBefore, end)
    // service is back when a connection started after the first failure is answered (answers to
    // connections begun before the fault bit say nothing); one started after that must not fail
    // before the old master returns (the return's resets are counted apart)
    const firstFail = r.probes.find((p) => p.server === null && p.t >= fault.t - 1000)
    if (firstFail) {
      const back = answeredAt(
        r.probes.filter((p) => p.t > firstFail.t),
        fault.t,
        restoreT,
      )[0]
      if (back !== undefined)
        failedAfterRecovery = r.probes.filter(
          (p) => p.server === null && p.t > back && p.t + p.ms < returnT && p.t < restoreT,
        ).length
    }
    failedAtReturn = r.probes.filter((p) => p.server === null && p.t + p.ms >= returnT).length
    if (r.restore) {
      const lastBeforeReturn = answeredAt(r.probes, fault.t, r.restore.t).at(-1) ?? r.restore.t
      returnOutageMs = outageIn(r.probes, lastBeforeReturn, r.probes.at(-1)?.t ?? r.endedAt)
    }
  }
  const { lastOld, firstNew, garp } = wire ?? {}
  return {
    outageMs,
    returnOutageMs,
    failedAfterRecovery,
    failedAtReturn,
    takeoverMs: lastOld && firstNew ? firstNew.t - lastOld.t : null,
    garpAfterAdvertMs: firstNew && garp ? garp.t - firstNew.t : null,
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

/** The old master's priority-0 advert after the fault, and the new master's first advert after it. */
function goodbyeCheck(r: ScenarioRun, node: string, boundMs: number): Check {
  const since = (r.fault?.t ?? 0) - (r.clockErrorMs ?? 0)
  const adverts = r.frames.filter((f) => f.kind === 'advert' && f.t >= since)
  const bye = adverts.find((f) => f.from === node && f.priority === 0)
  const next = bye && adverts.find((f) => f.t >= bye.t && f.from !== node && (f.priority ?? 0) > 0)
  const name = `${node} said goodbye (priority 0), the new master's first advert ≤ ${boundMs} ms after it`
  if (!bye) return { name, ok: false, detail: `no priority-0 advert from ${node}` }
  if (!next) return { name, ok: false, detail: 'no advert from a new master after it' }
  const ms = next.t - bye.t
  return { name, ok: ms <= boundMs, detail: `${next.from} ${ms} ms after it` }
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
  if (r.fault && r.bounds.goodbyeTakeoverMs !== undefined)
    out.push(goodbyeCheck(r, r.fault.node, r.bounds.goodbyeTakeoverMs))
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
  if (ipvs && syncRuns && r.fault && !r.bounds.longLossExpected) {
    const s = longSurvived(r)
    out.push({ name: 'the established connection survived (sync daemon)', ok: r.longSynced && s.ok, detail: s.detail })
  }
  return out
}
