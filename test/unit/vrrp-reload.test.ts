// The pure reload decision (src/vrrp/reload.ts): which instances a VrrpRuntime.update adds,
// removes, leaves alone, changes in place or restarts, by comparing the running list with the new.
import test from 'ava'
import { parseAddr, parsePrefix } from '../../src/net/addr.js'
import { trackedSourcesOf } from '../../src/vrrp/main/track.js'
import type { RuntimeInstance } from '../../src/vrrp/messages.js'
import { planUpdate, restartReason, staleTracking } from '../../src/vrrp/reload.js'
import { config } from './vrrp-instance-fakes.js'

const web = config()
const db = config({ name: 'db', vrid: 52, vips: [{ prefix: parsePrefix('10.0.0.101/24') }] })

test('the same instances, even as copies through a structured clone (the worker message), are all unchanged', (t) => {
  const plan = planUpdate([web, db], structuredClone([web, db]))
  t.deepEqual(plan, { added: [], removed: [], changed: [], unchanged: ['web', 'db'], modes: {} })
})

test('instances are matched by name: a new name is added, a missing one removed', (t) => {
  const api = config({ name: 'api', vrid: 53 })
  const plan = planUpdate([web, db], [api, web])
  t.deepEqual(plan.added, ['api'])
  t.deepEqual(plan.removed, ['db'])
  t.deepEqual(plan.unchanged, ['web'])
  t.deepEqual(plan.changed, [])
})

const tunables: Array<[string, Partial<RuntimeInstance>]> = [
  ['priority', { priority: 50 }],
  ['advert interval', { advertMs: 1000 }],
  ['preempt', { preempt: false }],
  ['preempt delay', { preemptDelayMs: 5000 }],
  ['accept', { accept: false }],
  ['VIP list', { vips: [{ prefix: parsePrefix('10.0.0.100/24') }, { prefix: parsePrefix('10.0.0.102/24') }] }],
  ['excluded VIPs', { excludedVips: [{ prefix: parsePrefix('192.0.2.1/32') }] }],
  ['GARP schedule', { announce: { repeat: 3, delayMs: 0, intervalMs: 0, refreshMs: 60_000, refreshRepeat: 1 } }],
  ['tracked interfaces', { trackInterfaces: [{ name: 'eth1', weight: -20 }] }],
  ['v2 authentication', { auth: { type: 1, password: 'secret' } }],
  ['split-brain options', { lowerPrioAdvert: false }],
]
for (const [what, change] of tunables) {
  test(`a change of ${what} is applied in place`, (t) => {
    const plan = planUpdate([web, db], [{ ...web, ...change }, db])
    t.deepEqual(plan.changed, ['web'])
    t.deepEqual(plan.unchanged, ['db'])
    t.deepEqual(plan.modes, { web: 'in_place' })
    t.is(restartReason(web, { ...web, ...change }), undefined)
  })
}

const identities: Array<[string, Partial<RuntimeInstance>, string]> = [
  ['interface', { interface: 'eth1' }, 'interface'],
  ['VRID', { vrid: 9 }, 'vrid'],
  ['version', { version: 2, advertMs: 1000 }, 'version'],
  [
    'family',
    { family: 6, vips: [{ prefix: parsePrefix('2001:db8::100/64') }] },
    'family', // the VIP list changes too; family is what forces the restart
  ],
  ['unicast peers', { unicast: { peers: [parseAddr('10.0.0.2')], allowFrom: [], ttl: 255 } }, 'unicast'],
  ['virtual MAC', { virtualMac: true }, 'virtualMac'],
  ['address ownership', { priority: 255 }, 'address owner'],
]
for (const [what, change, reason] of identities) {
  test(`a change of ${what} restarts the instance (resign, then start)`, (t) => {
    const plan = planUpdate([web], [{ ...web, ...change }])
    t.deepEqual(plan.changed, ['web'])
    t.deepEqual(plan.modes, { web: 'restart' })
    t.is(restartReason(web, { ...web, ...change }), reason)
  })
}

test('a unicast peer list that changes only one address restarts; the same peers in a copy do not', (t) => {
  const u = { ...web, unicast: { peers: [parseAddr('10.0.0.2')], allowFrom: [], ttl: 255 } }
  t.deepEqual(planUpdate([u], [structuredClone(u)]).unchanged, ['web'])
  const moved = { ...u, unicast: { ...u.unicast, peers: [parseAddr('10.0.0.3')] } }
  t.deepEqual(planUpdate([u], [moved]).modes, { web: 'restart' })
})

test('a new Tracker’s declaration clears script/file inputs it no longer feeds, and nothing else', (t) => {
  const held = new Map([
    [
      'web',
      {
        deltas: new Map([
          ['script:chk', -20],
          ['file:/run/w', 30],
        ]),
        faults: new Map([
          ['script:gone', true],
          ['release', true], // the director's own source: not the Tracker's
        ]),
      },
    ],
    ['db', { deltas: new Map<string, number>(), faults: new Map([['script:chk', true]]) }],
  ])
  // chk is still tracked by web (as a delta) but its weight for db went from 0 to -10
  const declared = trackedSourcesOf(
    [
      { instance: 'web', script: 'chk', weight: -20 },
      { instance: 'db', script: 'chk', weight: -10 },
    ],
    [{ instance: 'web', path: '/run/w', weight: 1 }],
  )
  t.deepEqual(staleTracking(held, declared), [
    { instance: 'web', source: 'script:gone', kind: 'fault' },
    { instance: 'db', source: 'script:chk', kind: 'fault' },
  ])
})
