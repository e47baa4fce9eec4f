// Netlink messages: header layout, walking several messages per datagram, NLMSG_ERROR with and
// without extended ACK (recorded from Linux 6.18), NLMSG_DONE, hostile inputs and fuzz.
import test from 'ava'
import { isLvsdError } from '../../src/errors.js'
import {
  decode,
  decodeAll,
  decodeDone,
  decodeError,
  encode,
  encodeAll,
  encodeError,
  encodeInto,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLM_F_MULTI,
  NLMSG_DONE,
  NLMSG_ERROR,
  type NlMessage,
  parseExtAck,
  size,
} from '../../src/net/nlmsg.js'
import { fixture } from '../helpers/fake-kernel.js'
import { prngU32 } from '../helpers/prng.js'

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')

test('nlmsghdr is len, type, flags, seq, pid in host order; the message is padded to 4', (t) => {
  const m: NlMessage = { type: 20, flags: 0x605, seq: 3, pid: 0, payload: hex('0218') }
  const b = encode(m)
  t.deepEqual(b, hex('12000000 1400 0506 03000000 00000000 0218 0000'))
  t.is(size(m), 20)
  const d = decode(b)
  t.deepEqual(d.value, m)
  t.is(d.bytes, 20)
})

test('encodeInto at an offset inside a larger buffer', (t) => {
  const m: NlMessage = { type: 3, flags: 2, seq: 9, pid: 77, payload: hex('00000000') }
  const buf = Buffer.alloc(40, 0xee)
  t.is(encodeInto(m, buf, 8), 20)
  t.deepEqual(decode(buf.subarray(0, 28), 8).value, m)
})

test('several messages in one datagram are walked with 4-byte alignment', (t) => {
  const msgs: NlMessage[] = [
    { type: 16, flags: NLM_F_MULTI, seq: 1, pid: 5, payload: hex('01') },
    { type: 16, flags: NLM_F_MULTI, seq: 1, pid: 5, payload: hex('010203040506') },
    { type: NLMSG_DONE, flags: NLM_F_MULTI, seq: 1, pid: 5, payload: hex('00000000') },
  ]
  const d = encodeAll(msgs)
  t.is(d.length, 20 + 24 + 20)
  t.deepEqual(decodeAll(d), msgs)
})

test('fixture: a dump reply walks into parts ending in NLMSG_DONE with error 0', (t) => {
  const { datagrams } = fixture('rtm-newaddr-dump.hex')
  const all = datagrams.flatMap((d) => decodeAll(d))
  const last = all.at(-1) as NlMessage
  t.is(last.type, NLMSG_DONE)
  t.is(decodeDone(last).error, 0)
  t.true(all.slice(0, -1).every((m) => m.type === 20 && (m.flags & NLM_F_MULTI) !== 0 && m.seq === 1))
  for (const d of datagrams) t.deepEqual(encodeAll(decodeAll(d)), d, 'round trip')
})

test('fixture: EEXIST echoes the whole request (not capped) and explains itself in an extended ACK', (t) => {
  const [m] = decodeAll(fixture('error-eexist.hex').datagrams[0] as Buffer)
  if (!m) return t.fail()
  t.is(m.type, NLMSG_ERROR)
  t.is(m.flags & NLM_F_CAPPED, 0)
  const e = decodeError(m)
  t.is(e.error, -17)
  t.is(e.request.type, 20)
  t.is(e.request.seq, 3)
  t.is(e.requestPayload.length, e.request.len - 16)
  t.is(m.flags, NLM_F_ACK_TLVS)
  t.deepEqual(parseExtAck(e.tlvs), { message: 'ipv4: Address already assigned' })
  t.deepEqual(encodeError(e, false), m.payload, 'round trip')
})

test('fixture: an ACK is NLMSG_ERROR with error 0', (t) => {
  const [m] = decodeAll(fixture('ack.hex').datagrams[0] as Buffer)
  if (!m) return t.fail()
  const e = decodeError(m)
  t.is(e.error, 0)
  t.is(e.request.seq, 4)
})

test('fixture: extended ACK text follows the echoed request', (t) => {
  const [m] = decodeAll(fixture('error-extack.hex').datagrams[0] as Buffer)
  if (!m) return t.fail()
  t.is(m.flags, NLM_F_ACK_TLVS)
  const e = decodeError(m)
  t.is(e.error, -22)
  t.is(e.requestPayload.length, e.request.len - 16)
  t.deepEqual(parseExtAck(e.tlvs), { message: 'ipv4: Invalid prefix length' })
  t.deepEqual(encodeError(e, false), m.payload, 'round trip')
})

