// IPVS codec (<linux/ip_vs.h>): ipvsadm 1.31's own bytes, captured in the lab VM, against lvsd's encoder;
// the kernel's replies decoded to domain values; round trips; hostile inputs; a seeded fuzz loop.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { isLvsdError } from '../../src/errors.js'
import { CMD, SVC_ATTRS } from '../../src/ipvs/attrs.js'
import { decode, encode, encodeInto, type IpvsMessage, ipvsMessage, size } from '../../src/ipvs/codec.js'
import {
  daemonFromWire,
  daemonToWire,
  destFromWire,
  destKeyToWire,
  destToWire,
  infoFromWire,
  netmaskFromWire,
  netmaskToWire,
  serviceFromWire,
  serviceKeyFromWire,
  serviceKeyToWire,
  serviceToWire,
  timeoutsFromWire,
  timeoutsToWire,
} from '../../src/ipvs/domain.js'
import { defaultDest, defaultService } from '../../src/ipvs/model.js'
import { parseAddr } from '../../src/net/addr.js'
import { decodeAll, decodeError, NLM_F_DUMP, NLMSG_ERROR, type NlMessage } from '../../src/net/nlmsg.js'
import { prng, roundTrip } from '../helpers/codec.js'
import { fixturesDir } from '../helpers/paths.js'

const IPVS_ID = 32 // the family id in the capture (see each fixture's header)

/** A capture: every datagram ipvsadm sent and received, decoded into netlink messages. */
function capture(name: string): { sent: NlMessage[]; received: NlMessage[] } {
  const text = readFileSync(join(fixturesDir, 'ipvs', `${name}.hex`), 'utf8')
  const out = { sent: [] as NlMessage[], received: [] as NlMessage[] }
  for (const line of text.split('\n')) {
    const m = /^(send|recv) ([0-9a-f]+)$/.exec(line.trim())
    if (!m) continue
    const msgs = decodeAll(Buffer.from(m[2] as string, 'hex'))
    ;(m[1] === 'send' ? out.sent : out.received).push(...msgs)
  }
  return out
}

/** The IPVS request a capture sent besides the GET_INFO every ipvsadm run starts with. */
function request(name: string): NlMessage {
  const sent = capture(name).sent.filter((m) => m.type === IPVS_ID)
  const r = sent.find((m) => decode(m.payload).value.cmd !== CMD.GET_INFO)
  if (!r) throw new Error(`${name}: no request`)
  return r
}

const replies = (name: string) =>
  capture(name)
    .received.filter((m) => m.type === IPVS_ID)
    .map((m) => decode(m.payload).value)

const vip = parseAddr('10.0.0.3')
const seedKey = { protocol: 'tcp', addr: vip, port: 80 } as const
const seedService = defaultService(seedKey, 'wrr')
const rs7 = defaultDest(parseAddr('10.0.0.7'), 80, 'droute')

test('NEW_SERVICE for `ipvsadm -A -t 10.0.0.3:80 -s wrr` is byte for byte what ipvsadm sends', (t) => {
  const ours = encode(ipvsMessage(CMD.NEW_SERVICE, { service: serviceToWire(seedService) }))
  t.deepEqual(ours.toString('hex'), request('new-service-wrr').payload.toString('hex'))
})

test('NEW_DEST for `-a … -r 10.0.0.7:80 -g -w 1`: the DEST attribute is byte-identical, the service key the same', (t) => {
  const req = request('new-dest-dr-7')
  const theirs = decode(req.payload).value
  const ours = ipvsMessage(CMD.NEW_DEST, { service: serviceKeyToWire(seedKey), dest: destToWire(rs7) })
  t.is(theirs.cmd, CMD.NEW_DEST)
  // ipvsadm also sends an empty scheduler, flags, timeout and netmask with the key; the kernel reads only the key
  t.deepEqual(serviceKeyFromWire(theirs.service ?? {}), seedKey)
  t.deepEqual(decode(encode(ours)).value.dest, theirs.dest)
  const destBytes = (buf: Buffer) => {
    const hex = buf.toString('hex')
    const at = hex.indexOf('60000280') // the DEST nest: length 0x60, type 2 | NLA_F_NESTED
    return hex.slice(at)
  }
  t.is(destBytes(encode(ours)), destBytes(req.payload))
  t.not(destBytes(req.payload), '')
})

