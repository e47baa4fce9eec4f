// Who is master as this node sees it (src/director/peer-master.ts): itself, else a recent advert's
// sender (named as the peer when it is the peer's address), else the peer channel's word.
import test from 'ava'
import { type MasterInputs, seenMaster } from '../../src/director/peer-master.js'

const NOW = 1_000_000
const backup = { state: 'BACKUP' as const, priority: 100, effectivePriority: 100, advertMs: 1000 }
const master = { state: 'MASTER' as const, priority: 150, effectivePriority: 150, advertMs: 1000 }
const base: MasterInputs = {
  node: 'lb02',
  mine: backup,
  peerNode: 'lb01',
  peerAddress: '10.0.0.1',
  theirs: master,
  peerHeard: NOW - 300,
  advert: { from: '10.0.0.1', priority: 150, advertMs: 1000, at: NOW - 800 },
  now: NOW,
}

test('this node as master names itself, whatever it last heard', (t) => {
  t.like(seenMaster({ ...base, mine: { ...master, effectivePriority: 120 } }), {
    node: 'lb02',
    priority: 120,
    lastHeard: NOW,
  })
})

test('a backup names the sender of a recent advert, with the wire’s priority, interval and arrival', (t) => {
  t.deepEqual(seenMaster(base), {
    node: 'lb01',
    address: '10.0.0.1',
    priority: 150,
    advertMs: 1000,
    lastHeard: NOW - 800,
  })
})

test('with the channel down the advert alone names the master; a sender that is not the peer by address', (t) => {
  const down = { ...base, theirs: undefined }
  t.like(seenMaster(down), { node: 'lb01', address: '10.0.0.1' })
  t.like(seenMaster({ ...down, advert: { from: '10.0.0.9', priority: 200, advertMs: 1000, at: NOW - 100 } }), {
    node: '10.0.0.9',
    address: '10.0.0.9',
    priority: 200,
  })
})

test('an advert older than 4 intervals, or a priority-0 goodbye, falls back to the channel, else none', (t) => {
  const stale = { ...base, advert: { from: '10.0.0.1', priority: 150, advertMs: 1000, at: NOW - 4001 } }
  t.deepEqual(seenMaster(stale), {
    node: 'lb01',
    address: '10.0.0.1',
    priority: 150,
    advertMs: 1000,
    lastHeard: NOW - 300,
  })
  t.like(seenMaster({ ...base, advert: { from: '10.0.0.1', priority: 0, advertMs: 1000, at: NOW - 10 } }), {
    lastHeard: NOW - 300,
  })
  t.is(seenMaster({ ...stale, theirs: undefined }), undefined)
  t.is(seenMaster({ ...stale, theirs: backup }), undefined)
})
