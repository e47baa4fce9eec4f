// Quorum with hysteresis (src/director/quorum.ts): the first observation decides on the plain quorum;
// after that the state only flips past the far edge of the band, so a total weight moving inside
// (quorum − hysteresis, quorum + hysteresis) never changes it.
import test from 'ava'
import fc from 'fast-check'
import { nextQuorum } from '../../src/director/quorum.js'

const rule = { quorum: 10, hysteresis: 3 }

test('the first observation compares with the quorum itself', (t) => {
  t.true(nextQuorum(undefined, 10, rule))
  t.false(nextQuorum(undefined, 9, rule))
})

test('up is kept down to quorum − hysteresis and lost below it', (t) => {
  t.true(nextQuorum(true, 7, rule))
  t.false(nextQuorum(true, 6, rule))
})

test('down is kept up to quorum + hysteresis − 1 and regained at quorum + hysteresis', (t) => {
  t.false(nextQuorum(false, 12, rule))
  t.true(nextQuorum(false, 13, rule))
})

test('hysteresis 0 is the plain quorum both ways', (t) => {
  const plain = { quorum: 5, hysteresis: 0 }
  t.false(nextQuorum(true, 4, plain))
  t.true(nextQuorum(false, 5, plain))
})

test('property: inside the band the state never changes; outside it is decided by the side', async (t) => {
  await fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1000 }),
      fc.integer({ min: 0, max: 50 }),
      fc.boolean(),
      fc.array(fc.integer({ min: -60, max: 60 }), { minLength: 1, maxLength: 40 }),
      (quorum, hysteresis, start, offsets) => {
        const r = { quorum, hysteresis }
        let state = start
        for (const off of offsets) {
          const alive = Math.max(0, quorum + off)
          const next = nextQuorum(state, alive, r)
          if (alive > quorum - hysteresis - 1 && alive < quorum + hysteresis) t.is(next, state)
          if (alive >= quorum + hysteresis) t.true(next)
          if (alive < quorum - hysteresis) t.false(next)
          state = next
        }
      },
    ),
    { seed: 0x9a0, numRuns: 500 },
  )
})