test('SET_CONFIG for `ipvsadm --set 30 5 60` is byte for byte what ipvsadm sends', (t) => {
  const ours = encode(ipvsMessage(CMD.SET_CONFIG, { timeouts: timeoutsToWire({ tcp: 30, tcpFin: 5, udp: 60 }) }))
  t.is(ours.toString('hex'), request('set-config').payload.toString('hex'))
})

test('NEW_DAEMON for `--start-daemon master --mcast-interface d0 --syncid 51` matches ipvsadm', (t) => {
  const ours = encode(
    ipvsMessage(CMD.NEW_DAEMON, { daemon: daemonToWire({ state: 'master', ifname: 'd0', syncId: 51 }) }),
  )
  t.is(ours.toString('hex'), request('new-daemon-master').payload.toString('hex'))
})

test('GET_SERVICE and GET_DEST dump requests match ipvsadm -Ln, flags included', (t) => {
  const sent = capture('list-stats').sent.filter((m) => m.type === IPVS_ID)
  const [, getSvc, getDest] = sent
  t.is(getSvc?.flags, 0x5 | NLM_F_DUMP)
  t.is(encode(ipvsMessage(CMD.GET_SERVICE)).toString('hex'), String(getSvc?.payload.toString('hex')))
  t.is(
    encode(ipvsMessage(CMD.GET_DEST, { service: serviceKeyToWire(seedKey) })).toString('hex'),
    String(getDest?.payload.toString('hex')),
  )
})

test('every message ipvsadm sent re-encodes to the same bytes (attribute order and padding as ipvsadm)', (t) => {
  const names = [
    'new-service-wrr',
    'new-dest-dr-7',
    'set-config',
    'new-daemon-master',
    'new-service-ipv6-mh-persistent',
    'new-dest-ipv6-nat',
    'new-service-fwmark',
    'new-dest-tun-gue',
    'new-service-udp-ops',
    'set-dest-weight',
    'del-dest',
    'del-service',
    'del-daemon-master',
    'zero',
    'flush',
    'list-all',
  ]
  let n = 0
  for (const name of names) {
    for (const m of capture(name).sent.filter((x) => x.type === IPVS_ID)) {
      t.is(encode(decode(m.payload).value).toString('hex'), m.payload.toString('hex'), name)
      n++
    }
  }
  t.true(n >= 30, `${n} messages`)
})

test('the GET_SERVICE/GET_DEST dump replies decode to the seed table, newest destination first', (t) => {
  const r = replies('list-stats')
  const svc = r.find((m) => m.cmd === CMD.NEW_SERVICE)?.service
  const { stats, ...service } = serviceFromWire(svc ?? {})
  t.deepEqual(service, seedService)
  t.is(stats?.conns, 0n)
  const dests = r.filter((m) => m.cmd === CMD.NEW_DEST).map((m) => destFromWire(m.dest ?? {}, 4))
  t.deepEqual(
    dests.map((d) => [d.addr.bytes[3], d.port, d.fwd, d.weight, d.upperThreshold, d.activeConns]),
    [
      [8, 80, 'droute', 1, 0, 0],
      [7, 80, 'droute', 1, 0, 0],
    ],
  )
  t.is(dests[0]?.tunnel, undefined)
})

