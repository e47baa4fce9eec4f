// The director's mapping of configured VRRP instances to runtime instances, and the list of
// configured features the runtime does not do yet (logged once at start-up).
import test from 'ava'
import { loadConfigText } from '../../src/config/load.js'
import { runtimeInstance, unsupported } from '../../src/director/vrrp-instances.js'
import { formatPrefix } from '../../src/net/addr.js'

function load(yaml: string) {
  const r = loadConfigText(yaml, 'test.yaml')
  if (!r.ok) throw new Error(JSON.stringify(r.errors))
  return r.config
}

test('a v3 instance maps with intervals in ms, GARP defaults of keepalived and tracked interfaces', (t) => {
  const c = load(`node: d1
vrrp:
  version: 3
  advert_interval: 100ms
  instances:
    - name: web
      interface: eth0
      vrid: 51
      priority: 150
      preempt: false
      vips: [10.0.0.3/24, { address: 10.0.0.4/24, dev: eth1, label: eth1:0 }]
      track:
        interfaces: [eth2, { name: eth3, weight: -20 }]
`)
  const r = runtimeInstance(c.vrrp.instances[0]!)
  t.like(r, {
    name: 'web',
    interface: 'eth0',
    vrid: 51,
    version: 3,
    family: 4,
    priority: 150,
    advertMs: 100,
    preempt: false,
  })
  t.deepEqual(
    r.vips.map((v) => [formatPrefix(v.prefix), v.dev, v.label]),
    [
      ['10.0.0.3/24', undefined, undefined],
      ['10.0.0.4/24', 'eth1', 'eth1:0'],
    ],
  )
  t.deepEqual(r.announce, { repeat: 5, delayMs: 5000, intervalMs: 0, refreshMs: 0, refreshRepeat: 1 })
  t.deepEqual(r.trackInterfaces, [
    { name: 'eth2', weight: 0 },
    { name: 'eth3', weight: -20 },
  ])
  t.is(r.unicast, undefined)
})

test('an address owner runs at priority 255; unicast peers and their TTL carry over', (t) => {
  const c = load(`node: d1
vrrp:
  version: 3
  instances:
    - name: own
      interface: eth0
      vrid: 7
      priority: 255
      address_owner: true
      vips: [10.0.0.1/24]
      unicast:
        source: 10.0.0.1
        peers: [10.0.0.2]
`)
  const r = runtimeInstance(c.vrrp.instances[0]!)
  t.is(r.priority, 255)
  t.is(r.unicast?.peers.length, 1)
  t.is(r.unicast?.ttl, 255)
  t.truthy(r.unicast?.source)
})

test('a v2 instance gets whole seconds and its virtual MAC; only what the runtime lacks is reported', (t) => {
  const c = load(`node: lb01
vrrp:
  instances:
    - name: web
      interface: eth0
      vrid: 51
      priority: 150
      advert_interval: 1s
      vips: [10.0.0.3/24]
      virtual_mac: true
`)
  const r = runtimeInstance(c.vrrp.instances[0]!)
  t.is(r.version, 2)
  t.is(r.advertMs, 1000)
  t.true(r.virtualMac)
  t.deepEqual(unsupported(c), [])
  const v6 = load(`node: d1
vrrp:
  version: 3
  instances:
    - { name: a, interface: eth0, vrid: 1, vips: [fd00::1/64], virtual_mac: true }
    - { name: b, interface: eth0, vrid: 2, vips: [10.0.0.9/24] }
  sync_groups:
    - { name: g, members: [a, b] }
`)
  t.true(runtimeInstance(v6.vrrp.instances[0]!).virtualMac, 'IPv6 too (00:00:5e:00:02:VRID)')
  t.deepEqual(unsupported(v6), [])
})

test('VRRPv2 authentication maps to the runtime’s auth (type 1 with its password, or type 0); absent = none', (t) => {
  const c = load(`node: d1
vrrp:
  version: 2
  instances:
    - { name: a, interface: eth0, vrid: 1, vips: [10.0.0.1/24], authentication: { type: pass, password: s3cret } }
    - { name: b, interface: eth0, vrid: 2, vips: [10.0.0.2/24], authentication: { type: none } }
    - { name: c, interface: eth0, vrid: 3, vips: [10.0.0.3/24] }
`)
  const [a, b, c2] = c.vrrp.instances.map(runtimeInstance)
  t.deepEqual(a?.auth, { type: 1, password: 's3cret' })
  t.deepEqual(b?.auth, { type: 0 })
  t.false(c2 !== undefined && 'auth' in c2)
})
