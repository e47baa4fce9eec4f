// Pure parts of tracking and notify: rise/fall counting, the integer of a tracked file, users from
// a passwd file, and the programs (with keepalived's arguments) a transition runs.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { lookupUser } from '../../src/sys/users.js'
import { notifyRuns, notifyState } from '../../src/vrrp/main/notify.js'
import { parseTrackFile, ScriptState } from '../../src/vrrp/main/track.js'

test('a script starts up, goes down after fall failures in a row and up after rise successes', (t) => {
  const s = new ScriptState(2, 3)
  t.true(s.up)
  t.false(s.record(false))
  t.false(s.record(false))
  t.false(s.record(true), 'a success breaks the failure streak')
  t.false(s.record(false))
  t.false(s.record(false))
  t.true(s.record(false))
  t.false(s.up)
  t.false(s.record(true))
  t.true(s.record(true))
  t.true(s.up)
})

test('a tracked file holds a signed integer; anything else counts as 0', (t) => {
  t.is(parseTrackFile('60\n'), 60)
  t.is(parseTrackFile('  -5 trailing'), -5)
  t.is(parseTrackFile('+7'), 7)
  t.is(parseTrackFile(''), 0)
  t.is(parseTrackFile('abc'), 0)
  t.is(parseTrackFile(undefined), 0)
})

test('users are looked up in a passwd file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-passwd-'))
  const f = join(dir, 'passwd')
  writeFileSync(f, 'root:x:0:0:root:/root:/bin/sh\nlvsd:x:998:997::/nonexistent:/usr/sbin/nologin\n')
  t.deepEqual(await lookupUser('lvsd', f), { uid: 998, gid: 997 })
  t.is(await lookupUser('nobody-here', f), undefined)
})

test("notify: the state's own program, then 'any' with type, name, state and priority", (t) => {
  const spec = { master: ['/bin/m'], any: ['/bin/a', 'x'] }
  t.deepEqual(notifyRuns(spec, 'INSTANCE', 'web', 'MASTER', 150), [
    { argv: ['/bin/m'] },
    { argv: ['/bin/a', 'x', 'INSTANCE', 'web', 'MASTER', '150'] },
  ])
  t.deepEqual(notifyRuns(spec, 'INSTANCE', 'web', 'BACKUP', 100), [
    { argv: ['/bin/a', 'x', 'INSTANCE', 'web', 'BACKUP', '100'] },
  ])
  t.is(notifyState('INIT'), 'STOP')
  t.is(notifyState('FAULT'), 'FAULT')
})