test('ipvsadm -Ln: IPv6 mh persistence, fwmark GUE tunnel and IPv6 NAT weight 70000 decode', (t) => {
  const r = replies('list-all')
  const services = r.filter((m) => m.cmd === CMD.NEW_SERVICE).map((m) => serviceFromWire(m.service ?? {}))
  const v6 = services.find((s) => 'addr' in s.key && s.key.addr.family === 6)
  t.like(v6, { scheduler: 'mh', persistent: true, timeout: 300, netmask: 64, schedFlags: 3, onePacket: false })
  const fw = services.find((s) => 'fwmark' in s.key)
  t.deepEqual(fw?.key, { fwmark: 7, family: 4 })
  const udp = services.find((s) => 'protocol' in s.key && s.key.protocol === 'udp')
  t.like(udp, { scheduler: 'rr', onePacket: true, netmask: 32 })
  const dests = r.filter((m) => m.cmd === CMD.NEW_DEST).map((m) => m.dest ?? {})
  const nat = dests.map((d) => destFromWire(d, 6)).find((d) => d.addr.family === 6)
  t.like(nat, { port: 8443, fwd: 'masq', weight: 70000, upperThreshold: 100, lowerThreshold: 10 })
  const gue = dests.map((d) => destFromWire(d, 4)).find((d) => d.fwd === 'tunnel')
  t.deepEqual(gue?.tunnel, { type: 'gue', port: 6080, csum: false, remcsum: false })
  t.is(gue?.weight, 5)
})

test('GET_CONFIG, GET_DAEMON and GET_INFO replies decode', (t) => {
  t.deepEqual(timeoutsFromWire(replies('get-config').find((m) => m.cmd === CMD.SET_CONFIG)?.timeouts), {
    tcp: 30,
    tcpFin: 5,
    udp: 60,
  })
  const d = daemonFromWire(replies('get-daemon').find((m) => m.cmd === CMD.NEW_DAEMON)?.daemon ?? {})
  t.like(d, { state: 'master', ifname: 'd0', syncId: 51, maxLen: 1472, port: 8848, ttl: 1 })
  t.deepEqual(d.group, parseAddr('224.0.0.81'))
  const info = infoFromWire(replies('get-config').find((m) => m.cmd === CMD.SET_INFO)?.info)
  t.deepEqual(info, { version: '1.2.1', versionCode: 0x010201, connTabSize: 4096 })
})

test('the kernel refuses an unknown scheduler with ENOENT and a missing service with ESRCH', (t) => {
  const errOf = (name: string) => {
    const e = capture(name).received.find((m) => m.type === NLMSG_ERROR && decodeError(m).request.type === IPVS_ID)
    return e ? decodeError(e).error : 0
  }
  const last = (name: string) => {
    const errs = capture(name).received.filter((m) => m.type === NLMSG_ERROR)
    return errs.length ? decodeError(errs[errs.length - 1] as NlMessage).error : 0
  }
  t.is(last('error-enoent-scheduler'), -2)
  t.is(last('error-esrch-service'), -3)
  t.is(errOf('new-service-wrr'), 0)
})

// ---- round trips ----

const codec = { size, encode, encodeInto, decode }
const cases: Array<[string, IpvsMessage]> = [
  ['seed service', ipvsMessage(CMD.NEW_SERVICE, { service: serviceToWire(seedService) })],
  ['seed dest', ipvsMessage(CMD.NEW_DEST, { service: serviceKeyToWire(seedKey), dest: destToWire(rs7) })],
  [
    'service with stats',
    ipvsMessage(CMD.NEW_SERVICE, {
      service: {
        ...serviceToWire(defaultService({ fwmark: 9, family: 6 }, 'sh', { peName: 'sip' })),
        stats: { conns: 1n, inBytes: 2n ** 40n, outBps: 7n },
        stats64: { conns: 2n ** 60n, inPkts: 3n },
      },
    }),
  ],
  [
    'negative weight (signed 32-bit)',
    ipvsMessage(CMD.SET_DEST, { service: serviceKeyToWire(seedKey), dest: { ...destToWire(rs7), weight: -5 } }),
  ],
  ['config', ipvsMessage(CMD.SET_CONFIG, { timeouts: { tcp: 900, tcpFin: 120, udp: 300 } })],
  ['info', ipvsMessage(CMD.SET_INFO, { info: { version: 0x010201, connTabSize: 4096 } })],
  [
    'IPv6 daemon',
    ipvsMessage(CMD.NEW_DAEMON, {
      daemon: daemonToWire({
        state: 'backup',
        ifname: 'eth0',
        syncId: 0,
        maxLen: 1400,
        group: parseAddr('ff02::8848'),
        port: 8848,
        ttl: 3,
      }),
    }),
  ],
  ['dest key only', ipvsMessage(CMD.DEL_DEST, { service: serviceKeyToWire(seedKey), dest: destKeyToWire(rs7) })],
  ['flush', ipvsMessage(CMD.FLUSH)],
]
for (const [name, v] of cases) test(`round trip: ${name}`, (t) => void roundTrip(t, codec, v))

