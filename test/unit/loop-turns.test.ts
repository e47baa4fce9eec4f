// The stopwatch that cuts long work into pieces between turns of the event loop, and the turn.
import test from 'ava'
import { sliceTimer, turn } from '../../src/loop-turns.js'

test('sliceTimer says due once its time passed since it last said so, and not before', (t) => {
  let now = 100
  const due = sliceTimer(4, () => now)
  now = 103.9
  t.false(due())
  now = 104
  t.true(due())
  t.false(due(), 'counted again from the turn it called for')
  now = 107
  t.false(due())
  now = 120
  t.true(due())
})

test('turn() resolves after the timers and immediates already due', async (t) => {
  const order: string[] = []
  setImmediate(() => order.push('immediate'))
  const p = turn().then(() => order.push('turn'))
  queueMicrotask(() => order.push('microtask'))
  await p
  t.deepEqual(order, ['microtask', 'immediate', 'turn'])
})
