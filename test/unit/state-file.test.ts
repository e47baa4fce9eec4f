// State files (/run/lvsd, /var/lib/lvsd) are written by temp file + rename in a directory only root or
// lvsd's user can change, never through a symlink someone planted.
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { readRecord, writeRecord } from '../../src/realserver/record.js'
import { stateDirDistrust, writeStateFile } from '../../src/sys/state-file.js'

function dir(t: { teardown(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'lvsd-state-'))
  t.teardown(() => rmSync(d, { recursive: true, force: true }))
  return d
}

test('writes the file whole and leaves no temporary file behind', (t) => {
  const d = dir(t)
  const p = join(d, 'run', 'held.json')
  writeStateFile(p, 'one\n')
  writeStateFile(p, 'two\n')
  t.is(readFileSync(p, 'utf8'), 'two\n')
  t.is(lstatSync(p).mode & 0o777, 0o644)
  t.deepEqual(readdirSync(join(d, 'run')), ['held.json'])
})

test('a symlink planted at the path is replaced, its target never written', (t) => {
  const d = dir(t)
  const victim = join(d, 'victim')
  writeFileSync(victim, 'precious\n')
  const p = join(d, 'held.json')
  symlinkSync(victim, p)
  writeStateFile(p, 'state\n')
  t.is(readFileSync(victim, 'utf8'), 'precious\n')
  t.false(lstatSync(p).isSymbolicLink())
  t.is(readFileSync(p, 'utf8'), 'state\n')
})

test('a directory others can write (not sticky), or a symlinked one, is refused', (t) => {
  const d = dir(t)
  const open = join(d, 'open')
  mkdirSync(open)
  chmodSync(open, 0o777)
  t.throws(() => writeStateFile(join(open, 'x.json'), '{}'), { code: 'LVSD_STATE_UNSAFE' })
  t.regex(stateDirDistrust(open) ?? '', /writable by every user \(mode 0777\)/)
  chmodSync(open, 0o1777)
  t.is(stateDirDistrust(open), undefined, 'sticky: others cannot replace our entries')
  const link = join(d, 'link')
  symlinkSync(d, link)
  t.regex(stateDirDistrust(link) ?? '', /is a symlink/)
  t.regex(stateDirDistrust(d, [12345]) ?? '', /is owned by uid/)
})

test("lvsd realserver's record is a state file: a planted symlink is replaced, a directory others can write refused", (t) => {
  const d = dir(t)
  const target = join(d, 'target')
  writeFileSync(target, 'keep\n')
  const p = join(d, 'realserver.json')
  symlinkSync(target, p)
  const change = { kind: 'sysctl' as const, key: 'net/ipv4/conf/all/arp_ignore', from: '0', to: '1' }
  writeRecord(p, [change])
  t.is(readFileSync(target, 'utf8'), 'keep\n', "the symlink's target is never written")
  t.false(lstatSync(p).isSymbolicLink())
  t.deepEqual(readRecord(p), [change])
  const open = join(d, 'open')
  mkdirSync(open)
  chmodSync(open, 0o777)
  t.throws(() => writeRecord(join(open, 'realserver.json'), [change]), { message: /writable by every user/ })
})
