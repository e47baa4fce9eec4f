// IpvsClient and apply/reconcile against a fake IPVS kernel at the netlink message seam: family resolution
// with one module load, errors naming command + errno + extended ACK, dumps, and reconciliation passes.
import test from 'ava'
import { LvsdError } from '../../src/errors.js'
import { readTable, reconcile } from '../../src/ipvs/apply.js'
import { CMD } from '../../src/ipvs/attrs.js'
import { IpvsClient } from '../../src/ipvs/client.js'
import { decode, encode, ipvsMessage } from '../../src/ipvs/codec.js'
import type { Destination, ServiceKey, SyncDaemon } from '../../src/ipvs/domain.js'
import { defaultDest, defaultService, type ServiceState } from '../../src/ipvs/model.js'
import { modprobe } from '../../src/ipvs/modprobe.js'
import { parseAddr } from '../../src/net/addr.js'
import { NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST } from '../../src/net/nlmsg.js'
import { fakeIpvs, IPVS } from '../fixtures/ipvs/fake-ipvs.js'
import { busy, turnCounter } from '../helpers/loop-turns.js'

const setup = fakeIpvs

const vip = parseAddr('10.0.0.3')
const seedKey = { protocol: 'tcp', addr: vip, port: 80 } as const
const seedSvc = defaultService(seedKey, 'wrr')
const rs = (last: number, over: Partial<Destination> = {}) =>
  defaultDest(parseAddr(`10.0.0.${last}`), 80, 'droute', over)
const seedTable: ServiceState[] = [{ service: seedSvc, dests: [rs(8), rs(7)] }]

test('open resolves the IPVS family through nlctrl and sends requests to its id', async (t) => {
  const { fake, kernel, nl } = await setup()
  const c = await IpvsClient.open(nl)
  t.is(c.familyId, IPVS)
  await c.addService(seedSvc)
  const sent = kernel.sent.at(-1)
  t.is(sent?.type, IPVS)
  t.is(sent?.flags, NLM_F_REQUEST | NLM_F_ACK)
  t.deepEqual(fake.log, ['NEW_SERVICE'])
})

test('an absent family makes open load the module once and resolve again', async (t) => {
  const { fake, nl } = await setup({ present: false })
  let loads = 0
  const c = await IpvsClient.open(nl, {
    loadModule: () => {
      loads++
      fake.present = true
    },
  })
  t.is(loads, 1)
  t.is(c.familyId, IPVS)
})

test('IPVS missing even after the module load is LVSD_GENL_FAMILY_ABSENT, loader called once', async (t) => {
  const { nl } = await setup({ present: false })
  let loads = 0
  const e = (await t.throwsAsync(
    IpvsClient.open(nl, {
      loadModule: () => {
        loads++
        throw new Error('modprobe: FATAL: Module ip_vs not found')
      },
    }),
    { code: 'LVSD_GENL_FAMILY_ABSENT' },
  )) as LvsdError | undefined
  t.is(loads, 1)
  t.regex(String(e?.details.loadError), /Module ip_vs not found/)
  await t.throwsAsync(IpvsClient.open(nl), { code: 'LVSD_GENL_FAMILY_ABSENT' })
})

test('a kernel refusal names the command, the errno and the extended ACK text', async (t) => {
  const { fake, nl } = await setup()
  const c = await IpvsClient.open(nl)
  const e = (await t.throwsAsync(c.addDest(seedKey, rs(7)), { code: 'LVSD_NL_KERNEL' })) as LvsdError | undefined
  t.like(e?.details, { command: 'NEW_DEST', errno: 3, code: 'ESRCH' })
  await c.addService(seedSvc)
  fake.failNext = { cmd: CMD.NEW_DEST, errno: 'EINVAL', extAck: 'Attribute failed policy validation' }
  const e2 = (await t.throwsAsync(c.addDest(seedKey, rs(7)), { code: 'LVSD_NL_KERNEL' })) as LvsdError | undefined
  t.like(e2?.details, { command: 'NEW_DEST', errno: 22, code: 'EINVAL', extAck: 'Attribute failed policy validation' })
  t.regex(e2?.message ?? '', /NEW_DEST tcp 10\.0\.0\.3:80 -> 10\.0\.0\.7:80/)
  const e3 = await t.throwsAsync(c.addService({ ...seedSvc, key: { ...seedKey, port: 81 }, scheduler: 'nosuch' }))
  t.like((e3 as { details?: object })?.details, { command: 'NEW_SERVICE', code: 'ENOENT' })
})

