// The drill's readable output: per run a timeline on the client's clock (the operator's marks, what
// the client saw on the wire and in its connections) with the figures and each check; then per
// scenario the figures over all cycles. Pure: recorded runs in, text out.
import { garpBursts } from '../demo/timeline.js'
import type { DrillReport, ScenarioRun } from './types.js'

const s3 = (ms: number) => `${(ms / 1000).toFixed(3)} s`
const opt = (ms: number | null) => (ms === null ? '—' : s3(ms))

/** Where the master's adverts came from changed: the wire's view of a takeover or a return. */
function advertChanges(r: ScenarioRun): [number, string][] {
  const out: [number, string][] = []
  let last: string | null = null
  for (const f of r.frames) {
    if (f.kind !== 'advert') continue
    const who = `${f.from ?? f.srcMac}${f.priority === 0 ? ' (priority 0: leaving)' : ''}`
    if (who !== last) out.push([f.t, `client sees adverts from ${who}, priority ${f.priority}`])
    last = who
  }
  return out
}

export function timeline(r: ScenarioRun): [number, string][] {
  const ev: [number, string][] = r.marks.map((m) => [m.t, m.text])
  ev.push(...advertChanges(r))
  for (const b of garpBursts(r.frames))
    ev.push([b.t, `client sees ${b.count} gratuitous ARP(s) for the VIP from ${b.from}`])
  if (r.fault) {
    const failed = r.probes.find((p) => p.server === null && p.t >= r.fault!.t - 1000)
    if (failed) ev.push([failed.t, `first failed connection (${failed.err})`])
    const back = r.probes.find((p) => p.server !== null && failed !== undefined && p.t > failed.t)
    if (back) ev.push([back.t + back.ms, `answered again (by ${back.server}, a connection begun after the failure)`])
  }
  for (const e of r.long) if (e.ev === 'error' || e.ev === 'closed') ev.push([e.t, `long connection ${e.ev}`])
  // failures after service came back: each a defect, shown where they happened (first few)
  if (r.fault && r.figures.failedAfterRecovery > 0) {
    const back = ev.find(([, text]) => text.startsWith('answered again'))?.[0] ?? r.fault.t
    const late = r.probes.filter((p) => p.server === null && p.t > back && p.t < (r.restore?.t ?? r.endedAt))
    for (const p of late.slice(0, 5)) ev.push([p.t, `connection failed after service came back (${p.err}, ${p.ms} ms)`])
  }
  return ev.sort((a, b) => a[0] - b[0])
}

export function formatRun(r: ScenarioRun): string {
  const lines = [
    `== ${r.scenario}${r.cycle > 1 ? ` (cycle ${r.cycle})` : ''}: ${r.title} — ${r.ok ? 'PASSED' : 'FAILED'}`,
  ]
  for (const [t, text] of timeline(r))
    lines.push(`  ${`+${((t - r.startedAt) / 1000).toFixed(3)}s`.padStart(10)}  ${text}`)
  const f = r.figures
  const fig = [
    `outage ${opt(f.outageMs)}${r.bounds.outageMs !== null ? ` (bound ${s3(r.bounds.outageMs)})` : ''}`,
    `at the return ${opt(f.returnOutageMs)}`,
    `takeover on the wire ${opt(f.takeoverMs)}`,
    `GARP ${f.garpAfterAdvertMs === null ? '—' : `${f.garpAfterAdvertMs} ms`} after the first advert`,
    `${f.probes} connections, ${f.failed} failed${f.failedAtReturn ? ` (${f.failedAtReturn} reset at the return)` : ''}`,
  ]
  lines.push(`  figures: ${fig.join(' · ')}`)
  if (r.bounds.why) lines.push(`  bounds: ${r.bounds.why}`)
  for (const c of r.checks) lines.push(`  ${c.ok ? '✔' : '✘'} ${c.name} — ${c.detail}`)
  if (r.error) lines.push(`  ✘ stopped short: ${r.error}`)
  return `${lines.join('\n')}\n`
}

export interface Spread {
  n: number
  min: number
  median: number
  max: number
}

export function spread(xs: (number | null)[]): Spread | null {
  const v = xs.filter((x): x is number => x !== null).sort((a, b) => a - b)
  if (!v.length) return null
  const mid = v.length >> 1
  const median = v.length % 2 ? (v[mid] as number) : ((v[mid - 1] as number) + (v[mid] as number)) / 2
  return { n: v.length, min: v[0] as number, median, max: v.at(-1) as number }
}

const fmtSpread = (s: Spread | null) => (s ? `${s3(s.min)} / ${s3(s.median)} / ${s3(s.max)}` : '—')

export function formatSummary(rep: DrillReport): string {
  const names = [...new Set(rep.runs.map((r) => r.scenario))]
  const lines = [
    `drill on ${rep.backend} (${rep.topology}), kernel ${rep.kernel}, ${rep.ipvs ? 'real IPVS' : 'no IPVS: VRRP only, requests not judged'}, ${rep.repeat} cycle(s)`,
    '',
    'scenario            runs  failed  outage min / median / max        takeover on the wire min / median / max',
  ]
  for (const n of names) {
    const rs = rep.runs.filter((r) => r.scenario === n)
    const failed = rs.filter((r) => !r.ok).length
    lines.push(
      `${n.padEnd(19)} ${String(rs.length).padStart(4)}  ${String(failed).padStart(6)}  ${fmtSpread(spread(rs.map((r) => r.figures.outageMs))).padEnd(32)} ${fmtSpread(spread(rs.map((r) => r.figures.takeoverMs)))}`,
    )
  }
  for (const s of rep.skipped) lines.push(`${s.scenario.padEnd(19)} not run here: ${s.why}`)
  const bad = rep.runs.filter((r) => !r.ok)
  lines.push('', bad.length ? `FAILED: ${bad.map((r) => `${r.scenario}#${r.cycle}`).join(', ')}` : 'all runs passed')
  return `${lines.join('\n')}\n`
}
