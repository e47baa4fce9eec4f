// Skew_Time and Master_Down_Interval (RFC 3768 §6.1, RFC 5798 §6.1) against the table in
// keepalived-and-ipvs.md §2.1, rounded to whole ms from the exact fractions.
import test from 'ava'
import { intervalOnWire, masterDownMs, skewMs } from '../../src/vrrp/timers.js'

const table: Array<[2 | 3, number, number, number, number]> = [
  // version, interval ms, priority, skew ms, master down ms
  [2, 1000, 100, 609, 3609],
  [2, 1000, 150, 414, 3414],
  [2, 1000, 254, 8, 3008],
  [2, 1000, 1, 996, 3996],
  [3, 1000, 100, 609, 3609],
  [3, 100, 100, 61, 361],
  [3, 100, 150, 41, 341],
  [3, 50, 100, 30, 180],
  [3, 10, 100, 6, 36],
  [3, 1000, 200, 219, 3219],
]

for (const [v, adv, prio, skew, down] of table) {
  test(`v${v}, interval ${adv} ms, priority ${prio}: skew ${skew} ms, master down ${down} ms`, (t) => {
    t.is(skewMs(v, prio, adv), skew)
    t.is(masterDownMs(v, prio, adv), down)
  })
}

test('v2 skew does not scale with the interval; v3 skew does', (t) => {
  t.is(skewMs(2, 100, 5000), 609)
  t.is(masterDownMs(2, 100, 5000), 15609)
  t.is(skewMs(3, 100, 5000), 3047)
  t.is(masterDownMs(3, 100, 5000), 18047)
})

test('master down is rounded once from the exact sum, not from a rounded skew', (t) => {
  // v3, 30 ms, priority 128: 3 × 30 + 15 = 105 exactly; priority 1: 90 + 29.88 → 120
  t.is(masterDownMs(3, 128, 30), 105)
  t.is(masterDownMs(3, 1, 30), 120)
})

test('the interval goes on the wire in seconds for v2 and centiseconds for v3', (t) => {
  t.is(intervalOnWire(2, 1000), 1)
  t.is(intervalOnWire(2, 3000), 3)
  t.is(intervalOnWire(3, 100), 10)
  t.is(intervalOnWire(3, 40950), 4095)
})
