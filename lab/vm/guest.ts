// How a vm-tier test runs its own node "agent" inside the VM and gets a JSON result back.
//
// Host side (in test/vm/x.test.ts):   const { value } = await runAgent<R>('dist/test/vm/agents/x.js', ['arg'])
// Guest side (test/vm/agents/x.ts):   …checks against the real kernel…; report(result)
//
// The agent is the compiled .js under dist/ (the guest sees the repository read-only at the same
// path), runs as root with NO_COLOR=1, and may write files into $LVSD_VM_OUT (they come back in
// `run.outFiles`). Node in the guest is ~15× slower than on the host (TCG): do many checks per boot.
import { runInVm, type VmRunOptions, type VmRunResult } from './runner.js'

/** Marks the result line, so whatever else the agent or its children print cannot be mistaken for it. */
export const RESULT_MARK = '@@lvsd-vm-result '

/** Guest side: prints `value` as the agent's result (call once, at the end). */
export function report(value: unknown): void {
  process.stdout.write(`\n${RESULT_MARK}${JSON.stringify(value)}\n`)
}

/** Host side: the reported value in `stdout`, or undefined when the agent reported nothing. */
export function parseReport<T>(stdout: string): T | undefined {
  const line = stdout
    .split('\n')
    .reverse()
    .find((l) => l.startsWith(RESULT_MARK))
  return line === undefined ? undefined : (JSON.parse(line.slice(RESULT_MARK.length)) as T)
}

export class AgentError extends Error {
  override readonly name = 'AgentError'
  constructor(
    message: string,
    readonly run: VmRunResult,
  ) {
    super(message)
  }
}

/**
 * Boots a VM, runs `node <script> ...args` in it and returns the reported value with the raw run.
 * Throws AgentError (with stdout/stderr/console in `run`) when the agent reported nothing; a
 * non-zero exit status is returned, not thrown, so a test can assert on it.
 */
export async function runAgent<T>(
  script: string,
  args: string[] = [],
  opts: Omit<VmRunOptions, 'command'> = {},
): Promise<{ value: T; run: VmRunResult }> {
  const run = await runInVm({ timeoutMs: 180_000, ...opts, command: ['node', script, ...args] })
  const value = parseReport<T>(run.stdout)
  if (value === undefined) {
    const tail = (s: string) => s.slice(-3000)
    throw new AgentError(
      `agent ${script} reported no result (exit ${run.status})\nstderr:\n${tail(run.stderr)}\nconsole:\n${tail(run.console)}`,
      run,
    )
  }
  return { value, run }
}