test('fixture: with NETLINK_CAP_ACK the request is capped to its header and TLVs follow it', (t) => {
  const [m] = decodeAll(fixture('error-extack-capped.hex').datagrams[0] as Buffer)
  if (!m) return t.fail()
  t.is(m.flags, NLM_F_ACK_TLVS | NLM_F_CAPPED)
  const e = decodeError(m)
  t.is(e.error, -22)
  t.is(e.request.seq, 6)
  t.true(e.request.len > 16, 'header keeps the original length')
  t.is(e.requestPayload.length, 0)
  t.is(parseExtAck(e.tlvs).message, 'ipv4: Invalid prefix length')
  t.deepEqual(encodeError(e, true), m.payload, 'round trip')
})

test('extended ACK offset, cookie and missing attribute are decoded', (t) => {
  const tlvs = hex('0800 0200 24000000  0800 0300 c0ffee00  0800 0500 07000000')
  const m: NlMessage = {
    type: NLMSG_ERROR,
    flags: NLM_F_CAPPED | NLM_F_ACK_TLVS,
    seq: 1,
    pid: 1,
    payload: Buffer.concat([hex('eaffffff 14000000 1400 0500 01000000 00000000'), tlvs]),
  }
  const x = parseExtAck(decodeError(m).tlvs)
  t.is(x.offset, 0x24)
  t.deepEqual(x.cookie, hex('c0ffee00'))
  t.is(x.missingType, 7)
})

test('NLMSG_DONE carries the error that ended a dump', (t) => {
  t.is(decodeDone({ type: NLMSG_DONE, flags: NLM_F_MULTI, seq: 1, pid: 1, payload: hex('f0ffffff') }).error, -16)
  t.is(decodeDone({ type: NLMSG_DONE, flags: 0, seq: 1, pid: 1, payload: Buffer.alloc(0) }).error, 0)
})

test('hostile messages fail with a decode code', (t) => {
  const cases: Array<[string, string, string]> = [
    ['header cut short', '10000000 1400', 'LVSD_DECODE_TRUNCATED'],
    ['length below 16', '08000000 1400 0000 00000000 00000000', 'LVSD_DECODE_INVALID'],
    ['length beyond the datagram', '40000000 1400 0000 00000000 00000000', 'LVSD_DECODE_TRUNCATED'],
    ['second message lies', '10000000 1400 0000 00000000 00000000 ff000000 1400', 'LVSD_DECODE_TRUNCATED'],
  ]
  for (const [name, h, code] of cases) t.throws(() => decodeAll(hex(h)), { code }, name)
  const err = (payload: string, flags = 0): NlMessage => ({
    type: NLMSG_ERROR,
    flags,
    seq: 1,
    pid: 1,
    payload: hex(payload),
  })
  t.throws(() => decodeError(err('eaffffff 1400')), { code: 'LVSD_DECODE_TRUNCATED' }, 'error cut short')
  t.throws(
    () => decodeError(err('eaffffff 40000000 1400 0500 01000000 00000000')),
    { code: 'LVSD_DECODE_TRUNCATED' },
    'echoed request lies',
  )
  t.throws(
    () => decodeError(err('eaffffff 04000000 1400 0500 01000000 00000000')),
    { code: 'LVSD_DECODE_INVALID' },
    'echoed length below 16',
  )
  t.throws(
    () => decodeError(err('eaffffff 14000000 1400 0500 01000000 00000000 0900 0100 41', NLM_F_CAPPED | NLM_F_ACK_TLVS)),
    { code: 'LVSD_DECODE_TRUNCATED' },
    'TLV lies',
  )
})

test('fuzz: mutated recorded datagrams decode or throw only LvsdError, and re-encode stably', (t) => {
  const seeds = ['error-extack.hex', 'error-extack-capped.hex', 'rtm-newlink-dump.hex', 'genl-nlctrl.hex'].flatMap(
    (f) => fixture(f).datagrams,
  )
  const next = prngU32(0xbeef)
  let decoded = 0
  for (let i = 0; i < 2000; i++) {
    const base = seeds[next() % seeds.length] as Buffer
    const b = Buffer.from(base.subarray(0, next() % (base.length + 1)))
    for (let k = next() % 4; k > 0 && b.length > 0; k--) b[next() % b.length] = next() & 0xff
    try {
      const msgs = decodeAll(b)
      for (const m of msgs) {
        if (m.type === NLMSG_ERROR) parseExtAck(decodeError(m).tlvs)
        if (m.type === NLMSG_DONE) decodeDone(m)
      }
      decoded++
      const again = encodeAll(msgs)
      t.deepEqual(encodeAll(decodeAll(again)), again)
    } catch (e) {
      if (!isLvsdError(e)) t.fail(`non-LvsdError for ${b.toString('hex')}: ${String(e)}`)
      else t.true(e.code === 'LVSD_DECODE_TRUNCATED' || e.code === 'LVSD_DECODE_INVALID')
    }
  }
  t.true(decoded > 50, `only ${decoded} inputs decoded`)
})
