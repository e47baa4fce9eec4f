// GARP/NA burst schedule (src/vrrp/worker/burst.ts) on the tier's virtual clock: keepalived's defaults, spaced
// bursts, periodic refresh, and stop cancelling everything.
import test from 'ava'
import type { AnnounceConfig } from '../../src/vrrp/messages.js'
import { BurstSchedule } from '../../src/vrrp/worker/burst.js'
import { VirtualClock } from '../helpers/virtual-clock.js'

function harness(cfg: Partial<AnnounceConfig>) {
  const clock = new VirtualClock(0)
  const sends: number[] = []
  const s = new BurstSchedule(
    { repeat: 5, delayMs: 5000, intervalMs: 0, refreshMs: 0, refreshRepeat: 1, ...cfg },
    () => sends.push(clock.now()),
    clock,
  )
  return { s, sends, advance: (to: number) => clock.advanceTo(to) }
}

test('defaults: 5 at once, 5 more after 5 s, then nothing', (t) => {
  const h = harness({})
  h.s.start()
  h.advance(60_000)
  t.deepEqual(h.sends, [0, 0, 0, 0, 0, 5000, 5000, 5000, 5000, 5000])
})

test('an interval spaces the packets of a burst; refresh repeats while running', (t) => {
  const h = harness({ repeat: 3, delayMs: 0, intervalMs: 10, refreshMs: 1000, refreshRepeat: 2 })
  h.s.start()
  h.advance(2500)
  t.deepEqual(h.sends, [0, 10, 20, 1000, 1010, 2000, 2010])
})

test('stop cancels the second burst and the refresh', (t) => {
  const h = harness({ refreshMs: 1000 })
  h.s.start()
  h.advance(100)
  h.s.stop()
  h.advance(60_000)
  t.is(h.sends.length, 5)
})
