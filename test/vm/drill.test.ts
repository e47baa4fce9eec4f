// `lvsd drill --backend vm`: every scenario the namespaces can run, inside the qemu VM booting
// Debian's kernel (real IPVS, the sync daemon), in one boot. Each run must pass its own criteria
// (one master after every step, the client's outage within the RFC timers plus the TCG margin, no
// request failed once service came back, the synced connection alive, the ARP entry on the master),
// and the figures must be the RFC's: a silent master replaced after Master_Down_Interval, a leaving
// one after Skew_Time.
import test from 'ava'
import { masterDownMs } from '../../lab/demo/plan.js'
import { skewMs } from '../../lab/drill/engine.js'
import { runDrillInVm } from '../../lab/drill/in-vm.js'
import { formatRun, formatSummary } from '../../lab/drill/report.js'
import { SCENARIOS } from '../../lab/drill/scenarios.js'
import { repoRoot } from '../helpers/paths.js'

const names = SCENARIOS.map((s) => s.name).filter((n) => n !== 'upgrade')

test('every scenario passes in the VM with real IPVS, with the RFC timers in its figures', async (t) => {
  t.timeout(1_500_000)
  const { report } = await runDrillInVm(repoRoot, names, 1)
  for (const r of report.runs) t.log(`\n${formatRun(r)}`)
  t.log(`\n${formatSummary(report)}`)
  t.true(report.ipvs)
  t.is(report.backend, 'vm')
  t.deepEqual(
    report.runs.map((r) => r.scenario),
    names,
  )
  for (const r of report.runs)
    t.true(r.ok, `${r.scenario}: ${r.error ?? JSON.stringify(r.checks.filter((c) => !c.ok))}`)
  const fig = (name: string) => report.runs.find((x) => x.scenario === name)?.figures.takeoverMs ?? Number.NaN
  for (const name of ['crash', 'link-down', 'partition']) {
    t.true(fig(name) >= masterDownMs(100) - 50, `${name}: ${fig(name)} ms`)
    t.true(fig(name) <= masterDownMs(100) + 2000, `${name}: ${fig(name)} ms`)
  }
  for (const name of ['clean-stop', 'reboot']) {
    t.true(fig(name) >= skewMs(100) - 50, `${name}: ${fig(name)} ms`)
    t.true(fig(name) <= skewMs(100) + 2000, `${name}: ${fig(name)} ms`)
  }
  // the sync scenario's own proof that the block worked and what it cost
  const sync = report.runs.find((r) => r.scenario === 'sync-blocked')
  t.true(sync?.checks.some((c) => c.name.startsWith('the connection opened while sync was blocked') && c.ok))
})
