// The takeover's wire list (src/vrrp/worker/takeover-wire.ts): the commit's sends in the commit's
// order, and only a prefix of them, so nothing sent ahead can overtake what the commit still sends.
import test from 'ava'
import type { Addr } from '../../src/net/addr.js'
import type { Outgoing } from '../../src/sys/sent-ahead.js'
import * as fsm from '../../src/vrrp/fsm.js'
import { takeoverWire, type WireParts } from '../../src/vrrp/worker/takeover-wire.js'

const out = (name: string): Outgoing => ({ fd: 3, data: Buffer.from(name), to: null })
const names = (list: Outgoing[]) => list.map((o) => o.data.toString())

const parts = (over: Partial<WireParts> = {}): WireParts => ({
  advert: (p) => [out(`advert ${p} to a`), out(`advert ${p} to b`)],
  adds: out('vips'),
  announced: [out('garp 1'), out('garp 2')],
  ...over,
})

const step = (...actions: fsm.Action[]): fsm.Step => ({ actions }) as unknown as fsm.Step
const BECOME_MASTER: fsm.Action[] = [
  { kind: 'transition', from: 'BACKUP', to: 'MASTER', why: 'master_down' },
  { kind: 'send', priority: 100 },
  { kind: 'vips', op: 'add' },
  { kind: 'announce', why: 'become_master' },
  { kind: 'arm', timer: 'adver', at: 1000 },
] as fsm.Action[]

test('a takeover: the advert to each target, the additions, then the first GARP/NA round', (t) => {
  t.deepEqual(names(takeoverWire([step(...BECOME_MASTER)], parts())), [
    'advert 100 to a',
    'advert 100 to b',
    'vips',
    'garp 1',
    'garp 2',
  ])
})

test('the real state machine’s Master_Down step gives that list', (t) => {
  const primary: Addr = { family: 4, bytes: Uint8Array.from([10, 0, 0, 2]) }
  let s = fsm.step(fsm.create({ primary, priority: 100, version: 3, advertMs: 1000 }), { kind: 'startup' }, 0).state
  const down = s.timers.masterDown as number
  const r = fsm.step(s, { kind: 'timer', timer: 'masterDown' }, down)
  s = r.state
  t.is(s.role, 'MASTER')
  t.deepEqual(names(takeoverWire([r], parts())), ['advert 100 to a', 'advert 100 to b', 'vips', 'garp 1', 'garp 2'])
})

test('additions not held (or not known ahead) stop the list at the advert: the GARP never precedes them', (t) => {
  t.deepEqual(names(takeoverWire([step(...BECOME_MASTER)], parts({ adds: undefined }))), [
    'advert 100 to a',
    'advert 100 to b',
  ])
})

test('a channel that cannot say stops the list before anything', (t) => {
  t.deepEqual(takeoverWire([step(...BECOME_MASTER)], parts({ advert: () => undefined })), [])
})

test('a deletion is queued behind the VIP chain: the list stops there', (t) => {
  const s = step({ kind: 'send', priority: 0 } as fsm.Action, { kind: 'vips', op: 'del' } as fsm.Action)
  t.deepEqual(names(takeoverWire([s, step(...BECOME_MASTER)], parts())), ['advert 0 to a', 'advert 0 to b'])
})

test('an announcement with no addition before it (lower priority answered) is left to the commit', (t) => {
  const s = step(
    { kind: 'send', priority: 100 } as fsm.Action,
    { kind: 'announce', why: 'lower_priority' } as fsm.Action,
  )
  t.deepEqual(names(takeoverWire([s], parts())), ['advert 100 to a', 'advert 100 to b'])
})

test('steps without sends give an empty list; a step before the takeover keeps its place', (t) => {
  t.deepEqual(takeoverWire([step({ kind: 'arm', timer: 'masterDown', at: 5 } as fsm.Action)], parts()), [])
  const hold = step({ kind: 'disarm', timer: 'masterDown' } as fsm.Action)
  t.deepEqual(names(takeoverWire([hold, step(...BECOME_MASTER)], parts({ announced: [] }))), [
    'advert 100 to a',
    'advert 100 to b',
    'vips',
  ])
})
