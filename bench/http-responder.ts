// The C HTTP responder of the health benches (bench/health-http-responder.c), compiled into a
// temporary directory: Node's own HTTP server tops out below the rate the prober asks for.
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** `under`: where to make the temporary directory (default the OS's; the VM sees the repository, not /tmp). */
export function buildResponder(under = tmpdir()): { path: string; dispose: () => void } {
  mkdirSync(under, { recursive: true })
  const dir = mkdtempSync(join(under, 'lvsd-http-responder-'))
  const path = join(dir, 'responder')
  const source = fileURLToPath(new URL('../../bench/health-http-responder.c', import.meta.url))
  execFileSync('cc', ['-O2', '-o', path, source])
  return { path, dispose: () => rmSync(dir, { recursive: true, force: true }) }
}
