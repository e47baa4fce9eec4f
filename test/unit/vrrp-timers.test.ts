// Skew_Time and Master_Down_Interval (RFC 3768 §6.1, RFC 5798 §6.1) against the table in
// keepalived-and-ipvs.md §2.1, exact (binary fractions of a ms).
import test from 'ava'
import { intervalOnWire, masterDownMs, skewMs } from '../../src/vrrp/timers.js'

const table: Array<[2 | 3, number, number, number, number]> = [
  // version, interval ms, priority, skew ms, master down ms
  [2, 1000, 100, 609.375, 3609.375],
  [2, 1000, 150, 414.0625, 3414.0625],
  [2, 1000, 254, 7.8125, 3007.8125],
  [2, 1000, 1, 996.09375, 3996.09375],
  [3, 1000, 100, 609.375, 3609.375],
  [3, 100, 100, 60.9375, 360.9375],
  [3, 100, 150, 41.40625, 341.40625],
  [3, 50, 100, 30.46875, 180.46875],
  [3, 10, 100, 6.09375, 36.09375],
  [3, 1000, 200, 218.75, 3218.75],
]

for (const [v, adv, prio, skew, down] of table) {
  test(`v${v}, interval ${adv} ms, priority ${prio}: skew ${skew} ms, master down ${down} ms`, (t) => {
    t.is(skewMs(v, prio, adv), skew)
    t.is(masterDownMs(v, prio, adv), down)
  })
}

test('v2 skew does not scale with the interval; v3 skew does', (t) => {
  t.is(skewMs(2, 100, 5000), 609.375)
  t.is(masterDownMs(2, 100, 5000), 15609.375)
  t.is(skewMs(3, 100, 5000), 3046.875)
  t.is(masterDownMs(3, 100, 5000), 18046.875)
})

test('nothing is rounded: every priority and v3 interval in centiseconds gives n/256 ms exactly', (t) => {
  for (let prio = 1; prio <= 254; prio++) {
    t.is(skewMs(2, prio, 1000) * 256, (256 - prio) * 1000)
    for (const cs of [1, 3, 7, 10, 99, 4095]) {
      const adv = cs * 10
      t.is(skewMs(3, prio, adv) * 256, (256 - prio) * adv)
      t.is(masterDownMs(3, prio, adv) * 256, 3 * adv * 256 + (256 - prio) * adv)
    }
  }
})

test('the interval goes on the wire in seconds for v2 and centiseconds for v3', (t) => {
  t.is(intervalOnWire(2, 1000), 1)
  t.is(intervalOnWire(2, 3000), 3)
  t.is(intervalOnWire(3, 100), 10)
  t.is(intervalOnWire(3, 40950), 4095)
})