test('netmask: IPv4 is mask bytes in network order, IPv6 a host-order prefix length', (t) => {
  t.is(netmaskToWire(4, 24).toString('hex'), 'ffffff00')
  t.is(netmaskToWire(4, 32).toString('hex'), 'ffffffff')
  t.is(netmaskToWire(4, 0).toString('hex'), '00000000')
  t.is(netmaskToWire(6, 64).toString('hex'), '40000000')
  for (const n of [0, 1, 8, 17, 31, 32]) t.is(netmaskFromWire(4, netmaskToWire(4, n)), n)
  t.is(netmaskFromWire(6, netmaskToWire(6, 128)), 128)
  t.throws(() => netmaskFromWire(4, Buffer.from('ff00ff00', 'hex')), { code: 'LVSD_DECODE_INVALID' })
})

test('ports are network order on the wire, the sync daemon port host order', (t) => {
  const svc = encode(ipvsMessage(CMD.NEW_SERVICE, { service: serviceToWire(seedService) }))
  t.true(svc.includes(Buffer.from('060004000050', 'hex')), 'PORT 80 as 00 50')
  const dm = encode(
    ipvsMessage(CMD.NEW_DAEMON, { daemon: daemonToWire({ state: 'master', ifname: 'x', syncId: 1, port: 8848 }) }),
  )
  t.true(dm.includes(Buffer.from('060007009022', 'hex')), 'MCAST_PORT 8848 as 90 22')
})

test('values that do not fit their attribute are LVSD_ENCODE_INVALID, never a silent truncation', (t) => {
  const bad: Array<[string, IpvsMessage]> = [
    [
      'scheduler of 16 chars',
      ipvsMessage(CMD.NEW_SERVICE, { service: { ...serviceToWire(seedService), schedName: 'x'.repeat(16) } }),
    ],
    ['weight 2^31', ipvsMessage(CMD.NEW_DEST, { dest: { ...destToWire(rs7), weight: 2 ** 31 } })],
    ['port 65536', ipvsMessage(CMD.NEW_DEST, { dest: { ...destToWire(rs7), port: 65536 } })],
    ['address of 17 bytes', ipvsMessage(CMD.DEL_DEST, { dest: { addr: Buffer.alloc(17) } })],
    [
      'netmask of 3 bytes',
      ipvsMessage(CMD.NEW_SERVICE, { service: { ...serviceToWire(seedService), netmask: Buffer.alloc(3) } }),
    ],
    ['negative flags', ipvsMessage(CMD.SET_SERVICE, { service: { flags: { flags: -1, mask: 0 } } })],
    ['32-bit counter over 2^32', ipvsMessage(CMD.NEW_SERVICE, { service: { stats: { conns: 2n ** 32n } } })],
    ['command 256', { cmd: 256, version: 1 }],
  ]
  for (const [name, m] of bad) {
    t.throws(() => encode(m), { code: 'LVSD_ENCODE_INVALID' }, name)
  }
})

// ---- hostile inputs ----

