// rtnetlink link and address codecs against replies recorded from Linux 6.18, plus the requests
// lvsd sends for VIPs (byte layouts as `ip addr add` sends them), round trips and hostile inputs.
import test, { type ExecutionContext } from 'ava'
import { formatAddr, parsePrefix } from '../../src/net/addr.js'
import * as genl from '../../src/net/genl.js'
import { AttrBuilder, Attrs } from '../../src/net/nlattr.js'
import * as nlmsg from '../../src/net/nlmsg.js'
import {
  decodeAll,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_REQUEST,
  NLMSG_DONE,
} from '../../src/net/nlmsg.js'
import * as addr from '../../src/net/rtnl-addr.js'
import * as link from '../../src/net/rtnl-link.js'
import { fixture } from '../helpers/fake-kernel.js'

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')

const parts = (name: string) =>
  fixture(name)
    .datagrams.flatMap((d) => decodeAll(d))
    .filter((m) => m.type !== NLMSG_DONE)

test('fixture: the address dump decodes to lo, the labelled IPv4 VIP and the nodad IPv6 address', (t) => {
  const got = parts('rtm-newaddr-dump.hex').map((m) => addr.addressFromMessage(m))
  t.true(got.every((e) => e.kind === 'new'))
  const v4 = got.find((e) => e.address.family === 4 && formatAddr(e.address.address) === '10.9.0.1')?.address
  if (!v4) return t.fail('10.9.0.1 missing')
  t.is(v4.prefixLen, 24)
  t.is(v4.label, 'veth0:vip')
  t.is(formatAddr(v4.local ?? v4.address), '10.9.0.1')
  t.is(v4.scope, addr.RT_SCOPE_UNIVERSE)
  t.truthy(v4.flags & addr.IFA_F_PERMANENT)
  t.truthy(v4.cacheInfo)
  const v6 = got.find((e) => e.address.family === 6 && formatAddr(e.address.address) === 'fd00:9::1')?.address
  if (!v6) return t.fail('fd00:9::1 missing')
  t.is(v6.prefixLen, 64)
  t.is(v6.ifindex, v4.ifindex)
  t.truthy(v6.flags & addr.IFA_F_NODAD, 'IFA_FLAGS carries NODAD')
  t.is(v6.local, undefined)
  t.true(got.some((e) => formatAddr(e.address.address) === '127.0.0.1'))
})

test('fixture: the link dump decodes names, MACs, MTU, flags and operational state', (t) => {
  const links = parts('rtm-newlink-dump.hex').map((m) => link.linkFromMessage(m).link)
  t.deepEqual(links.map((l) => l.name).sort(), ['lo', 'veth0', 'veth1'])
  const lo = links.find((l) => l.name === 'lo')
  const v0 = links.find((l) => l.name === 'veth0')
  if (!lo || !v0) return t.fail()
  t.is(lo.index, 1)
  t.true(lo.up)
  t.truthy(lo.flags & link.IFF_LOOPBACK)
  t.is(link.formatMac(v0.mac ?? new Uint8Array()), '02:c0:00:00:09:01')
  t.is(v0.mtu, 1500)
  t.true(v0.up && v0.lowerUp && v0.running)
  t.is(v0.operState, 'UP')
  t.is(v0.link, links.find((l) => l.name === 'veth1')?.index, 'IFLA_LINK names the veth peer')
})

test('fixture: link events for down/up of veth1 show the admin and carrier transitions', (t) => {
  const events = fixture('rtnlgrp-link-events.hex').datagrams.flatMap((d) => decodeAll(d).map(link.linkFromMessage))
  t.true(events.every((e) => e.kind === 'new'))
  const v1 = events.filter((e) => e.link.name === 'veth1').map((e) => [e.link.up, e.link.operState])
  t.deepEqual(v1[0], [false, 'DOWN'], 'first: admin down')
  t.deepEqual(v1.at(-1), [true, 'UP'], 'last: up with carrier')
  t.true(
    events.some((e) => e.link.name === 'veth0' && e.link.operState === 'LOWERLAYERDOWN'),
    'peer lost carrier',
  )
})

test('decode → encode of recorded link and address messages is byte-identical', (t) => {
  for (const m of parts('rtm-newlink-dump.hex')) t.deepEqual(link.encode(link.decode(m.payload).value), m.payload)
  for (const m of parts('rtm-newaddr-dump.hex')) t.deepEqual(addr.encode(addr.decode(m.payload).value), m.payload)
})

test('an IPv4 VIP add is RTM_NEWADDR with CREATE|EXCL|ACK, IFA_LOCAL and IFA_ADDRESS, and the label', (t) => {
  const m = addr.addressRequest('add', { ifindex: 3, prefix: parsePrefix('10.9.0.3/24'), label: 'eth0:vip' })
  t.is(m.type, addr.RTM_NEWADDR)
  t.is(m.flags, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL)
  t.deepEqual(
    m.payload,
    hex('02 18 00 00 03000000  0800 0200 0a090003  0800 0100 0a090003  0d00 0300 657468303a76697000 000000'),
  )
})

test('an IPv6 VIP add (nodad) carries IFA_ADDRESS and IFA_FLAGS, and NODAD in the u8 flags', (t) => {
  const m = addr.addressRequest('add', { ifindex: 3, prefix: parsePrefix('fd00:9::3/64'), nodad: true })
  const v = addr.decode(m.payload).value
  t.is(v.family, 10)
  t.is(v.prefixLen, 64)
  t.is(v.flags, addr.IFA_F_NODAD)
  const a = new Attrs(v.attrs)
  t.false(a.has(addr.IFA_LOCAL))
  t.is(a.u32(addr.IFA_FLAGS), addr.IFA_F_NODAD)
  t.is(formatAddr(addr.toAddress(v).address), 'fd00:9::3')
})

