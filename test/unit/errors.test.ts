// The error-code table and docs/errors.md list the same codes, and errors survive a thread hop.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { CODES, isLvsdError, LvsdError } from '../../src/errors.js'
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
