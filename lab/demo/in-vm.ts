// The demo inside the qemu VM (Debian's kernel, real IPVS): the guest runs this same CLI with
// --here --report, and the host gets the recorded result back to print or assert on.
import { parseReport } from '../vm/guest.js'
import { runInVm } from '../vm/runner.js'
import type { DemoResult } from './events.js'

export class DemoVmError extends Error {
  override readonly name = 'DemoVmError'
}

export async function runDemoInVm(
  repoRoot: string,
  timeoutMs = 540_000,
): Promise<{ result: DemoResult; stderr: string }> {
  const run = await runInVm({
    command: ['node', 'dist/lab/demo/cli.js', '--here', '--report'],
    cwd: repoRoot,
    timeoutMs,
  })
  const result = parseReport<DemoResult>(run.stdout)
  if (!result) {
    throw new DemoVmError(
      `the demo reported no result from the VM (exit ${run.status})\n${run.stderr.slice(-4000)}\n${run.console.slice(-2000)}`,
    )
  }
  return { result, stderr: run.stderr }
}