const svcNest = (inner: string) => {
  const b = Buffer.from(inner, 'hex')
  const len = 4 + b.length
  const head = Buffer.from([len & 0xff, len >> 8, 0x01, 0x80])
  const pad = Buffer.alloc((4 - (len % 4)) % 4)
  return Buffer.concat([Buffer.from('01010000', 'hex'), head, b, pad])
}
const hostile: Array<[string, Buffer, 'LVSD_DECODE_TRUNCATED' | 'LVSD_DECODE_INVALID']> = [
  ['empty', Buffer.alloc(0), 'LVSD_DECODE_TRUNCATED'],
  ['genl header cut', Buffer.from('0101', 'hex'), 'LVSD_DECODE_TRUNCATED'],
  ['attribute overruns', Buffer.from('010100000800010002', 'hex'), 'LVSD_DECODE_TRUNCATED'],
  ['attribute length 2', Buffer.from('0101000002000100', 'hex'), 'LVSD_DECODE_INVALID'],
  ['AF of 3 bytes', svcNest('070001000200ff'), 'LVSD_DECODE_INVALID'],
  ['PORT of 4 bytes', svcNest('0800040000500000'), 'LVSD_DECODE_INVALID'],
  ['FLAGS of 4 bytes', svcNest('0800070000000000'), 'LVSD_DECODE_INVALID'],
  ['NETMASK of 2 bytes', svcNest('06000900ffff'), 'LVSD_DECODE_INVALID'],
  ['ADDR of 17 bytes', svcNest(`15000300${'00'.repeat(17)}`), 'LVSD_DECODE_INVALID'],
  ['ADDR empty', svcNest('04000300'), 'LVSD_DECODE_INVALID'],
  ['SCHED_NAME of 20 bytes', svcNest(`18000600${'61'.repeat(19)}00`), 'LVSD_DECODE_INVALID'],
  ['STATS counter of 2 bytes', svcNest('0a000a80060001000100'), 'LVSD_DECODE_INVALID'],
  ['nested service cut', Buffer.from('010100001000018006000100', 'hex'), 'LVSD_DECODE_TRUNCATED'],
]
for (const [name, buf, code] of hostile) {
  test(`hostile input: ${name} → ${code}`, (t) => {
    t.throws(() => decode(buf), { code })
  })
}

test('a service without its mandatory attributes is a decode error, not an undefined deeper in', (t) => {
  const full = serviceToWire(seedService)
  for (const k of Object.keys(full) as Array<keyof typeof full>) {
    if (k === 'fwmark') continue
    const { [k]: _, ...rest } = full
    const e = t.throws(() => serviceFromWire(rest), undefined, k)
    t.true(isLvsdError(e, 'LVSD_DECODE_INVALID'), `${String(k)}: ${e?.message}`)
  }
  t.is(SVC_ATTRS.netmask.kind, 'raw4')
})

test('seeded fuzz: mutated captures either decode to domain values or throw only LvsdError', (t) => {
  const seeds = [
    'list-all',
    'list-stats',
    'get-daemon',
    'get-config',
    'new-dest-tun-gue',
    'new-service-ipv6-mh-persistent',
  ]
    .flatMap((n) => [...capture(n).received, ...capture(n).sent])
    .filter((m) => m.type === IPVS_ID)
    .map((m) => m.payload)
  const rand = prng(0x1b5)
  let decoded = 0
  let rejected = 0
  for (let i = 0; i < 4000; i++) {
    const base = seeds[Math.floor(rand() * seeds.length)] as Buffer
    const buf = Buffer.from(base)
    const flips = 1 + Math.floor(rand() * 4)
    for (let f = 0; f < flips; f++) buf[Math.floor(rand() * buf.length)] = Math.floor(rand() * 256)
    const cut = rand() < 0.3 ? buf.subarray(0, Math.floor(rand() * buf.length)) : buf
    try {
      const m = decode(cut).value
      if (m.service) serviceFromWire(m.service)
      if (m.dest) destFromWire(m.dest, 4)
      if (m.daemon) daemonFromWire(m.daemon)
      decoded++
    } catch (e) {
      if (!isLvsdError(e)) t.fail(`iteration ${i}: ${(e as Error).stack}`)
      rejected++
    }
  }
  t.true(decoded > 100 && rejected > 100, `decoded ${decoded}, rejected ${rejected}`)
})
