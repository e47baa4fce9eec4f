// The pair's shared operator state (last writer wins by version, then node name), config fingerprints
// and drift, and the watch over health views and connection counts: all pure.
import test from 'ava'
import fc from 'fast-check'
import { describeDrift, drift, fingerprint } from '../../src/peer/fingerprint.js'
import { newer, type OpEntry, OperatorState, opKey, parseKey } from '../../src/peer/operator-state.js'
import { MIN_MASTER_CONNS, Watch } from '../../src/peer/watch.js'

const K = opKey('drain', 'web/10.0.0.7:80')

test('keys name the action and its target; a release names its node', (t) => {
  t.is(K, 'drain:web/10.0.0.7:80')
  t.is(opKey('release', 'web', 'lb01'), 'release:web@lb01')
  t.deepEqual(parseKey('release:web@lb01'), { kind: 'release', target: 'web', node: 'lb01' })
  t.deepEqual(parseKey('weight:web/[2001:db8::7]:80'), { kind: 'weight', target: 'web/[2001:db8::7]:80' })
  t.is(parseKey('reboot:now'), undefined)
  t.is(parseKey('release:web'), undefined)
})

test('a local action takes max(previous version + 1, wall clock); repeating the value changes nothing', (t) => {
  const s = new OperatorState()
  const e1 = s.setLocal(K, true, 'lb01', 1000)
  t.deepEqual(e1, { v: true, ver: 1000, node: 'lb01' })
  t.is(s.setLocal(K, true, 'lb01', 2000), e1)
  // a clock that went back never goes behind a version already seen
  t.deepEqual(s.setLocal(K, false, 'lb01', 10), { v: false, ver: 1001, node: 'lb01' })
})

test('merge: a newer version wins; equal versions go to the larger node name; the changed keys are returned', (t) => {
  const s = new OperatorState()
  s.setLocal(K, true, 'lb01', 1000)
  t.deepEqual(s.merge({ [K]: { v: false, ver: 999, node: 'lb02' } }), [], 'older loses')
  t.deepEqual(s.merge({ [K]: { v: false, ver: 1000, node: 'lb02' } }), [K], 'tie: lb02 > lb01')
  t.deepEqual(s.merge({ [K]: { v: true, ver: 1000, node: 'lb01' } }), [], 'tie: lb01 < lb02')
  t.deepEqual(s.merge({ [K]: { v: false, ver: 1001, node: 'lb01' } }), [], 'newer but same value: no change to apply')
  t.like(s.get(K), { ver: 1001, node: 'lb01' })
})

test('merge ignores invalid entries and unknown keys', (t) => {
  const s = new OperatorState()
  const bad = {
    'reboot:x': { v: true, ver: 1, node: 'a' },
    [K]: { v: 'yes', ver: 5, node: 'a' },
    'weight:web/10.0.0.8:80': { v: 3, ver: -1, node: 'a' },
  } as unknown as Record<string, OpEntry>
  t.deepEqual(s.merge(bad), [])
  t.deepEqual(s.toJSON(), {})
})

test('partition: both nodes change the same server; after exchanging states both hold the later action', (t) => {
  const a = new OperatorState()
  const b = new OperatorState()
  a.setLocal(K, true, 'lb01', 5000) // drained on lb01 at t=5 s
  b.setLocal(K, false, 'lb02', 7000) // undrained on lb02 at t=7 s, while partitioned
  a.merge(b.toJSON())
  b.merge(a.toJSON())
  t.deepEqual(a.toJSON(), b.toJSON())
  t.is(a.get(K)?.v, false, 'the later action wins')
})

const entry = fc.record({
  v: fc.oneof(fc.boolean(), fc.integer({ min: 0, max: 65535 }), fc.constant(null)),
  ver: fc.integer({ min: 0, max: 2 ** 40 }),
  node: fc.constantFrom('lb01', 'lb02', 'lb03'),
})
const states = fc.dictionary(
  fc.constantFrom(K, 'weight:web/10.0.0.8:80', 'release:web@lb01', 'drain:db/10.0.1.7:5432'),
  entry,
)

