// A bench's C helper (bench/agents/*.c) compiled with the host's cc into `dir`: the machine's own
// floor next to which lvsd's figures are read.
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** Compiles bench/agents/<name>.c to <dir>/<name>; returns the binary's path or throws cc's errors. */
export function buildC(name: string, dir: string): string {
  const out = join(dir, name)
  const cc = spawnSync('cc', [
    '-O2',
    '-o',
    out,
    fileURLToPath(new URL(`../../../bench/agents/${name}.c`, import.meta.url)),
  ])
  if (cc.status !== 0) throw new Error(`cc ${name}.c failed: ${cc.stderr}`)
  return out
}