test('listServices and listDests dump with NLM_F_DUMP; destinations come newest first', async (t) => {
  const { kernel, nl } = await setup()
  const c = await IpvsClient.open(nl)
  await c.addService(seedSvc)
  await c.addDest(seedKey, rs(7))
  await c.addDest(seedKey, rs(8, { weight: -1 }))
  const [svc, ...more] = await c.listServices()
  t.is(more.length, 0)
  t.is(kernel.sent.at(-1)?.flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP)
  const { stats, ...plain } = svc ?? ({} as never)
  t.deepEqual(plain, seedSvc)
  t.is(stats?.inBytes, 2n ** 40n)
  const dests = await c.listDests(seedKey)
  t.deepEqual(
    dests.map((d) => [d.addr.bytes[3], d.weight, d.activeConns]),
    [
      [8, -1, 2],
      [7, 1, 2],
    ],
  )
  t.deepEqual(
    (await readTable(c))[0]?.dests.map((d) => d.addr.bytes[3]),
    [7, 8],
  )
})

test('a dump the kernel marks interrupted is retried, and given up on after three tries', async (t) => {
  const { fake, nl } = await setup()
  const c = await IpvsClient.open(nl)
  await c.addService(seedSvc)
  fake.interruptDumps = 2
  t.is((await c.listServices()).length, 1)
  fake.interruptDumps = 3
  await t.throwsAsync(c.listServices(), { code: 'LVSD_NL_PROTOCOL' })
})

test('timeouts, info, sync daemons, zero and flush', async (t) => {
  const { fake, nl } = await setup()
  const c = await IpvsClient.open(nl)
  await c.setTimeouts({ tcp: 30, tcpFin: 5, udp: 60 })
  t.deepEqual(await c.getTimeouts(), { tcp: 30, tcpFin: 5, udp: 60 })
  t.deepEqual(await c.getInfo(), { version: '1.2.1', versionCode: 0x010201, connTabSize: 4096 })
  const master: SyncDaemon = { state: 'master', ifname: 'eth0', syncId: 51 }
  await c.startDaemon(master)
  await t.throwsAsync(c.startDaemon(master), { code: 'LVSD_NL_KERNEL' })
  t.deepEqual(await c.listDaemons(), [master])
  await c.stopDaemon('master')
  t.deepEqual(await c.listDaemons(), [])
  await c.addService(seedSvc)
  await c.zero(seedKey)
  await c.zero()
  t.deepEqual(fake.zeroed, ['tcp/10.0.0.3/80', 'all'])
  await c.flush()
  t.deepEqual(await c.listServices(), [])
})

test('reconcile programs the seed table, then finds nothing to do', async (t) => {
  const { fake, nl } = await setup()
  const c = await IpvsClient.open(nl)
  const seen: string[] = []
  const first = await reconcile(c, seedTable, [], { onResult: (r) => seen.push(`${r.op.op}:${r.status}`) })
  t.deepEqual(seen, ['add-service:ok', 'add-dest:ok', 'add-dest:ok'])
  t.deepEqual(
    fake.log.filter((x) => !x.startsWith('GET')),
    ['NEW_SERVICE', 'NEW_DEST', 'NEW_DEST'],
  )
  t.is(first.results.length, 3)
  const second = await reconcile(c, seedTable)
  t.deepEqual(second.ops, [])
})

test('a destination deleted behind lvsd’s back is restored; an unowned service is left alone', async (t) => {
  const { fake, nl } = await setup()
  const c = await IpvsClient.open(nl)
  await reconcile(c, seedTable)
  const other = defaultService({ protocol: 'tcp', addr: parseAddr('10.0.0.4'), port: 80 }, 'rr')
  await c.addService(other)
  await c.delDest(seedKey, rs(8))
  fake.log = []
  const r = await reconcile(c, seedTable)
  t.deepEqual(
    r.results.map((x) => `${x.op.op} ${x.status}`),
    ['add-dest ok'],
  )
  t.deepEqual(
    fake.log.filter((x) => !x.startsWith('GET')),
    ['NEW_DEST'],
  )
  t.true(fake.services.has('tcp/10.0.0.4/80'))
})

test('when a service cannot be added its destinations are skipped, not sent', async (t) => {
  const { fake, nl } = await setup()
  const c = await IpvsClient.open(nl)
  const bad: ServiceState[] = [{ service: { ...seedSvc, scheduler: 'nosuch' }, dests: [rs(7)] }]
  const r = await reconcile(c, bad)
  t.deepEqual(
    r.results.map((x) => x.status),
    ['failed', 'skipped'],
  )
  t.is(r.results[0]?.error?.details.code, 'ENOENT')
  t.false(fake.log.includes('NEW_DEST'))
})

