// The director's config reader runs each load in a throwaway thread: what crosses back must be the
// same config an in-process read gives (plain data through structured clone), errors keep their
// file:line:col, and an unreadable file is a refused load, not a crash.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { readConfig } from '../../src/director/config-read.js'
import { configReader } from '../../src/director/config-source.js'
import { repoRoot } from '../helpers/paths.js'

const examples = readdirSync(join(repoRoot, 'conf'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => join(repoRoot, 'conf', f))

test('every example config crosses the thread boundary unchanged', async (t) => {
  t.true(examples.length >= 5)
  for (const file of examples) {
    const [threaded, direct] = await Promise.all([configReader(file)(), readConfig(file)])
    t.true(threaded.ok, file)
    if (!threaded.ok || !direct.ok) continue
    t.deepEqual(threaded.loaded.config, direct.loaded.config, file)
    t.is(threaded.loaded.info.hash, direct.loaded.info.hash)
    t.deepEqual(threaded.warnings, direct.warnings)
  }
})

test('an invalid file comes back refused with file:line:col; a missing one as a read error', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-config-source-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'bad.yaml')
  writeFileSync(file, 'node: lb\nvrrp:\n  instances:\n    - name: web\n      vrid: 300\n')
  const r = await configReader(file)()
  t.false(r.ok)
  if (r.ok) return
  t.regex(r.text?.join('\n') ?? '', new RegExp(`^${file}:5:\\d+ `, 'm'))
  t.true(r.info.hash.length === 64)
  const missing = await configReader(join(dir, 'none.yaml'))()
  t.false(missing.ok)
  if (!missing.ok) t.regex(missing.errors[0]?.message ?? '', /cannot read .*none\.yaml: ENOENT/)
})

test('a reader thread that fails is a refused load naming the file and the error, never a rejection', async (t) => {
  const boom = new URL(`data:text/javascript,${encodeURIComponent("throw new Error('boom')")}`)
  const r = await configReader('/etc/lvsd/lvsd.yaml', boom)()
  t.false(r.ok)
  if (!r.ok)
    t.regex(
      r.errors[0]?.message ?? '',
      /^cannot load \/etc\/lvsd\/lvsd\.yaml: the reader thread failed \(Error: boom\)/,
    )
})
