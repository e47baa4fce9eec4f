// The scheduler's timer heap: entries fire at their time, earliest first and ties in push order,
// through a single clock timer; clear() leaves nothing armed.
import test from 'ava'
import { TimerQueue } from '../../src/health/timer-queue.js'
import { prng } from '../helpers/prng.js'
import { VirtualClock } from '../helpers/virtual-clock.js'

test('2,000 random entries fire at their times in (time, push order), one clock timer at a time', async (t) => {
  const clock = new VirtualClock(0)
  const fired: { id: number; at: number; now: number }[] = []
  const q = new TimerQueue<number>(clock, (id, _tag, at) => fired.push({ id, at, now: clock.now() }))
  const rnd = prng(7)
  const pushed: { id: number; at: number }[] = []
  for (let id = 0; id < 2000; id++) {
    // few distinct times, so ties are common
    const at = Math.floor(rnd() * 200) * 5
    pushed.push({ id, at })
    q.push(at, id, 0)
  }
  t.is(clock.armed.length, 1, 'one clock timer for 2,000 entries')
  await clock.run(1000)
  const want = [...pushed].sort((a, b) => a.at - b.at || a.id - b.id)
  t.deepEqual(
    fired.map((f) => f.id),
    want.map((w) => w.id),
  )
  t.true(
    fired.every((f) => f.now === f.at),
    'each fired at its own time',
  )
  t.is(q.size, 0)
  t.is(clock.armed.length, 0, 'nothing armed once empty')
})

test('an entry pushed from fire() for a time already past runs in the same pass; later ones re-arm', async (t) => {
  const clock = new VirtualClock(0)
  const log: string[] = []
  const q = new TimerQueue<string>(clock, (name, tag) => {
    log.push(`${name}@${clock.now()}`)
    if (tag === 1) {
      q.push(clock.now() - 5, `${name}-past`, 0)
      q.push(clock.now() + 50, `${name}-later`, 0)
      q.push(clock.now() + 10, `${name}-sooner`, 0)
    }
  })
  q.push(100, 'a', 1)
  q.push(300, 'b', 0)
  await clock.run(400)
  t.deepEqual(log, ['a@100', 'a-past@100', 'a-sooner@110', 'a-later@150', 'b@300'])
})

test('clear() drops every entry and disarms the clock', async (t) => {
  const clock = new VirtualClock(0)
  const fired: number[] = []
  const q = new TimerQueue<number>(clock, (id) => fired.push(id))
  for (let i = 0; i < 10; i++) q.push(10 * i + 10, i, 0)
  await clock.run(35)
  q.clear()
  t.is(clock.armed.length, 0)
  await clock.run(1000)
  t.deepEqual(fired, [0, 1, 2])
  q.push(clock.now() + 1, 99, 0)
  await clock.run(1)
  t.deepEqual(fired, [0, 1, 2, 99], 'usable again after clear()')
})