test('property: merge is commutative, associative and idempotent (replays and reordering converge)', (t) => {
  void fc.assert(
    fc.property(states, states, states, (x, y, z) => {
      const m = (...xs: Record<string, OpEntry>[]) => {
        const s = new OperatorState()
        for (const v of xs) s.merge(v)
        return JSON.stringify(s.toJSON())
      }
      // ties on (ver, node) with different values cannot happen between honest nodes (one node, one version)
      const all = [x, y, z].flatMap((s) => Object.entries(s) as [string, OpEntry][])
      for (const [k, e] of all)
        for (const [k2, e2] of all) if (k === k2 && e.ver === e2.ver && e.node === e2.node && e.v !== e2.v) return true
      return m(x, y) === m(y, x) && m(m1(x, y), z) === m(x, m1(y, z)) && m(x, x) === m(x) && m(x, y, x) === m(x, y)
    }),
  )
  function m1(a: Record<string, OpEntry>, b: Record<string, OpEntry>): Record<string, OpEntry> {
    const s = new OperatorState(a)
    s.merge(b)
    return s.toJSON()
  }
  t.true(newer({ v: 1, ver: 2, node: 'a' }, { v: 1, ver: 1, node: 'z' }))
})

test('fingerprints ignore key order and undefined fields, and see every value', (t) => {
  t.is(fingerprint({ a: 1, b: [1, 2], c: undefined }), fingerprint({ b: [1, 2], a: 1 }))
  t.not(fingerprint({ a: 1 }), fingerprint({ a: 2 }))
  t.not(fingerprint({ b: [1, 2] }), fingerprint({ b: [2, 1] }))
  t.is(fingerprint({ x: Uint8Array.of(10, 0, 0, 3) }), fingerprint({ x: '0a000003' }))
  t.regex(fingerprint({}), /^[0-9a-f]{16}$/)
})

test('drift names what differs and what only one side has; identical sets have none', (t) => {
  const mine = { 'service:web': 'aa', 'instance:web': 'bb', sync: 'cc' }
  t.deepEqual(drift(mine, { ...mine }), [])
  const d = drift(mine, { 'service:web': 'ab', 'instance:web': 'bb', 'service:db': 'dd' })
  t.deepEqual(d, [
    { key: 'service:db', kind: 'only-peer' },
    { key: 'service:web', kind: 'differs' },
    { key: 'sync', kind: 'only-here' },
  ])
  t.is(describeDrift(d), 'service:db only on the peer, service:web differs, sync only here')
})

const cfg = { after: () => 6000, connsAfter: 30_000, ratio: 50 }
const view = (health: Record<string, 'up' | 'down' | 'unchecked'>, sync: 'master' | 'backup', conns = {}) => ({
  health,
  sync,
  conns,
})

test('watch: a health disagreement is reported after fall × interval, once, and its end once', (t) => {
  const w = new Watch(() => cfg)
  const here = view({ 'web/10.0.0.7:80': 'up' }, 'master')
  const peer = view({ 'web/10.0.0.7:80': 'down' }, 'backup')
  t.deepEqual(w.compare(here, peer, 0), [])
  t.deepEqual(w.compare(here, peer, 5999), [])
  t.deepEqual(w.compare(here, peer, 6000), [
    { kind: 'health', id: 'web/10.0.0.7:80', here: 'up', peer: 'down', disagree: true },
  ])
  t.deepEqual(w.compare(here, peer, 9000), [])
  t.is(w.disagreements().length, 1)
  t.deepEqual(w.compare(here, here, 9500), [
    { kind: 'health', id: 'web/10.0.0.7:80', here: 'up', peer: 'up', disagree: false },
  ])
  t.deepEqual(w.disagreements(), [])
})

test('watch: a short disagreement and unchecked servers are never reported', (t) => {
  const w = new Watch(() => cfg)
  t.deepEqual(w.compare(view({ a: 'up' }, 'master'), view({ a: 'down' }, 'backup'), 0), [])
  t.deepEqual(w.compare(view({ a: 'up' }, 'master'), view({ a: 'up' }, 'backup'), 5000), [])
  t.deepEqual(w.compare(view({ a: 'up' }, 'master'), view({ a: 'unchecked' }, 'backup'), 99_000), [])
})

test('watch: a backup with far fewer connections than the master for conns_after is lagging', (t) => {
  const w = new Watch(() => cfg)
  const backup = (n: number) => view({}, 'backup', { web: n })
  const master = (n: number) => view({}, 'master', { web: n })
  t.deepEqual(w.compare(backup(10), master(400), 0), [])
  t.deepEqual(w.compare(backup(10), master(400), 29_999), [])
  t.deepEqual(w.compare(backup(10), master(400), 30_000), [
    { kind: 'conns', service: 'web', here: 10, master: 400, lagging: true },
  ])
  t.true(w.lagging('web'))
  t.deepEqual(w.compare(backup(390), master(400), 31_000), [
    { kind: 'conns', service: 'web', here: 390, master: 400, lagging: false },
  ])
  // the master's side never compares, and a small service is noise
  t.deepEqual(w.compare(master(0), backup(400), 0), [])
  t.deepEqual(w.compare(backup(0), master(MIN_MASTER_CONNS - 1), 100_000), [])
})