test('a delete is RTM_DELADDR with REQUEST|ACK only', (t) => {
  const m = addr.addressRequest('del', { ifindex: 3, prefix: parsePrefix('10.9.0.3/24') })
  t.is(m.type, addr.RTM_DELADDR)
  t.is(m.flags, NLM_F_REQUEST | NLM_F_ACK)
})

test('address requests refuse what cannot be encoded', (t) => {
  const cases: Array<[string, () => unknown]> = [
    ['label on IPv6', () => addr.addressRequest('add', { ifindex: 1, prefix: parsePrefix('fd00::1/64'), label: 'x' })],
    [
      'label too long',
      () => addr.addressRequest('add', { ifindex: 1, prefix: parsePrefix('10.0.0.1/8'), label: 'a'.repeat(16) }),
    ],
    [
      'prefix length 33',
      () => addr.addressRequest('add', { ifindex: 1, prefix: { addr: parsePrefix('10.0.0.1').addr, len: 33 } }),
    ],
  ]
  for (const [name, f] of cases) t.throws(f, { code: 'LVSD_ENCODE_INVALID' }, name)
})

test('dump requests ask for links and for one address family', (t) => {
  const l = link.linkDumpRequest()
  t.is(l.type, link.RTM_GETLINK)
  t.is(l.flags & NLM_F_DUMP, NLM_F_DUMP)
  t.is(l.payload.length, link.IFINFOMSG_LEN)
  t.is(addr.addressDumpRequest(6).payload[0], 10)
  t.is(addr.addressDumpRequest().payload[0], 0)
})

test('hostile link and address payloads fail with a decode code', (t) => {
  const msg = (type: number, payload: string) => ({ type, flags: 0, seq: 0, pid: 0, payload: hex(payload) })
  const cases: Array<[string, () => unknown, string]> = [
    ['ifinfomsg cut short', () => link.linkFromMessage(msg(16, '0000 0100')), 'LVSD_DECODE_TRUNCATED'],
    [
      'link without a name',
      () => link.linkFromMessage(msg(16, '00000000 02000000 01000000 00000000')),
      'LVSD_DECODE_INVALID',
    ],
    [
      'MTU of 2 bytes',
      () => link.linkFromMessage(msg(16, '00000000 02000000 01000000 00000000 0600 0400 dc05 0000 0800 0300 6c6f0000')),
      'LVSD_DECODE_INVALID',
    ],
    ['not a link message', () => link.linkFromMessage(msg(20, '')), 'LVSD_DECODE_INVALID'],
    ['ifaddrmsg cut short', () => addr.addressFromMessage(msg(20, '0218')), 'LVSD_DECODE_TRUNCATED'],
    [
      'unknown family',
      () => addr.addressFromMessage(msg(20, '07180000 01000000 0800 0100 0a000001')),
      'LVSD_DECODE_INVALID',
    ],
    [
      'IPv4 address of 3 bytes',
      () => addr.addressFromMessage(msg(20, '02180000 01000000 0700 0100 0a0000 00')),
      'LVSD_DECODE_INVALID',
    ],
    ['no address at all', () => addr.addressFromMessage(msg(20, '02180000 01000000')), 'LVSD_DECODE_INVALID'],
    [
      'attribute overruns',
      () => addr.addressFromMessage(msg(20, '02180000 01000000 4000 0100 0a000001')),
      'LVSD_DECODE_TRUNCATED',
    ],
  ]
  for (const [name, f, code] of cases) t.throws(f, { code }, name)
})

interface Codec<T> {
  size(v: T): number
  encodeInto(v: T, buf: Buffer, off: number): number
  encode(v: T): Buffer
  decode(buf: Buffer, off?: number): { value: T; bytes: number }
}

function roundTrip<T>(t: ExecutionContext, c: Codec<T>, v: T, what: string) {
  const b = c.encode(v)
  t.is(b.length, c.size(v), `${what}: size`)
  const d = c.decode(b)
  t.deepEqual(d.value, v, `${what}: decode(encode(v))`)
  t.is(d.bytes, b.length, `${what}: bytes`)
  t.deepEqual(c.encode(d.value), b, `${what}: re-encode`)
  const big = Buffer.alloc(b.length + 13, 0xee)
  t.is(c.encodeInto(v, big, 10), b.length, `${what}: encodeInto returns the size`)
  t.deepEqual(c.decode(big.subarray(0, 10 + b.length), 10).value, v, `${what}: at an offset`)
}

test('struct codecs round-trip at offset 0 and inside a larger buffer', (t) => {
  const attrs = new AttrBuilder().string(link.IFLA_IFNAME, 'eth0').u32(link.IFLA_MTU, 9000).attrs()
  roundTrip(
    t,
    link,
    { family: 0, devType: 1, index: 7, flags: link.IFF_UP | link.IFF_LOWER_UP, change: 0, attrs },
    'ifinfomsg',
  )
  roundTrip(t, addr, { family: 10, prefixLen: 64, flags: 0x80, scope: 0, index: 7, attrs }, 'ifaddrmsg')
  roundTrip(t, genl, { cmd: 1, version: 2, reserved: 0, header: Buffer.alloc(0), attrs }, 'genlmsghdr')
  roundTrip(t, nlmsg, { type: 20, flags: 0x605, seq: 0xfffffffe, pid: 77, payload: Buffer.from('abcde') }, 'nlmsghdr')
})
