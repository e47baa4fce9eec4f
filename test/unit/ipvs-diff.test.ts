// diff(desired, actual, owned): the minimal ordered IPVS commands, canonical destination order, ownership.
import test from 'ava'
import { diff, type Op } from '../../src/ipvs/diff.js'
import type { Destination, Service, ServiceKey } from '../../src/ipvs/domain.js'
import {
  compareDests,
  defaultDest,
  defaultService,
  desiredTable,
  destId,
  type ServiceState,
  serviceId,
} from '../../src/ipvs/model.js'
import { type Addr, formatAddr, parseAddr } from '../../src/net/addr.js'
import { prng } from '../helpers/codec.js'

const tcp = (addr: string, port: number): ServiceKey => ({ protocol: 'tcp', addr: parseAddr(addr), port })
const seedKey = tcp('10.0.0.3', 80)
const dr = (ip: string, over: Partial<Destination> = {}) => defaultDest(parseAddr(ip), 80, 'droute', over)
const svc = (key: ServiceKey, sched: string, over: Partial<Service> = {}) => defaultService(key, sched, over)
const state = (service: Service, dests: Destination[]): ServiceState => ({ service, dests })
const seed = (over: Partial<Service> = {}, dests = [dr('10.0.0.7'), dr('10.0.0.8')]) =>
  state(svc(seedKey, 'wrr', over), dests)

/** Ops in a compact form for table assertions: 'add-dest 10.0.0.7/80'. */
function brief(ops: Op[]): string[] {
  return ops.map((o) => {
    switch (o.op) {
      case 'add-service':
      case 'edit-service':
        return `${o.op} ${serviceId(o.service.key)} ${o.service.scheduler}`
      case 'del-service':
        return `${o.op} ${serviceId(o.key)}`
      default: {
        const addr = o.dest.addr.family === 6 ? 'v6' : Array.from(o.dest.addr.bytes).join('.')
        return `${o.op} ${addr}/${o.dest.port}${'reorder' in o && o.reorder ? ' reorder' : ''}`
      }
    }
  })
}

interface Case {
  name: string
  desired: ServiceState[]
  actual: ServiceState[]
  owned?: string[]
  want: string[]
}

const mhKey = tcp('10.0.0.3', 443)
const v6Key = tcp('2001:db8::3', 443)
const fw: ServiceKey = { fwmark: 7, family: 4 }
const tun = (ip: string, over: Partial<Destination> = {}) =>
  defaultDest(parseAddr(ip), 0, 'tunnel', { tunnel: { type: 'gue', port: 6080, csum: false, remcsum: false }, ...over })

