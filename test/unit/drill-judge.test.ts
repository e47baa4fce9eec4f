// The drill's verdicts from hand-made recordings: outage from the client's answered connections,
// takeover and GARP from the capture, and each pass criterion failing when it should.
import test from 'ava'
import { byStart, commonChecks, figures, noFigures, outageIn } from '../../lab/drill/judge.js'
import { formatRun, formatSummary, spread } from '../../lab/drill/report.js'
import type { Frame, Probe, ScenarioRun, StepView } from '../../lab/drill/types.js'

const probe = (t: number, server: string | null, seq = t): Probe => ({
  k: 'probe',
  seq,
  t,
  ms: 5,
  server,
  err: server ? null : 'timeout',
})
const advert = (t: number, from: string, priority: number): Frame => ({
  t,
  kind: 'advert',
  srcMac: `02:c0:00:00:00:0${from === 'lb01' ? 1 : 2}`,
  from,
  priority,
})
const garp = (t: number, from: string): Frame => ({ t, kind: 'garp', srcMac: 'x', from, priority: null })

function step(name: string, masters: string[], expectMaster: string | null, vipNeighbour: string | null): StepView {
  return { name, t: 0, directors: [], masters, expectOneMaster: true, expectMaster, vipNeighbour }
}

/** A crash at t=1000: answers every 20 ms until 990, none until 4700, then again; lb02 takes over at 4600. */
function crashRun(over: Partial<ScenarioRun> = {}): ScenarioRun {
  const probes: Probe[] = []
  for (let t = 0; t < 8000; t += 20) probes.push(probe(t, t < 1000 || t >= 4700 ? (t % 40 ? 'web01' : 'web02') : null))
  const frames = [advert(0, 'lb01', 150), advert(990, 'lb01', 150), advert(4600, 'lb02', 100), garp(4601, 'lb02')]
  return {
    scenario: 'crash',
    title: 'crash',
    cycle: 1,
    backend: 'netns',
    startedAt: 0,
    endedAt: 8000,
    fault: { t: 1000, node: 'lb01', kind: 'crash', how: 'frozen' },
    restore: { t: 6000, how: 'thawed' },
    bounds: { outageMs: 4110, returnOutageMs: 1500, why: 'test' },
    marks: [{ t: 1000, text: 'lb01 frozen' }],
    steps: [step('lb01 crash', ['lb02'], 'lb02', 'lb02'), step('lb01 back', ['lb01'], 'lb01', 'lb01')],
    probes,
    long: [
      { k: 'long', ev: 'established', t: 10, port: 40000 },
      { k: 'long', ev: 'reply', t: 5000, server: 'web01' },
    ],
    frames,
    longSynced: true,
    clockErrorMs: 0,
    figures: noFigures(),
    checks: [],
    ok: false,
    error: null,
    ...over,
  }
}

const judged = (r: ScenarioRun, ipvs = true) => {
  r.figures = figures(r, ipvs, 20)
  return commonChecks(r, ipvs, true)
}

test('outageIn: the longest stretch without an answer, edges included', (t) => {
  t.is(outageIn([probe(0, 'a'), probe(100, 'a'), probe(400, 'a')], 0, 500), 300)
  // nothing answered in the window: the whole window is the outage
  t.is(outageIn([probe(0, null)], 0, 500), 500)
  // answers stop early: the tail counts
  t.is(outageIn([probe(0, 'a'), probe(20, 'a')], 0, 1000), 975)
  t.is(outageIn([], 10, 10), null)
})

test('a crash within its bounds passes every common check, with its figures', (t) => {
  const r = crashRun()
  const checks = judged(r)
  t.deepEqual(
    checks.filter((c) => !c.ok),
    [],
  )
  t.is(r.figures.outageMs, 4700 - 980)
  t.is(r.figures.takeoverMs, 4600 - 990)
  t.is(r.figures.garpAfterAdvertMs, 1)
  t.is(r.figures.failedAfterRecovery, 0)
  t.true(checks.some((c) => c.name.startsWith('client outage ≤ 4110 ms')))
})

test('an outage over the bound fails', (t) => {
  const r = crashRun({ bounds: { outageMs: 3000, returnOutageMs: 1500, why: 'tight' } })
  const c = judged(r).find((x) => x.name.startsWith('client outage ≤'))
  t.false(c?.ok)
  t.regex(c?.detail ?? '', /3720 ms/)
})

