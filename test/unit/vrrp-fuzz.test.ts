// Seeded fuzzing of the VRRP/ARP/NA decoders and of receive validation (bench/vrrp-fuzz.ts has the
// loop): 100,000 random and mutated keepalived packets here; the bench runs 1,000,000.
import test from 'ava'
import { fuzz } from '../../bench/vrrp-fuzz.js'
import { repoRoot } from '../helpers/paths.js'

test('100k random and mutated packets: only LvsdError is thrown, validate never throws, decodes re-encode stably', (t) => {
  const s = fuzz(100_000, 0x1f2e3d, repoRoot)
  t.is(s.iterations, 100_000)
  // the run must have reached every outcome, or the property was checked on too little
  t.true(s.accepted > 0, 'some mutated packets are still valid')
  t.true(s.decoded > 10_000, 'many inputs decode and go through the re-encode check')
  t.true((s.errors.LVSD_DECODE_TRUNCATED ?? 0) > 0)
  t.true((s.errors.LVSD_DECODE_INVALID ?? 0) > 0)
  for (const reason of ['ip_header', 'ttl', 'version', 'addr_count', 'checksum', 'vrid']) {
    t.true((s.drops[reason] ?? 0) > 0, `drops for ${reason}`)
  }
  t.log(`${Math.round(s.ms)} ms, ${s.decoded} decoded, ${s.accepted} accepted`)
})

test('the fuzz loop is repeatable from its seed', (t) => {
  const a = fuzz(2_000, 42, repoRoot)
  const b = fuzz(2_000, 42, repoRoot)
  t.deepEqual({ ...a, ms: 0 }, { ...b, ms: 0 })
})
