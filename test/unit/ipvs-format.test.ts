// lvsctl's ipvsadm-style printing against real ipvsadm 1.31 output: each fixture pairs what ipvsadm printed
// with the netlink replies it printed from (captured in the lab VM by capture-format.sh), so the same data
// goes through lvsd's decoder and formatter and must give the same bytes.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { formatConnections, parseConnections } from '../../src/cli/ipvs-conns.js'
import { formatDaemons, formatList, formatTimeouts, type IpvsListing, largeNum } from '../../src/cli/ipvs-format.js'
import type { LvsdError } from '../../src/errors.js'
import { CMD } from '../../src/ipvs/attrs.js'
import { decode, type IpvsMessage } from '../../src/ipvs/codec.js'
import {
  type DestEntry,
  daemonFromWire,
  destFromWire,
  familyOfKey,
  infoFromWire,
  serviceFromWire,
  serviceKeyFromWire,
  timeoutsFromWire,
} from '../../src/ipvs/domain.js'
import { serviceId } from '../../src/ipvs/model.js'
import { formatAddr } from '../../src/net/addr.js'
import { decodeAll } from '../../src/net/nlmsg.js'
import { fixturesDir } from '../helpers/paths.js'

const text = (name: string) => readFileSync(join(fixturesDir, 'ipvs', name), 'utf8')

/** The IPVS exchanges of a capture: ipvsadm waits for each answer, so replies belong to the last request. */
function capture(name: string) {
  const ipvs: { cmd: number; req: IpvsMessage; replies: IpvsMessage[] }[] = []
  for (const line of text(`${name}.hex`).split('\n')) {
    const m = /^(send|recv) ([0-9a-f]+)$/.exec(line.trim())
    if (!m) continue
    for (const msg of decodeAll(Buffer.from(m[2] as string, 'hex'))) {
      if (msg.type < 0x10 || msg.type === 16) continue // acks, DONE, nlctrl
      const v = decode(msg.payload).value
      if (m[1] === 'send') ipvs.push({ cmd: v.cmd, req: v, replies: [] })
      else ipvs[ipvs.length - 1]?.replies.push(v)
    }
  }
  return (cmd: number) => ipvs.filter((x) => x.cmd === cmd)
}

function listing(name: string): IpvsListing {
  const of = capture(name)
  const info = infoFromWire(of(CMD.GET_INFO)[0]?.replies[0]?.info)
  const dests = new Map<string, DestEntry[]>()
  for (const x of of(CMD.GET_DEST)) {
    const key = serviceKeyFromWire(x.req.service ?? {})
    dests.set(
      serviceId(key),
      x.replies.map((r) => destFromWire(r.dest ?? {}, familyOfKey(key))),
    )
  }
  const services = (of(CMD.GET_SERVICE)[0]?.replies ?? []).map((r) => {
    const service = serviceFromWire(r.service ?? {})
    return { service, dests: dests.get(serviceId(service.key)) ?? [] }
  })
  return { info, services }
}

test('ipvsadm -Ln: sorted services and destinations, flags, persistence, masks, ops, pe, fwmark, IPv6', (t) => {
  const l = listing('ipvsadm-ln')
  t.true(l.services.length >= 7, 'the capture holds the whole table')
  t.is(formatList(l, 'plain'), text('ipvsadm-ln.txt'))
})

test('ipvsadm -Ln --stats: counters after traffic (OutPkts 0 under DR)', (t) => {
  const l = listing('ipvsadm-ln-stats')
  t.true(
    l.services.some((s) => (s.service.stats?.inPkts ?? 0n) > 0n),
    'the capture has traffic',
  )
  t.is(formatList(l, 'stats'), text('ipvsadm-ln-stats.txt'))
})

test('ipvsadm -Ln --rate', (t) => {
  t.is(formatList(listing('ipvsadm-ln-rate'), 'rate'), text('ipvsadm-ln-rate.txt'))
})

test('ipvsadm -L --timeout', (t) => {
  const r = capture('ipvsadm-ln-timeout')(CMD.GET_CONFIG)[0]?.replies[0]
  t.is(formatTimeouts(timeoutsFromWire(r?.timeouts)), text('ipvsadm-ln-timeout.txt'))
})

test('ipvsadm -L --daemon: master with kernel defaults and backup with group, port, ttl, maxlen', (t) => {
  const d = (capture('ipvsadm-ln-daemon')(CMD.GET_DAEMON)[0]?.replies ?? []).map((r) => daemonFromWire(r.daemon ?? {}))
  t.deepEqual(
    d.map((x) => x.state),
    ['master', 'backup'],
  )
  t.is(formatDaemons(d), text('ipvsadm-ln-daemon.txt'))
})

test('ipvsadm -Lnc from /proc/net/ip_vs_conn: hex IPv4, IPv6 groups, templates, expiry as mm:ss', (t) => {
  const conns = parseConnections(text('ip_vs_conn.txt'))
  t.is(conns.length, 4)
  t.like(conns[2], { protocol: 'TCP', clientPort: 0xd788, virtualPort: 80, state: 'SYN_RECV', expires: 25 })
  t.is(formatAddr(conns[2]?.client ?? conns[0]!.client), '10.0.9.100')
  t.is(formatAddr(conns[0]?.virtual ?? conns[2]!.virtual), '2001:db8::3')
  t.is(formatConnections(conns), text('ipvsadm-lnc.txt'))
})

test('an unparsable ip_vs_conn line is LVSD_DECODE_INVALID', (t) => {
  const head = 'Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n'
  for (const bad of ['TCP 0A00 D788 0A000003 0050 0A000008 0050 SYN_RECV 25', 'TCP 0A000964 D7 0A000003 0050']) {
    t.is(t.throws<LvsdError>(() => parseConnections(`${head}${bad}\n`))?.code, 'LVSD_DECODE_INVALID')
  }
})

test('large counters scale to K/M/G/T in a 9-character column unless exact', (t) => {
  t.is(largeNum(99_999_999n), ' 99999999')
  t.is(largeNum(123_456_789n), '  123456K')
  t.is(largeNum(12_345_678_901n), '   12345M')
  t.is(largeNum(12_345_678_901_234n), '   12345G')
  t.is(largeNum(123_456_789_012_345n), '     123T')
  t.is(largeNum(123_456_789_012_345n, true), '123456789012345')
  for (const n of [0n, 5n, 10n ** 9n, 10n ** 15n]) t.true(largeNum(n).length >= 9)
})
