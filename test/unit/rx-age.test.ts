// How long ago a datagram arrived, from its SO_TIMESTAMPNS stamp read against CLOCK_REALTIME now
// (src/sys/rx-age.ts); an addon whose realtime clock the test sets.
import test from 'ava'
import type { NativeAddon } from '../../src/sys/native.js'
import { MAX_RX_AGE_MS, receivedMsAgo } from '../../src/sys/rx-age.js'

const at = (ns: number) => ({ realtimeNs: () => ns }) as unknown as NativeAddon
const T = 1_796_000_000_000_000_000

test('the age is now minus the stamp, in ms', (t) => {
  t.is(receivedMsAgo(T, at(T + 800_000)), 0.8)
  t.is(receivedMsAgo(T, at(T)), 0)
})

test('a stamp in the future or older than MAX_RX_AGE_MS is not trusted (a step of the wall clock)', (t) => {
  t.is(MAX_RX_AGE_MS, 5)
  t.is(receivedMsAgo(T, at(T - 1_000_000)), undefined)
  t.true((receivedMsAgo(T, at(T + 4_990_000)) ?? 0) > 4.98, 'just inside the bound (ns at this size are 256 apart)')
  t.is(receivedMsAgo(T, at(T + 5_000_001 + 1_000_000)), undefined)
})
