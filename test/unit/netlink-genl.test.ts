// Generic netlink: genlmsghdr, the nlctrl GETFAMILY request and its reply recorded from Linux 6.18,
// and a fuzz loop over every payload decoder (links, addresses, families).
import test from 'ava'
import { isLvsdError } from '../../src/errors.js'
import * as genl from '../../src/net/genl.js'
import { AttrBuilder } from '../../src/net/nlattr.js'
import { decodeAll, decodeError, NLM_F_ACK, NLM_F_REQUEST, NLMSG_ERROR } from '../../src/net/nlmsg.js'
import * as addr from '../../src/net/rtnl-addr.js'
import * as link from '../../src/net/rtnl-link.js'
import { fixture } from '../helpers/fake-kernel.js'
import { prngU32 } from '../helpers/prng.js'

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')

test('GETFAMILY is nlmsg type 16, genl cmd 3 version 1, and the name as a NUL string', (t) => {
  const m = genl.getFamilyRequest('IPVS')
  t.is(m.type, genl.GENL_ID_CTRL)
  t.is(m.flags, NLM_F_REQUEST | NLM_F_ACK)
  t.deepEqual(m.payload, hex('03 01 0000  0900 0200 4950565300 000000'))
})

test('a family name longer than GENL_NAMSIZ is refused', (t) => {
  t.throws(() => genl.getFamilyRequest('x'.repeat(16)), { code: 'LVSD_ENCODE_INVALID' })
})

test('fixture: the nlctrl reply gives id 16, version 2, its ops and the notify group', (t) => {
  const [reply, ack] = fixture('genl-nlctrl.hex').datagrams.flatMap((d) => decodeAll(d))
  if (!reply || !ack) return t.fail()
  t.is(reply.type, genl.GENL_ID_CTRL)
  const f = genl.decodeFamily(reply.payload)
  t.is(f.id, 16)
  t.is(f.name, 'nlctrl')
  t.is(f.version, 2)
  t.is(f.hdrSize, 0)
  t.is(f.maxAttr, 0, 'nlctrl has per-command policies, so it reports no family-wide maxattr')
  t.deepEqual([...f.ops.keys()], [genl.CTRL_CMD_GETFAMILY, 10], 'GETFAMILY and GETPOLICY')
  t.is(f.mcastGroups.get('notify'), 16)
  t.is(ack.type, NLMSG_ERROR)
  t.is(decodeError(ack).error, 0)
  t.deepEqual(genl.encode(genl.decode(reply.payload).value), reply.payload, 'round trip')
})

test('fixture: asking for IPVS on a kernel without it is ENOENT', (t) => {
  const [m] = decodeAll(fixture('genl-ipvs-enoent.hex').datagrams[0] as Buffer)
  if (!m) return t.fail()
  t.is(decodeError(m).error, -2)
})

test('a family header of hdrSize bytes is kept raw between genlmsghdr and the attributes', (t) => {
  const v: genl.GenlMessage = {
    cmd: 5,
    version: 1,
    reserved: 0,
    header: hex('aabbccdd'),
    attrs: new AttrBuilder().u32(1, 9).attrs(),
  }
  const b = genl.encode(v)
  t.is(b.length, genl.size(v))
  t.deepEqual(genl.decode(b, 0, 4).value, v)
  const req = genl.genlRequest(30, 1, 1, v.attrs)
  t.is(req.type, 30)
  t.is(genl.decode(req.payload).value.cmd, 1)
})

test('hostile nlctrl replies fail with a decode code', (t) => {
  const cases: Array<[string, string, string]> = [
    ['genlmsghdr cut short', '0102', 'LVSD_DECODE_TRUNCATED'],
    ['not NEWFAMILY', '03020000', 'LVSD_DECODE_INVALID'],
    ['no family id', '01020000 0b00 0200 6e6c6374726c00 00', 'LVSD_DECODE_INVALID'],
    ['family id of 4 bytes', '01020000 0800 0100 10000000 0b00 0200 6e6c6374726c00 00', 'LVSD_DECODE_INVALID'],
    [
      'group without a name',
      '01020000 0600 0100 1000 0000 0b00 0200 6e6c6374726c00 00 1000 0700 0c00 0100 0800 0200 10000000',
      'LVSD_DECODE_INVALID',
    ],
  ]
  for (const [name, h, code] of cases) t.throws(() => genl.decodeFamily(hex(h)), { code }, name)
})

test('fuzz: mutated link, address and family payloads decode or throw only LvsdError', (t) => {
  const decoders: Array<[string, (b: Buffer) => unknown]> = [
    ['rtm-newlink-dump.hex', (b) => link.toLink(link.decode(b).value)],
    ['rtm-newaddr-dump.hex', (b) => addr.toAddress(addr.decode(b).value)],
    ['genl-nlctrl.hex', (b) => genl.decodeFamily(b)],
  ]
  const seeds = decoders.map(([f, dec]) => ({
    dec,
    payloads: fixture(f)
      .datagrams.flatMap((d) => decodeAll(d))
      .filter((m) => m.type >= 16)
      .map((m) => m.payload),
  }))
  const next = prngU32(0xfeed)
  let ok = 0
  for (let i = 0; i < 3000; i++) {
    const s = seeds[next() % seeds.length]
    if (!s) continue
    const base = s.payloads[next() % s.payloads.length] as Buffer
    const b = Buffer.from(base.subarray(0, base.length - (next() % 2 ? next() % (base.length + 1) : 0)))
    for (let k = next() % 3; k > 0 && b.length > 0; k--) b[next() % b.length] = next() & 0xff
    try {
      s.dec(b)
      ok++
    } catch (e) {
      if (!isLvsdError(e)) t.fail(`non-LvsdError: ${String(e)} for ${b.toString('hex')}`)
      else t.true(e.code === 'LVSD_DECODE_TRUNCATED' || e.code === 'LVSD_DECODE_INVALID')
    }
  }
  t.true(ok > 100, `only ${ok} decoded`)
})
