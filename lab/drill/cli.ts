// `lvsd drill` (from a source checkout; also `npm run drill`): failover drills against a director
// pair, on one of three backends, printing a timeline per run and a summary, and writing a JSON
// report. Exit 0 when every run passed, 1 when one failed, 2 when the drill cannot run here.
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { kernelHasIpvs, namespacesUsable } from '../demo/preflight.js'
import { report } from '../vm/guest.js'
import type { DrillBackend } from './backend.js'
import { DrillEngine } from './engine.js'
import { runDrillInVm } from './in-vm.js'
import { NetnsBackend } from './netns-backend.js'
import { formatRun, formatSummary } from './report.js'
import { SCENARIOS } from './scenarios.js'
import type { BackendName, DrillReport } from './types.js'
import { VagrantBackend } from './vagrant-backend.js'

export const DRILL_HELP = `usage: lvsd drill [--backend netns|vm|vagrant] [--scenario NAME,...] [--repeat N] [--json FILE]
  --backend   netns: namespaces on this kernel (VRRP only when it has no IPVS; the default)
              vm: the same namespaces inside a qemu VM booting Debian's kernel (real IPVS)
              vagrant: the Vagrant topology in vagrant/ (bring it up first: vagrant/README.md)
  --scenario  run only these (default all): ${SCENARIOS.map((s) => s.name).join(', ')}
  --repeat N  run the scenarios N times and report min/median/max and every failed cycle
  --json FILE write the whole report (every run's timeline data) as JSON
`
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))

interface Args {
  backend: BackendName
  scenarios: string[]
  repeat: number
  json?: string
  report: boolean
}

function parse(argv: string[]): Args | string {
  let v: Record<string, string | boolean | undefined>
  try {
    v = parseArgs({
      args: argv,
      options: {
        backend: { type: 'string', default: 'netns' },
        scenario: { type: 'string' },
        repeat: { type: 'string', default: '1' },
        json: { type: 'string' },
        report: { type: 'boolean' }, // internal: the VM guest hands its report to the host
        help: { type: 'boolean', short: 'h' },
      },
    }).values
  } catch (e) {
    return (e as Error).message
  }
  if (v.help) return ''
  const backend = String(v.backend)
  if (!['netns', 'vm', 'vagrant'].includes(backend)) return `unknown backend ${backend}`
  const repeat = Number(v.repeat)
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 1000) return `--repeat wants a whole number 1-1000`
  const scenarios =
    typeof v.scenario === 'string' ? v.scenario.split(',').filter(Boolean) : SCENARIOS.map((s) => s.name)
  const unknown = scenarios.filter((n) => !SCENARIOS.some((s) => s.name === n))
  if (unknown.length)
    return `unknown scenario ${unknown.join(', ')} (known: ${SCENARIOS.map((s) => s.name).join(', ')})`
  return {
    backend: backend as BackendName,
    scenarios,
    repeat,
    ...(typeof v.json === 'string' ? { json: v.json } : {}),
    report: v.report === true,
  }
}

/** Runs the scenarios on a backend that is up; the engine never leaves a fault behind. */
export async function drill(b: DrillBackend, a: Args, say: (l: string) => void): Promise<DrillReport> {
  const rep: DrillReport = {
    backend: b.name,
    topology: b.topology,
    kernel: '',
    ipvs: b.ipvs,
    startedAt: Date.now(),
    endedAt: 0,
    repeat: a.repeat,
    runs: [],
    skipped: [],
    ok: false,
  }
  const chosen = SCENARIOS.filter((s) => a.scenarios.includes(s.name))
  const runnable = chosen.filter((s) => {
    const can = b.can(s.fault)
    if (can !== true) rep.skipped.push({ scenario: s.name, why: can })
    return can === true
  })
  const engine = new DrillEngine(b, say)
  // interrupted mid-fault (Ctrl-C, a CI timeout): put the pair back before leaving
  const onSignal = (sig: NodeJS.Signals) => {
    say(`drill: ${sig}: undoing faults`)
    void engine
      .recover(say)
      .then(() => b.down())
      .finally(() => process.exit(sig === 'SIGINT' ? 130 : 143))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    await b.up(engine.sink, say)
    rep.kernel = b.kernel()
    const { runs, notRun } = await engine.runAll(runnable, a.repeat, (r) => {
      if (!a.report) process.stdout.write(`${formatRun(r)}\n`)
    })
    rep.runs.push(...runs)
    rep.skipped.push(...notRun)
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await b.down()
  }
  rep.endedAt = Date.now()
  rep.ok = rep.runs.length > 0 && rep.runs.every((r) => r.ok)
  return rep
}

async function inVm(a: Args, say: (l: string) => void): Promise<DrillReport> {
  say('drill: booting the qemu VM (TCG: expect several minutes)')
  process.once('SIGINT', () => process.exit(130))
  const { report: rep, stderr } = await runDrillInVm(repoRoot, a.scenarios, a.repeat)
  process.stderr.write(stderr)
  for (const r of rep.runs) process.stdout.write(`${formatRun(r)}\n`)
  return rep
}

export async function drillMain(argv: string[]): Promise<number> {
  const a = parse(argv)
  if (typeof a === 'string') {
    if (a) process.stderr.write(`lvsd drill: ${a}\n`)
    ;(a ? process.stderr : process.stdout).write(DRILL_HELP)
    return a ? 64 : 0
  }
  const say = (l: string) => process.stderr.write(`${l}\n`)
  let rep: DrillReport
  try {
    if (a.backend === 'vm') rep = await inVm(a, say)
    else if (a.backend === 'vagrant') rep = await drill(await VagrantBackend.connect(repoRoot), a, say)
    else {
      const why = namespacesUsable()
      if (why) {
        process.stderr.write(`lvsd drill: cannot run here: ${why}\n`)
        return 2
      }
      const ipvs = kernelHasIpvs()
      if (!ipvs && process.env.LVSD_VM !== '1')
        say('drill: this kernel has no IPVS: VRRP only, requests are not judged (--backend vm for real IPVS)')
      rep = await drill(new NetnsBackend({ repoRoot, ipvs, inVm: process.env.LVSD_VM === '1' }), a, say)
    }
  } catch (e) {
    process.stderr.write(`lvsd drill: ${e instanceof Error ? e.message : String(e)}\n`)
    return 2
  }
  if (a.report) report(rep)
  else process.stdout.write(formatSummary(rep))
  if (a.json) writeFileSync(a.json, `${JSON.stringify(rep, null, 2)}\n`)
  return rep.ok ? 0 : 1
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1])
  process.exitCode = await drillMain(process.argv.slice(2))
