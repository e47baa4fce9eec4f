// A configuration file others can change (or one in a directory they can change) is refused by
// lvsd check (loadConfigFile) and by start-up and reload (readConfig), with the reason at 1:1.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { formatIssue, loadConfigFile } from '../../src/config/load.js'
import { readConfig } from '../../src/director/config-read.js'

const TEXT = 'node: lb01\n'

function file(t: { teardown(fn: () => void): void }, mode: number, sub?: { mode: number }) {
  const d = mkdtempSync(join(tmpdir(), 'lvsd-conf-'))
  t.teardown(() => rmSync(d, { recursive: true, force: true }))
  let dir = d
  if (sub) {
    dir = join(d, 'shared')
    mkdirSync(dir)
    chmodSync(dir, sub.mode)
  }
  const p = join(dir, 'lvsd.yaml')
  writeFileSync(p, TEXT)
  chmodSync(p, mode)
  return p
}

test('a file only its owner can write loads', async (t) => {
  t.true((await loadConfigFile(file(t, 0o644))).ok)
  t.true((await readConfig(file(t, 0o600))).ok)
})

test('a world-writable file is refused by check and by run/reload, at 1:1', async (t) => {
  const p = file(t, 0o666)
  const r = await loadConfigFile(p)
  t.false(r.ok)
  if (!r.ok)
    t.is(
      formatIssue(r.errors[0]!),
      `${p}:1:1 (document): ${p} is writable by every user (mode 0666): whoever can change the configuration controls lvsd (chown root, chmod go-w)`,
    )
  const rr = await readConfig(p)
  t.false(rr.ok)
  if (!rr.ok) t.regex(rr.text?.[0] ?? '', /:1:1 \(document\): .* is writable by every user \(mode 0666\)/)
})

// (a file writable by another group needs chown, so root: test/netns/config-file-trust-root.test.ts)
test('a file in a world-writable directory is refused', async (t) => {
  const inShared = file(t, 0o644, { mode: 0o777 })
  const r2 = await loadConfigFile(inShared)
  t.false(r2.ok)
  if (!r2.ok) t.regex(r2.errors[0]!.message, /directory \S+\/shared on its path is writable by every user/)
})