test('readTable leaves out a service that vanished between the service and destination dumps', async (t) => {
  const gone = { ...seedSvc, key: { ...seedKey, port: 81 } }
  const ops = {
    listServices: async () => [seedSvc, gone],
    listDests: async (k: ServiceKey) => {
      if (k === gone.key) {
        throw new LvsdError('LVSD_NL_KERNEL', 'IPVS GET_DEST: ESRCH', { command: 'GET_DEST', code: 'ESRCH', errno: 3 })
      }
      return [rs(8), rs(7)].map((d) => ({ ...d, activeConns: 0, inactiveConns: 0, persistentConns: 0 }))
    },
  }
  const table = await readTable(ops)
  t.is(table.length, 1)
  t.deepEqual(
    table[0]?.dests.map((d) => d.addr.bytes[3]),
    [7, 8],
  )
  const broken = { ...ops, listDests: async () => Promise.reject(new LvsdError('LVSD_NL_TIMEOUT', 'timeout')) }
  await t.throwsAsync(readTable(broken), { code: 'LVSD_NL_TIMEOUT' })
})

test('the modprobe loader resolves when the command succeeds and rejects with its name when it fails', async (t) => {
  await t.notThrowsAsync(modprobe('ip_vs', 'true')())
  const e = await t.throwsAsync(modprobe('ip_vs', 'false')())
  t.regex(e?.message ?? '', /^false ip_vs: /)
})

test('dumps asked for at the same time are sent one after the other (the kernel answers a second one EBUSY)', async (t) => {
  const { fake, nl } = setup()
  const c = await IpvsClient.open(nl)
  await reconcile(c, seedTable)
  const other = { ...seedKey, port: 443 }
  await c.addService(defaultService(other, 'rr'))
  const [svcs, a, b, daemons] = await Promise.all([
    c.listServices(),
    c.listDests(seedKey),
    c.listDests(other),
    c.listDaemons(),
  ])
  t.is(svcs.length, 2)
  t.is(a.length, 2)
  t.is(b.length, 0)
  t.deepEqual(daemons, [])
  t.is(fake.log.filter((x) => x === 'GET_DEST').length, 2, 'the reconcile read an empty table; then one per service')
  // the fake does refuse overlapping dumps: sent on one turn without the client's queue, the second fails
  const raw = [nl.request({ type: IPVS, flags: NLM_F_DUMP, payload: encode(ipvsMessage(CMD.GET_SERVICE)) })]
  raw.push(nl.request({ type: IPVS, flags: NLM_F_DUMP, payload: encode(ipvsMessage(CMD.GET_SERVICE)) }))
  const r = await Promise.allSettled(raw)
  t.is(r[0]?.status, 'fulfilled')
  t.is(r[1]?.status, 'rejected')
})

test('dumps with { stats: false } leave the counters out and nothing else; readTable reads that way', async (t) => {
  const { nl } = await setup()
  const c = await IpvsClient.open(nl)
  await c.addService(seedSvc)
  const [lean] = await c.listServices({ stats: false })
  const [full] = await c.listServices()
  t.is(lean?.stats, undefined)
  t.is(full?.stats?.inBytes, 2n ** 40n)
  const { stats: _, ...rest } = full ?? ({} as never)
  t.deepEqual(lean, rest)
  const withCounters = ipvsMessage(CMD.NEW_DEST, {
    dest: {
      addr: Buffer.alloc(16, 1),
      port: 80,
      fwdMethod: 3,
      weight: 2,
      uThresh: 0,
      lThresh: 0,
      stats64: { conns: 7n },
    },
  })
  t.is(decode(encode(withCounters), 0, { stats: false }).value.dest?.stats64, undefined)
  t.is(decode(encode(withCounters)).value.dest?.stats64?.conns, 7n)
  const read = await readTable(c)
  t.false(read.some((s) => 'stats' in s.service))
})

test('readTable lets the event loop turn during a long read, and reads the same table', async (t) => {
  // each dump answered synchronously after 2 ms of work, as the kernel answers inside sendmsg
  const services = Array.from({ length: 12 }, (_, i) => ({ ...seedSvc, key: { ...seedKey, port: 1000 + i } }))
  const ops = {
    listServices: async () => services,
    listDests: async () => {
      busy(2)
      return [rs(7)].map((d) => ({ ...d, activeConns: 0, inactiveConns: 0, persistentConns: 0 }))
    },
  }
  const loop = turnCounter()
  const table = await readTable(ops)
  loop.stop()
  t.is(table.length, 12)
  // 24 ms of reads in slices of 4 ms: a turn after every two or three services
  t.true(loop.turns >= 4, `${loop.turns} turns during the read`)
})
