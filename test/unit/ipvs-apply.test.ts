// applyOps with a window of requests in flight: order kept, the window respected, the
// skip rule for destinations of a service that could not be added, and the fake kernel's final table.
import test from 'ava'
import { LvsdError } from '../../src/errors.js'
import { applyOps, type IpvsOps, readTable } from '../../src/ipvs/apply.js'
import { IpvsClient } from '../../src/ipvs/client.js'
import { diff } from '../../src/ipvs/diff.js'
import type { Service, ServiceKey } from '../../src/ipvs/domain.js'
import { defaultDest, defaultService, type ServiceState, serviceId } from '../../src/ipvs/model.js'
import { parseAddr } from '../../src/net/addr.js'
import { NLM_F_ACK, NLMSG_ERROR } from '../../src/net/nlmsg.js'
import { FakeIpvs, fakeIpvs, IPVS } from '../fixtures/ipvs/fake-ipvs.js'
import { fakeClient } from '../helpers/fake-kernel.js'

const svcKey = (i: number): ServiceKey => ({ protocol: 'tcp', addr: parseAddr(`10.1.0.${i}`), port: 80 })
const table = (n: number, per: number): ServiceState[] =>
  Array.from({ length: n }, (_, i) => ({
    service: defaultService(svcKey(i + 1), 'wrr'),
    dests: Array.from({ length: per }, (_, j) => defaultDest(parseAddr(`10.2.${i}.${j + 1}`), 80, 'droute')),
  }))

/** Stub ops that answer on a later turn and record how many were outstanding. */
function stub(failAdd?: string) {
  let inFlight = 0
  const seen: string[] = []
  const stats = { max: 0 }
  const op = (name: string, fail = false) => {
    inFlight++
    stats.max = Math.max(stats.max, inFlight)
    seen.push(name)
    return new Promise<void>((resolve, reject) =>
      setImmediate(() => {
        inFlight--
        if (fail) reject(new LvsdError('LVSD_NL_KERNEL', name, { code: 'ENOENT' }))
        else resolve()
      }),
    )
  }
  const c = {
    addService: (s: Service) => op(`+S ${(s.key as { addr: unknown }).addr}`, failAdd === JSON.stringify(s.key)),
    addDest: () => op('+D'),
  } as unknown as IpvsOps
  return { c, seen, stats }
}

test('with a window, up to that many commands are outstanding and results come back in op order', async (t) => {
  const ops = diff(table(10, 5), [])
  const { c, stats } = stub()
  const results = await applyOps(c, ops, { window: 8 })
  t.is(stats.max, 8)
  t.deepEqual(
    results.map((r) => r.op),
    ops,
  )
  t.true(results.every((r) => r.status === 'ok'))
  const serial = stub()
  await applyOps(serial.c, ops)
  t.is(serial.stats.max, 1, 'the default waits for each answer')
})

test('destinations sent before their service’s NEW_SERVICE failed are reported skipped, later ones not sent', async (t) => {
  const ops = diff(table(3, 20), [])
  const { c, seen } = stub(JSON.stringify(svcKey(2)))
  const results = await applyOps(c, ops, { window: 4 })
  const of2 = results.filter((r) => r.op.op === 'add-dest' && JSON.stringify(r.op.key) === JSON.stringify(svcKey(2)))
  t.is(of2.length, 20)
  t.true(of2.every((r) => r.status === 'skipped'))
  t.is(results.filter((r) => r.status === 'failed').length, 1)
  t.true(seen.length < ops.length, `${seen.length} of ${ops.length} sent: the rest of service 2 was held back`)
  t.is(results.filter((r) => r.status === 'ok').length, 2 + 40)
})

test('a pipelined apply against the fake kernel gives the desired table', async (t) => {
  const want = table(20, 7)
  const { nl } = fakeIpvs()
  const c = await IpvsClient.open(nl)
  const r = await applyOps(c, diff(want, []), { window: 64 })
  t.true(r.every((x) => x.status === 'ok'))
  t.deepEqual(diff(want, await readTable(c)), [])
})

test('with a batching client and ack "last", a window is one datagram with one ACK; a refused NEW_SERVICE still fails alone', async (t) => {
  const want = table(4, 5) // 24 ops
  const fake = new FakeIpvs()
  // the kernel answers a command only when asked (NLM_F_ACK) or when it fails (netlink_rcv_skb)
  const { kernel, client: nl } = fakeClient((req) =>
    fake.handle(req).filter((d) => {
      const m = Array.isArray(d) ? d[0] : d
      return req.flags & NLM_F_ACK || m?.type !== NLMSG_ERROR || m.payload.readInt32LE(0) !== 0
    }),
  )
  const c = await IpvsClient.open(nl)
  const sentBefore = nl.datagramsSent
  fake.services.set(serviceId(svcKey(2)), { svc: defaultService(svcKey(2), 'rr'), dests: [] }) // EEXIST
  const ops = diff(want, [])
  const r = await applyOps(c, ops, { window: 12, ack: 'last' })
  t.is(nl.datagramsSent - sentBefore, 2)
  const ipvs = kernel.sent.filter((m) => m.type === IPVS)
  t.deepEqual(
    ipvs.map((m, i) => (m.flags & NLM_F_ACK ? i : -1)).filter((i) => i >= 0),
    [11, 23],
  )
  t.deepEqual(
    r.map((x) => x.status),
    ops.map((o) => {
      const key = o.op === 'add-service' || o.op === 'edit-service' ? o.service.key : o.key
      const of2 = JSON.stringify(key) === JSON.stringify(svcKey(2))
      return !of2 ? 'ok' : o.op === 'add-service' ? 'failed' : 'skipped'
    }),
  )
  t.is(r.find((x) => x.status === 'failed')?.error?.details.code, 'EEXIST')
})