const cases: Case[] = [
  {
    name: 'empty kernel → the seed table: one service, destinations in canonical order',
    desired: [seed({}, [dr('10.0.0.8'), dr('10.0.0.7')])],
    actual: [],
    want: ['add-service tcp/10.0.0.3/80 wrr', 'add-dest 10.0.0.7/80', 'add-dest 10.0.0.8/80'],
  },
  {
    name: 'one weight change → exactly one SET_DEST',
    desired: [seed({}, [dr('10.0.0.7', { weight: 5 }), dr('10.0.0.8')])],
    actual: [seed()],
    want: ['edit-dest 10.0.0.7/80'],
  },
  {
    name: 'a removed destination → one DEL_DEST',
    desired: [seed({}, [dr('10.0.0.7')])],
    actual: [seed()],
    want: ['del-dest 10.0.0.8/80'],
  },
  {
    name: 'a service lvsd does not own is left untouched',
    desired: [seed()],
    actual: [seed(), state(svc(tcp('10.0.0.4', 80), 'rr'), [dr('10.0.0.9')])],
    want: [],
  },
  {
    name: 'an owned service no longer desired is deleted (its destinations go with it)',
    desired: [seed()],
    actual: [seed(), state(svc(tcp('10.0.0.4', 80), 'rr'), [dr('10.0.0.9')])],
    owned: ['tcp/10.0.0.4/80'],
    want: ['del-service tcp/10.0.0.4/80'],
  },
  {
    name: 'a scheduler change is one SET_SERVICE',
    desired: [seed({ scheduler: 'lc' })],
    actual: [seed()],
    want: ['edit-service tcp/10.0.0.3/80 lc'],
  },
  {
    name: 'a persistence change is one SET_SERVICE',
    desired: [seed({ persistent: true, timeout: 300, netmask: 24 })],
    actual: [seed()],
    want: ['edit-service tcp/10.0.0.3/80 wrr'],
  },
  {
    name: 'a change to mh over destinations added out of order re-adds the misplaced one',
    desired: [seed({ scheduler: 'mh' })],
    actual: [seed({}, [dr('10.0.0.8'), dr('10.0.0.7')])],
    want: ['edit-service tcp/10.0.0.3/80 mh', 'del-dest 10.0.0.8/80 reorder', 'add-dest 10.0.0.8/80 reorder'],
  },
  {
    name: 'mh: a destination that sorts in the middle forces the ones behind it to be re-added',
    desired: [state(svc(mhKey, 'mh'), [dr('10.0.0.7'), dr('10.0.0.8'), dr('10.0.0.9')])],
    actual: [state(svc(mhKey, 'mh'), [dr('10.0.0.7'), dr('10.0.0.9')])],
    want: ['del-dest 10.0.0.9/80 reorder', 'add-dest 10.0.0.8/80', 'add-dest 10.0.0.9/80 reorder'],
  },
  {
    name: 'wrr: the same middle insertion is a single NEW_DEST (order does not matter)',
    desired: [seed({}, [dr('10.0.0.7'), dr('10.0.0.8'), dr('10.0.0.9')])],
    actual: [seed({}, [dr('10.0.0.7'), dr('10.0.0.9')])],
    want: ['add-dest 10.0.0.8/80'],
  },
  {
    name: 'mh: a destination appended at the end needs no re-add',
    desired: [state(svc(mhKey, 'mh'), [dr('10.0.0.7'), dr('10.0.0.8'), dr('10.0.0.9')])],
    actual: [state(svc(mhKey, 'mh'), [dr('10.0.0.7'), dr('10.0.0.8')])],
    want: ['add-dest 10.0.0.9/80'],
  },
  {
    name: 'mh: removing a destination keeps the others in place',
    desired: [state(svc(mhKey, 'mh'), [dr('10.0.0.7'), dr('10.0.0.9')])],
    actual: [state(svc(mhKey, 'mh'), [dr('10.0.0.7'), dr('10.0.0.8'), dr('10.0.0.9')])],
    want: ['del-dest 10.0.0.8/80'],
  },
  {
    name: 'sh is order-sensitive too',
    desired: [state(svc(mhKey, 'sh'), [dr('10.0.0.7'), dr('10.0.0.8')])],
    actual: [state(svc(mhKey, 'sh'), [dr('10.0.0.8'), dr('10.0.0.7')])],
    want: ['del-dest 10.0.0.8/80 reorder', 'add-dest 10.0.0.8/80 reorder'],
  },
  {
    name: 'fwmark service with a GUE tunnel: a tunnel port change is one SET_DEST',
    desired: [
      state(svc(fw, 'sh'), [tun('10.0.0.9', { tunnel: { type: 'gue', port: 6081, csum: true, remcsum: false } })]),
    ],
    actual: [state(svc(fw, 'sh'), [tun('10.0.0.9')])],
    want: ['edit-dest 10.0.0.9/0'],
  },
  {
    name: 'IPv6 service from scratch',
    desired: [state(svc(v6Key, 'wlc'), [defaultDest(parseAddr('2001:db8::7'), 443, 'masq')])],
    actual: [],
    want: ['add-service tcp/2001:db8::3/443 wlc', 'add-dest v6/443'],
  },
  {
    name: 'deletions of services come first, then services in canonical key order',
    desired: [state(svc(v6Key, 'rr'), []), seed()],
    actual: [state(svc(tcp('10.0.0.5', 80), 'rr'), [])],
    owned: ['tcp/10.0.0.5/80'],
    want: [
      'del-service tcp/10.0.0.5/80',
      'add-service tcp/10.0.0.3/80 wrr',
      'add-dest 10.0.0.7/80',
      'add-dest 10.0.0.8/80',
      'add-service tcp/2001:db8::3/443 rr',
    ],
  },
  {
    name: 'a fwd method change is one SET_DEST; tunnel options of a non-tunnel destination are ignored',
    desired: [
      seed({}, [
        dr('10.0.0.7', { fwd: 'masq' }),
        dr('10.0.0.8', { tunnel: { type: 'gre', port: 1, csum: true, remcsum: true } }),
      ]),
    ],
    actual: [seed()],
    want: ['edit-dest 10.0.0.7/80'],
  },
]

