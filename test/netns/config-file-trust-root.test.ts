// Root tier (chown): a configuration file writable by a group other than root's is refused by
// lvsd check and by start-up/reload, naming the group and the mode. No namespace is needed; it sits
// in this tier because only root can give a file to another group.
import { chmodSync, chownSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { loadConfigFile } from '../../src/config/load.js'
import { readConfig } from '../../src/director/config-read.js'

test('a file writable by a group other than root’s is refused by check and by run/reload', async (t) => {
  if (process.getuid?.() !== 0) throw new Error('this tier runs as root (chown to another group)')
  const d = mkdtempSync(join(tmpdir(), 'lvsd-conf-root-'))
  t.teardown(() => rmSync(d, { recursive: true, force: true }))
  const p = join(d, 'lvsd.yaml')
  writeFileSync(p, 'node: lb01\n')
  chmodSync(p, 0o664)
  chownSync(p, 0, 100)
  const r = await loadConfigFile(p)
  t.false(r.ok)
  if (!r.ok) t.regex(r.errors[0]!.message, /is writable by group 100 \(mode 0664\)/)
  const rr = await readConfig(p)
  t.false(rr.ok)
  if (!rr.ok) t.regex(rr.text?.[0] ?? '', /is writable by group 100 \(mode 0664\)/)
  // the same file given back to root's group loads
  chownSync(p, 0, 0)
  t.true((await loadConfigFile(p)).ok)
})
