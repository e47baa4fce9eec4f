// Property of diff(desired, actual, owned) over random tables (fast-check): applying its ops to a
// model of the kernel (ip_vs_ctl.c semantics: a new destination goes to the head of the list, the dump
// lists newest first) gives exactly the desired services and destinations, in canonical order where
// the scheduler is order-sensitive; a service lvsd does not own is never touched; a second diff is empty.
import test from 'ava'
import fc from 'fast-check'
import { diff, type Op } from '../../src/ipvs/diff.js'
import type { Destination, Service, ServiceKey } from '../../src/ipvs/domain.js'
import {
  compareDests,
  defaultDest,
  defaultService,
  desiredTable,
  destId,
  ORDER_SENSITIVE_SCHEDULERS,
  type ServiceState,
  serviceId,
} from '../../src/ipvs/model.js'
import { parseAddr } from '../../src/net/addr.js'

// a small domain, so random tables overlap: 4 service keys, 6 destination addresses
const KEYS: ServiceKey[] = [80, 443, 53, 8080].map((port) => ({
  protocol: port === 53 ? ('udp' as const) : ('tcp' as const),
  addr: parseAddr('10.0.0.3'),
  port,
}))
const SCHEDULERS = ['wrr', 'rr', 'mh', 'sh', 'wlc']

const destArb = fc
  .record({ host: fc.integer({ min: 7, max: 12 }), weight: fc.integer({ min: 0, max: 3 }), masq: fc.boolean() })
  .map(({ host, weight, masq }) => defaultDest(parseAddr(`10.0.0.${host}`), 80, masq ? 'masq' : 'droute', { weight }))
const serviceArb = (key: ServiceKey) =>
  fc
    .record({
      scheduler: fc.constantFrom(...SCHEDULERS),
      persistent: fc.boolean(),
      dests: fc.uniqueArray(destArb, { selector: destId, maxLength: 5 }),
    })
    .map(
      ({ scheduler, persistent, dests }): ServiceState => ({
        service: defaultService(key, scheduler, persistent ? { persistent, timeout: 300 } : {}),
        dests,
      }),
    )
/** Some of the keys, each with random settings and destinations (in any order: a kernel's is arbitrary). */
const tableArb = fc
  .subarray(KEYS)
  .chain((keys) => (keys.length === 0 ? fc.constant([]) : fc.tuple(...keys.map(serviceArb))))

interface KernelService {
  service: Service
  /** Newest first, as the kernel keeps and dumps them. */
  list: Destination[]
}

function apply(actual: readonly ServiceState[], ops: readonly Op[]): ServiceState[] {
  const k = new Map<string, KernelService>(
    actual.map((s) => [serviceId(s.service.key), { service: s.service, list: [...s.dests].reverse() }]),
  )
  const svc = (key: ServiceKey) => {
    const s = k.get(serviceId(key))
    if (!s) throw new Error(`no service ${serviceId(key)}`)
    return s
  }
  for (const o of ops) {
    if (o.op === 'add-service') {
      if (k.has(serviceId(o.service.key))) throw new Error('EEXIST service')
      k.set(serviceId(o.service.key), { service: o.service, list: [] })
    } else if (o.op === 'edit-service') svc(o.service.key).service = o.service
    else if (o.op === 'del-service') {
      if (!k.delete(serviceId(o.key))) throw new Error('ESRCH service')
    } else {
      const s = svc(o.key)
      const at = s.list.findIndex((d) => destId(d) === destId(o.dest))
      if (o.op === 'add-dest') {
        if (at >= 0) throw new Error('EEXIST dest')
        s.list.unshift(o.dest)
      } else if (at < 0) throw new Error('ENOENT dest')
      else if (o.op === 'edit-dest') s.list[at] = o.dest
      else s.list.splice(at, 1)
    }
  }
  return [...k.values()].map((s) => ({ service: s.service, dests: [...s.list].reverse() }))
}

const byId = (t: readonly ServiceState[]) => new Map(t.map((s) => [serviceId(s.service.key), s]))
const sorted = (d: readonly Destination[]) => [...d].sort(compareDests)

test('property: any kernel table plus the diff is the desired table; foreign services untouched; a second diff is empty', async (t) => {
  await fc.assert(
    fc.property(tableArb, tableArb, fc.subarray(KEYS), (want, have, ownedKeys) => {
      const desired = desiredTable(want)
      const owned = ownedKeys.map(serviceId)
      const after = apply(have, diff(desired, have, owned))
      const got = byId(after)
      const before = byId(have)
      for (const w of desired) {
        const g = got.get(serviceId(w.service.key))
        if (!g) return false
        if (JSON.stringify(g.service) !== JSON.stringify(w.service)) return false
        const inOrder = ORDER_SENSITIVE_SCHEDULERS.has(w.service.scheduler) ? g.dests : sorted(g.dests)
        // order-sensitive schedulers get the canonical order itself, the others the same set
        if (JSON.stringify(inOrder) !== JSON.stringify(w.dests)) return false
      }
      const mine = new Set([...owned, ...desired.map((s) => serviceId(s.service.key))])
      for (const [id, s] of before) {
        if (mine.has(id)) continue
        if (JSON.stringify(got.get(id)) !== JSON.stringify(s)) return false // not lvsd's: exactly as it was
      }
      for (const id of got.keys()) if (!before.has(id) && !mine.has(id)) return false
      for (const id of owned) if (!desired.some((s) => serviceId(s.service.key) === id) && got.has(id)) return false
      return diff(desired, after, owned).length === 0
    }),
    { numRuns: 2000, seed: 1205 },
  )
  t.pass('fc.assert throws on the first counterexample (shrunk, with its seed); ava needs one assertion')
})
