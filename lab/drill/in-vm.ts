// The drill inside the qemu VM (Debian's kernel, real IPVS): the guest runs the netns backend
// with --report and the host gets the whole report back, to print or to assert on.
import { parseReport } from '../vm/guest.js'
import { runInVm } from '../vm/runner.js'
import type { DrillReport } from './types.js'

export async function runDrillInVm(
  repoRoot: string,
  scenarios: string[],
  repeat: number,
): Promise<{ report: DrillReport; stderr: string }> {
  const args = ['--backend', 'netns', '--report', '--scenario', scenarios.join(','), '--repeat', String(repeat)]
  const run = await runInVm({
    command: ['node', 'dist/lab/drill/cli.js', ...args],
    cwd: repoRoot,
    // settling under TCG takes ~1 min, each scenario up to 2
    timeoutMs: 240_000 + scenarios.length * repeat * 120_000,
  })
  const report = parseReport<DrillReport>(run.stdout)
  if (!report) {
    throw new Error(
      `the drill reported nothing from the VM (exit ${run.status})\n${run.stderr.slice(-3000)}\n${run.console.slice(-2000)}`,
    )
  }
  return { report, stderr: run.stderr }
}