test('a failed request after service came back fails the run', (t) => {
  const r = crashRun()
  r.probes.push(probe(5010, null, 99999))
  r.probes.sort((a, b) => a.t - b.t)
  const c = judged(r).find((x) => x.name === 'no request failed after service came back')
  t.false(c?.ok)
  t.is(c?.detail, '1 failed')
})

test('a reset at the return is counted apart, the restore stamp widened by the clock error', (t) => {
  // restore at 6000 stamped from the host: a failure stamped 5950 on the client may be the return's
  const r = crashRun({ clockErrorMs: 100 })
  r.probes.push(probe(5950, null, 99998), probe(6500, null, 99999))
  r.probes.sort((a, b) => a.t - b.t)
  const checks = judged(r)
  t.is(r.figures.failedAfterRecovery, 0)
  t.is(r.figures.failedAtReturn, 2)
  t.true(checks.find((c) => c.name === 'no request failed after service came back')?.ok)
  const exact = crashRun({ clockErrorMs: 0 })
  exact.probes.push(probe(5950, null, 99998))
  exact.probes.sort((a, b) => a.t - b.t)
  judged(exact)
  t.is(exact.figures.failedAfterRecovery, 1)
})

test('probes are judged by when they started, not by when they finished (a slow one lands late)', (t) => {
  // recorded in finishing order: a probe started in the outage that took 4 s to fail is the last
  // line; read in that order it would end the outage window at its start
  const r = crashRun()
  const failedLate = { ...probe(3000, null, 99998), ms: 4000 }
  const refusedAfter = { ...probe(5010, null, 99997), ms: 300 }
  r.probes.push(refusedAfter, failedLate)
  t.deepEqual(
    byStart(r.probes)
      .slice(-2)
      .map((p) => p.t),
    [7960, 7980],
  )
  judged(r)
  t.is(r.figures.outageMs, 4700 - 980)
  t.is(r.figures.failedAfterRecovery, 1)
  // the record itself is left as it was
  t.is(r.probes.at(-1), failedLate)
})

test("a goodbye is required where the bounds ask for it, and the new master's first advert timed from it", (t) => {
  const bounds = { outageMs: 4110, returnOutageMs: 1500, why: 'test', goodbyeTakeoverMs: 2610 }
  const name = /^lb01 said goodbye \(priority 0\), the new master's first advert ≤ 2610 ms after it$/
  const bye = (frames: Frame[]) => judged(crashRun({ bounds, frames })).find((c) => name.test(c.name))
  const said = bye([advert(0, 'lb01', 150), advert(1200, 'lb01', 0), advert(1900, 'lb02', 100)])
  t.true(said?.ok)
  t.is(said?.detail, 'lb02 700 ms after it')
  // no goodbye: the backup took over by Master_Down_Interval; that is a crash, not a stop
  const silent = bye([advert(0, 'lb01', 150), advert(990, 'lb01', 150), advert(4600, 'lb02', 100)])
  t.false(silent?.ok)
  t.is(silent?.detail, 'no priority-0 advert from lb01')
  const slow = bye([advert(1200, 'lb01', 0), advert(4000, 'lb02', 100)])
  t.false(slow?.ok)
  t.is(slow?.detail, 'lb02 2800 ms after it')
  // a goodbye before the fault (an earlier cycle's) does not count
  t.false(bye([advert(500, 'lb01', 0), advert(4600, 'lb02', 100)])?.ok)
  // not asked for: no such check
  t.false(judged(crashRun()).some((c) => name.test(c.name)))
})

test('two masters, the wrong master, or the ARP entry elsewhere each fail', (t) => {
  const two = crashRun({ steps: [step('x', ['lb01', 'lb02'], 'lb02', 'lb02')] })
  t.false(judged(two).find((c) => c.name.startsWith('one master'))?.ok)
  const wrong = crashRun({ steps: [step('x', ['lb01'], 'lb02', 'lb02')] })
  t.false(judged(wrong).find((c) => c.name.startsWith('one master'))?.ok)
  const arp = crashRun({ steps: [step('x', ['lb02'], 'lb02', 'lb01')] })
  t.false(judged(arp).find((c) => c.name.startsWith("client's ARP entry"))?.ok)
  // a partition expects two masters: no one-master check for that step
  const split = crashRun({ steps: [{ ...step('partitioned', ['lb01', 'lb02'], null, null), expectOneMaster: false }] })
  t.false(judged(split).some((c) => c.name.startsWith('one master')))
})

