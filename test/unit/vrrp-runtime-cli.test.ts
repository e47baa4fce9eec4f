// `lvsd run` before anything runs: a missing -c or a bad --log-format is a usage error (64), an
// invalid or unreadable configuration prints its errors and exits 2 without starting the worker.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { repoRoot } from '../helpers/paths.js'

const lvsd = (...args: string[]) =>
  spawnSync(process.execPath, [join(repoRoot, 'bin/lvsd.js'), ...args], { encoding: 'utf8', timeout: 30_000 })

test('run without -c, or with an unknown log format, is a usage error', (t) => {
  t.is(lvsd('run').status, 64)
  t.is(lvsd('run', '-c', '/x.yaml', '--log-format', 'xml').status, 64)
  t.regex(lvsd('run', '--help').stdout, /lvsd run -c FILE/)
})

test('run with an invalid configuration prints every error with its position and exits 2', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-run-'))
  const f = join(dir, 'bad.yaml')
  writeFileSync(
    f,
    'node: d1\nvrrp:\n  instances:\n    - name: web\n      interface: eth0\n      vrid: 300\n      vips: [10.0.0.3/24]\n',
  )
  const r = lvsd('run', '-c', f)
  t.is(r.status, 2)
  t.regex(r.stderr, new RegExp(`${f}:6:\\d+ vrrp\\.instances\\[0\\]\\.vrid: `))
  t.regex(r.stderr, /1 error, configuration rejected/)
  t.is(lvsd('run', '-c', join(dir, 'missing.yaml')).status, 2)
})
