// Host side of bench/ipvs-apply.ts: boots the lab VM, runs the bench in it and prints its figures.
//   node dist/bench/ipvs-apply-vm.js [windows=1,64] [rounds=1] [profile-dir]   (with a directory: V8 CPU profiles of lvsd)
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runInVm } from '../lab/vm/runner.js'

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const windows = process.argv[2] ?? '1,64'
const rounds = process.argv[3] ?? '1'
const profDir = process.argv[4]
const run = await runInVm({
  command: ['node', 'dist/bench/ipvs-apply.js', 'all', windows, rounds],
  cwd: repo,
  timeoutMs: 3_000_000,
  env: profDir ? { LVSD_BENCH_PROF: '1' } : {},
})
if (profDir) {
  mkdirSync(profDir, { recursive: true })
  for (const [name, text] of Object.entries(run.outFiles)) writeFileSync(join(profDir, name), text)
}
process.stdout.write(run.stdout)
process.stderr.write(run.stderr.slice(-4000))
process.stdout.write(`VM: kernel ${run.kernel}, ${Math.round(run.durationMs / 1000)} s wall, exit ${run.status}\n`)
process.exitCode = run.status ?? 1
