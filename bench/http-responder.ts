// The C HTTP responder of the health benches (bench/health-http-responder.c), compiled into a
// temporary directory: Node's own HTTP server tops out below the rate the prober asks for.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export function buildResponder(): { path: string; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-http-responder-'))
  const path = join(dir, 'responder')
  const source = fileURLToPath(new URL('../../bench/health-http-responder.c', import.meta.url))
  execFileSync('cc', ['-O2', '-o', path, source])
  return { path, dispose: () => rmSync(dir, { recursive: true, force: true }) }
}