test('the long connection must be synced, and live past the fault', (t) => {
  const closed = crashRun()
  closed.long.push({ k: 'long', ev: 'closed', t: 4000 })
  t.false(judged(closed).find((c) => c.name.startsWith('the established connection'))?.ok)
  const unsynced = crashRun({ longSynced: false })
  t.false(judged(unsynced).find((c) => c.name.startsWith('the established connection'))?.ok)
  const silent = crashRun()
  silent.long = silent.long.filter((e) => e.ev !== 'reply')
  t.false(judged(silent).find((c) => c.name.startsWith('the established connection'))?.ok)
})

test('without IPVS the takeover on the wire is judged, not requests', (t) => {
  const r = crashRun({ probes: [], long: [], steps: [] })
  const checks = judged(r, false)
  t.deepEqual(
    checks.map((c) => c.name),
    ['takeover on the wire (no IPVS: no requests) ≤ 4110 ms'],
  )
  t.true(checks[0]?.ok)
  const slow = crashRun({
    probes: [],
    long: [],
    steps: [],
    frames: [advert(990, 'lb01', 150), advert(6000, 'lb02', 100)],
  })
  t.false(judged(slow, false)[0]?.ok)
})

test('a scenario that expects failures (a real server died) is not judged on them', (t) => {
  const r = crashRun({ bounds: { outageMs: null, returnOutageMs: null, why: '', failuresExpected: 'web01 died' } })
  r.probes.push(probe(5010, null, 99999))
  t.false(judged(r).some((c) => c.name === 'no request failed after service came back'))
})

test('the report: a timeline on the client clock, figures, checks; the summary spreads cycles', (t) => {
  const r = crashRun()
  r.checks = judged(r)
  r.ok = r.checks.every((c) => c.ok)
  const text = formatRun(r)
  t.regex(text, /== crash: crash — PASSED/)
  t.regex(text, /\+1\.000s {2}lb01 frozen/)
  t.regex(text, /\+4\.600s {2}client sees adverts from lb02, priority 100/)
  t.regex(text, /outage 3\.720 s \(bound 4\.110 s\)/)
  t.regex(text, /✔ one master after "lb01 crash"/)
  const second = { ...crashRun(), cycle: 2, ok: false, figures: { ...r.figures, outageMs: 4000 } }
  const sum = formatSummary({
    backend: 'netns',
    topology: 'ns',
    kernel: 'k',
    ipvs: true,
    startedAt: 0,
    endedAt: 1,
    repeat: 2,
    runs: [r, second],
    skipped: [{ scenario: 'upgrade', why: 'no package' }],
    ok: false,
  })
  t.regex(sum, /crash\s+2\s+1\s+3\.720 s \/ 3\.860 s \/ 4\.000 s/)
  t.regex(sum, /upgrade\s+not run here: no package/)
  t.regex(sum, /FAILED: crash#2/)
  t.deepEqual(spread([3, null, 1, 2]), { n: 3, min: 1, median: 2, max: 3 })
  t.is(spread([null]), null)
})

test("the old master's gratuitous ARP marks the return: connections it resets are counted apart", (t) => {
  // an upgrade: no restore step; lb01 comes back by itself and preempts at 7000 (its GARP)
  const r = crashRun({ restore: null })
  r.frames.push(advert(6990, 'lb01', 150), garp(7000, 'lb01'))
  r.probes = r.probes.filter((p) => p.t < 6800)
  r.probes.push(probe(6800, null, 99997), probe(6900, 'web01', 99998))
  // in flight when the client's traffic moved back to lb01: reset after the GARP
  r.probes.push({ ...probe(6950, null, 99999), ms: 300, err: 'ECONNRESET' })
  r.probes.sort((a, b) => a.t - b.t)
  judged(r)
  t.is(r.figures.failedAtReturn, 1)
  // failed before the return, after service came back: a defect
  t.is(r.figures.failedAfterRecovery, 1)
})

test("a partition's takeover runs from the advert the cut followed; one sent while the cut went in leaves it unknown", (t) => {
  const frames = [0, 1000, 2000, 3000, 4000, 5000].map((at) => advert(at, 'lb01', 150))
  const part = (doneAt: number) =>
    crashRun({
      scenario: 'partition',
      fault: { t: 1003, doneAt, afterAdvert: 1000, node: 'lb01', kind: 'partition', how: 'cut' },
      frames: [...frames, advert(4610, 'lb02', 100)].sort((a, b) => a.t - b.t),
    })
  // the peer heard lb01 last at 1000, though the client goes on hearing it
  t.is(figures(part(1030), false, 20).takeoverMs, 3610)
  // the cut took past lb01's next advert: whether the peer heard the one at 2000 is not known
  t.is(figures(part(2010), false, 20).takeoverMs, null)
})
