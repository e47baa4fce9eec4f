// The error-code table and docs/errors.md list the same codes, and errors survive a thread hop.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { CODES, fromWireError, isLvsdError, LvsdError, toWireError } from '../../src/errors.js'
import { repoRoot } from '../helpers/paths.js'

const documented = [
  ...readFileSync(join(repoRoot, 'docs', 'errors.md'), 'utf8').matchAll(/^\| `(LVSD_[A-Z0-9_]+)` +\|/gm),
].map((m) => m[1])

test('every error code is documented in docs/errors.md, and every documented code exists', (t) => {
  t.deepEqual([...documented].sort(), Object.keys(CODES).sort())
})

test('an error rebuilt from its JSON after structuredClone keeps code and details', (t) => {
  const e = new LvsdError('LVSD_NL_KERNEL', 'NEW_DEST refused', { errno: 17, code: 'EEXIST' })
  const cloned = structuredClone(e.toJSON())
  const back = LvsdError.fromJSON(cloned)
  t.true(isLvsdError(back, 'LVSD_NL_KERNEL'))
  t.deepEqual(back.details, { errno: 17, code: 'EEXIST' })
  t.is(back.message, 'NEW_DEST refused')
  t.false(isLvsdError(new Error('plain'), 'LVSD_NL_KERNEL'))
})

test('errors cross a thread as data and keep code, errno and details', (t) => {
  const lvsd = new LvsdError('LVSD_NL_KERNEL', 'RTM_NEWADDR failed', { code: 'EEXIST', op: 'RTM_NEWADDR' })
  const w = structuredClone(toWireError(lvsd))
  const back = fromWireError(w)
  t.true(isLvsdError(back, 'LVSD_NL_KERNEL'))
  t.deepEqual(back.details, { code: 'EEXIST', op: 'RTM_NEWADDR' })
  const sys = Object.assign(new Error('socket: Operation not permitted'), { code: 'EPERM', syscall: 'socket' })
  t.deepEqual(structuredClone(toWireError(sys)), {
    code: 'LVSD_INTERNAL',
    message: 'socket: Operation not permitted',
    details: { name: 'Error', errno: 'EPERM', syscall: 'socket' },
  })
  t.like(toWireError('plain text'), { code: 'LVSD_INTERNAL', message: 'plain text' })
})
