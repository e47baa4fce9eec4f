// `npm run demo` (node dist/lab/demo/cli.js): the seed's LVS-DR pair in namespaces, the master
// killed, the takeover printed as a timeline. Natively when this kernel has IPVS, else in the VM.
// Exit 0 when the scenario ran to the end, 1 when it stopped short, 2 when it cannot run here.
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { report } from '../vm/guest.js'
import { VmError } from '../vm/proc.js'
import { runDemoInVm } from './in-vm.js'
import { chooseWhere } from './preflight.js'
import { runScenario } from './scenario.js'
import { formatTimeline } from './timeline.js'

const HELP = `usage: npm run demo [-- --vm | --here] [--json]
  --vm      run inside the qemu VM even when this kernel has IPVS
  --here    run on this kernel even without IPVS (then only VRRP: election, GARP, takeover)
  --json    print the recorded result as JSON after the timeline
`
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url))

async function main(): Promise<number> {
  let values: { vm?: boolean; here?: boolean; json?: boolean; report?: boolean; help?: boolean }
  try {
    values = parseArgs({
      options: {
        vm: { type: 'boolean' },
        here: { type: 'boolean' },
        json: { type: 'boolean' },
        report: { type: 'boolean' }, // internal: the VM guest hands its result to the host
        help: { type: 'boolean', short: 'h' },
      },
    }).values
  } catch (e) {
    process.stderr.write(`demo: ${(e as Error).message}\n${HELP}`)
    return 2
  }
  if (values.help) {
    process.stdout.write(HELP)
    return 0
  }
  const where = chooseWhere({ forceVm: values.vm === true, here: values.here === true })
  if (!where.ok) {
    process.stderr.write(`demo: cannot run here: ${where.reason}\n`)
    return 2
  }
  const progress = (line: string) => process.stderr.write(`${line}\n`)
  let result: Awaited<ReturnType<typeof runScenario>>
  if (where.where === 'host') {
    const inVm = process.env.LVSD_VM === '1'
    if (!inVm) progress(`demo: running on this host (${where.why})`)
    const ipvs = where.why !== 'forced with --here'
    result = await runScenario({
      repoRoot,
      where: inVm ? 'vm' : 'host',
      // each probe costs the emulated CPU in the VM (Node ~15× slower under TCG)
      probeIntervalMs: inVm ? 50 : 20,
      // natively: answered on the first SYN or failed; in the VM CPU starvation alone can pass 1 s
      probeTimeoutMs: inVm ? 2500 : 900,
      stepTimeoutMs: inVm ? 150_000 : 30_000,
      takeoverTimeoutMs: inVm ? 45_000 : 20_000,
      ipvs,
      progress,
    })
  } else {
    progress(`demo: ${where.why}; booting the qemu VM (TCG: expect 2–4 minutes)`)
    // Ctrl-C: exit through process.exit so the VM runner's exit hook stops qemu
    process.once('SIGINT', () => process.exit(130))
    try {
      const vm = await runDemoInVm(repoRoot)
      process.stderr.write(vm.stderr)
      result = vm.result
    } catch (e) {
      if (!(e instanceof VmError) && !(e instanceof Error)) throw e
      process.stderr.write(`demo: the VM run failed: ${e.message}\n`)
      return 1
    }
  }
  if (values.report) report(result)
  else process.stdout.write(formatTimeline(result))
  if (values.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
  return result.ok ? 0 : 1
}

process.exitCode = await main()
