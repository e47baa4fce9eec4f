// The event table and bus: docs/api.md lists exactly the names in src/events.ts; delivery is in order,
// by name or to all; the ring keeps the most recent for replay; a throwing subscriber harms no other.
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { type AnyEvent, EVENT_NAMES, EVENTS, EventBus, isEventName } from '../../src/events.js'
import { repoRoot } from '../helpers/paths.js'

// the rows of the table under "### Event names", up to the next heading
const section =
  /^### Event names\n([\s\S]*?)(?=^#)/m.exec(readFileSync(join(repoRoot, 'docs', 'api.md'), 'utf8'))?.[1] ?? ''
const documented = [...section.matchAll(/^\| `([a-z_]+\.[a-z_]+)` +\|/gm)].map((m) => m[1])

test('every event name is documented in docs/api.md, and every documented name exists', (t) => {
  t.deepEqual([...documented].sort(), [...EVENT_NAMES].sort())
})

test('event names are lowercase domain.event and each has a meaning', (t) => {
  for (const n of EVENT_NAMES) {
    t.regex(n, /^(daemon|vrrp|health|quorum|ipvs|config|operator|program|peer)\.[a-z_]+$/)
    t.true(EVENTS[n].length > 10)
  }
  t.true(isEventName('vrrp.transition'))
  t.false(isEventName('vrrp.nope'))
  t.false(isEventName('toString'))
})

const drop = (reason: string) => ({ instance: 'web', reason })

test('events get rising sequence numbers and the injected time, and reach subscribers in order', (t) => {
  let now = 1000
  const bus = new EventBus({ now: () => now++ })
  const all: AnyEvent[] = []
  const drops: string[] = []
  bus.subscribeAll((e) => all.push(e))
  bus.subscribe('vrrp.drop', (e) => drops.push(e.data.reason))
  bus.publish('daemon.state', { state: 'starting' })
  bus.publish('vrrp.drop', drop('ttl'))
  bus.publish('vrrp.drop', drop('auth'))
  t.deepEqual(
    all.map((e) => [e.seq, e.at, e.name]),
    [
      [1, 1000, 'daemon.state'],
      [2, 1001, 'vrrp.drop'],
      [3, 1002, 'vrrp.drop'],
    ],
  )
  t.deepEqual(drops, ['ttl', 'auth'])
  t.is(bus.lastSeq, 3)
})

test('unsubscribing stops delivery; a listener added during delivery sees only later events', (t) => {
  const bus = new EventBus()
  const seen: number[] = []
  const late: number[] = []
  const off = bus.subscribeAll((e) => {
    seen.push(e.seq)
    if (e.seq === 1) bus.subscribeAll((x) => late.push(x.seq))
  })
  bus.publish('vrrp.drop', drop('a'))
  bus.publish('vrrp.drop', drop('b'))
  off()
  bus.publish('vrrp.drop', drop('c'))
  t.deepEqual(seen, [1, 2])
  t.deepEqual(late, [2, 3])
})

test('the ring keeps the last N events, oldest first, and replays those after a sequence number', (t) => {
  const bus = new EventBus({ ring: 3 })
  for (const r of ['a', 'b', 'c', 'd', 'e']) bus.publish('vrrp.drop', drop(r))
  t.deepEqual(
    bus.recent().map((e) => e.seq),
    [3, 4, 5],
  )
  t.deepEqual(
    bus.recent(3).map((e) => e.seq),
    [4, 5],
  )
  t.deepEqual(bus.recent(5), [])
  const none = new EventBus({ ring: 0 })
  let delivered = 0
  none.subscribeAll(() => delivered++)
  none.publish('vrrp.drop', drop('x'))
  t.deepEqual(none.recent(), [])
  t.is(delivered, 1)
  t.throws(() => new EventBus({ ring: -1 }), { instanceOf: RangeError })
})

test('health results have a ring of their own: a flood of them keeps the transitions in the replay', (t) => {
  const bus = new EventBus({ ring: 3 })
  const result = (n: number) => ({ service: 'web', server: `10.0.0.${n}:80`, check: 'tcp', ok: true, ms: 1 })
  bus.publish('vrrp.drop', drop('a'))
  bus.publish('health.transition', {
    service: 'web',
    server: '10.0.0.1:80',
    up: false,
    weight: 0,
    reason: 'x',
    latencyMs: 1,
  })
  for (let n = 0; n < 10_000; n++) bus.publish('health.result', result(n))
  bus.publish('vrrp.drop', drop('b'))
  const kept = bus.recent()
  t.deepEqual(
    kept.map((e) => e.name),
    ['vrrp.drop', 'health.transition', 'health.result', 'health.result', 'health.result', 'vrrp.drop'],
  )
  t.deepEqual(
    kept.map((e) => e.seq),
    [1, 2, 10_000, 10_001, 10_002, 10_003],
    'merged by sequence number',
  )
  t.deepEqual(
    bus.recent(10_001).map((e) => e.seq),
    [10_002, 10_003],
  )
})

test('a throwing subscriber is reported and the others still get the event', (t) => {
  const errors: [unknown, string][] = []
  const bus = new EventBus({ onError: (err, e) => errors.push([err, e.name]) })
  const got: string[] = []
  bus.subscribe('vrrp.drop', () => {
    throw new Error('boom')
  })
  bus.subscribeAll((e) => got.push(e.name))
  bus.publish('vrrp.drop', drop('x'))
  t.deepEqual(got, ['vrrp.drop'])
  t.is(errors.length, 1)
  t.is((errors[0]![0] as Error).message, 'boom')
})

test('each event is mirrored on diagnostics_channel as lvsd:<name>', (t) => {
  const bus = new EventBus()
  const got: unknown[] = []
  const fn = (m: unknown) => got.push(m)
  subscribe('lvsd:quorum.change', fn)
  t.teardown(() => unsubscribe('lvsd:quorum.change', fn))
  const e = bus.publish('quorum.change', { service: 'web', up: false, alive: 0, required: 1 })
  bus.publish('vrrp.drop', drop('x'))
  t.deepEqual(got, [e])
})
