// `lvsd drill` on this host's namespaces (root; this kernel has no IPVS, so VRRP only: the takeover
// is judged on the client's wire, requests in the VM tier's drill). Every scenario that can run here
// runs once through the real CLI; the JSON report must show each passed with figures the RFC timers
// explain, the ones that need IPVS skipped with why, and no namespace or filter left behind.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { masterDownMs } from '../../lab/demo/plan.js'
import { skewMs } from '../../lab/drill/engine.js'
import type { DrillReport } from '../../lab/drill/types.js'
import { repoRoot } from '../helpers/paths.js'

// only the drill's own (lvsdrill<pid>-…): the netns tier runs other files beside this one
const netnsList = () =>
  (spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '')
    .split('\n')
    .filter((l) => l.startsWith('lvsdrill'))
    .join('\n')

test('lvsd drill --backend netns: every scenario this kernel can run passes, with RFC-explained figures', (t) => {
  if (process.getuid?.() !== 0) throw new Error('the drill test needs root (network namespaces)')
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-drill-test-'))
  const json = join(dir, 'report.json')
  const before = netnsList()
  try {
    const r = spawnSync(process.execPath, [join(repoRoot, 'bin/lvsd.js'), 'drill', '--json', json], {
      encoding: 'utf8',
      timeout: 600_000,
    })
    t.is(r.status, 0, `${r.stdout.slice(-3000)}\n${r.stderr.slice(-2000)}`)
    const rep = JSON.parse(readFileSync(json, 'utf8')) as DrillReport
    t.false(rep.ipvs)
    t.deepEqual(
      rep.runs.map((x) => x.scenario),
      ['crash', 'link-down', 'clean-stop', 'reboot', 'partition', 'reload'],
    )
    t.deepEqual(
      rep.skipped.map((s) => s.scenario),
      ['realserver-death', 'upgrade', 'sync-blocked'],
    )
    for (const run of rep.runs) t.true(run.ok, `${run.scenario}: ${JSON.stringify(run.checks.filter((c) => !c.ok))}`)
    const fig = (name: string) => rep.runs.find((x) => x.scenario === name)?.figures.takeoverMs ?? Number.NaN
    // a silent master is replaced after lb02's Master_Down_Interval, not before (RFC 5798 §6.4.2)
    for (const name of ['crash', 'link-down', 'partition']) {
      t.true(fig(name) >= masterDownMs(100) - 20, `${name}: ${fig(name)} ms`)
      t.true(fig(name) <= masterDownMs(100) + 500, `${name}: ${fig(name)} ms`)
    }
    // a master that leaves says so (priority 0): the backup waits only Skew_Time
    for (const name of ['clean-stop', 'reboot']) {
      t.true(fig(name) >= skewMs(100) - 20, `${name}: ${fig(name)} ms`)
      t.true(fig(name) <= skewMs(100) + 500, `${name}: ${fig(name)} ms`)
    }
    t.regex(r.stdout, /== crash: master crash.* — PASSED/)
    t.regex(r.stdout, /all runs passed/)
    const reload = rep.runs.find((x) => x.scenario === 'reload')
    t.regex(reload?.checks.find((c) => c.name.startsWith('bad reload refused on lb01'))?.detail ?? '', /\.yaml:\d+:\d+/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  t.is(netnsList(), before, 'the drill left namespaces behind')
})