for (const c of cases) {
  test(c.name, (t) => {
    t.deepEqual(brief(diff(c.desired, c.actual, c.owned)), c.want)
  })
}

const rich: ServiceState[] = desiredTable([
  seed({ persistent: true, timeout: 60, netmask: 24 }),
  state(svc(mhKey, 'mh', { schedFlags: 3 }), [dr('10.0.0.9'), dr('10.0.0.7')]),
  state(svc(v6Key, 'wlc', { persistent: true, timeout: 300, netmask: 64 }), [
    defaultDest(parseAddr('2001:db8::8'), 8443, 'masq', { weight: 70000, upperThreshold: 100, lowerThreshold: 10 }),
    defaultDest(parseAddr('2001:db8::7'), 8443, 'masq'),
  ]),
  state(svc(fw, 'sh', { peName: 'sip' }), [tun('10.0.0.9'), tun('10.0.0.10', { weight: 0 })]),
  state(svc({ protocol: 'udp', addr: parseAddr('10.0.0.3'), port: 53 }, 'rr', { onePacket: true }), []),
])

test('idempotence: diff(x, x) is empty for a table with every kind of service', (t) => {
  t.deepEqual(
    diff(
      rich,
      rich,
      rich.map((s) => serviceId(s.service.key)),
    ),
    [],
  )
})

test('applying the ops of empty → x to a model of the kernel gives x back in canonical order', (t) => {
  const ops = diff(rich, [])
  // a model of the kernel: head insertion, so the dump order is the reverse of insertion
  const kernel = new Map<string, { service: Service; list: Destination[] }>()
  for (const o of ops) {
    if (o.op === 'add-service') kernel.set(serviceId(o.service.key), { service: o.service, list: [] })
    else if (o.op === 'add-dest') kernel.get(serviceId(o.key))?.list.unshift(o.dest)
    else t.fail(`unexpected ${o.op}`)
  }
  const actual = [...kernel.values()].map((k) => state(k.service, [...k.list].reverse()))
  t.deepEqual(diff(rich, actual), [])
  for (const s of actual) t.deepEqual(s.dests, [...s.dests].sort(compareDests))
})

test('desiredTable sorts destinations canonically and rejects duplicates and mixed families', (t) => {
  const [s] = desiredTable([seed({}, [dr('10.0.0.8'), dr('10.0.0.7'), dr('10.0.0.10')])])
  t.deepEqual(
    s?.dests.map((d) => d.addr.bytes[3]),
    [7, 8, 10],
  )
  t.throws(() => desiredTable([seed(), seed()]), { code: 'LVSD_IPVS_TABLE_INVALID' })
  t.throws(() => desiredTable([seed({}, [dr('10.0.0.7'), dr('10.0.0.7', { weight: 2 })])]), {
    code: 'LVSD_IPVS_TABLE_INVALID',
  })
  t.throws(() => desiredTable([seed({}, [defaultDest(parseAddr('2001:db8::7'), 80, 'droute')])]), {
    code: 'LVSD_IPVS_TABLE_INVALID',
  })
  t.notThrows(() => desiredTable([seed({}, [defaultDest(parseAddr('2001:db8::7'), 80, 'tunnel')])]))
})

test('the diff never mutates its inputs', (t) => {
  const desired = [seed({ scheduler: 'mh' })]
  const actual = [seed({}, [dr('10.0.0.8'), dr('10.0.0.7')])]
  const before = JSON.stringify([desired, actual], (_k, v) => (v instanceof Uint8Array ? Array.from(v) : v))
  diff(desired, actual)
  t.is(
    JSON.stringify([desired, actual], (_k, v) => (v instanceof Uint8Array ? Array.from(v) : v)),
    before,
  )
})

test('destination and service ids spell addresses exactly as formatAddr does (IPv4 fast path included)', (t) => {
  const rnd = prng(7)
  for (let i = 0; i < 500; i++) {
    const v6 = i % 3 === 0
    const bytes = Uint8Array.from({ length: v6 ? 16 : 4 }, () => Math.floor(rnd() * 256))
    const addr = { family: v6 ? 6 : 4, bytes } as Addr
    const port = Math.floor(rnd() * 65536)
    t.is(destId({ addr, port }), `${formatAddr(addr)}/${port}`)
    t.is(serviceId({ protocol: 'udp', addr, port }), `udp/${formatAddr(addr)}/${port}`)
  }
})
