// DNS and UDP checkers against dgram responders on 127.0.0.1, and the DNS message codec.
import dgram from 'node:dgram'
import test from 'ava'
import { isLvsdError } from '../../src/errors.js'
import { check as dnsCheck } from '../../src/health/dns.js'
import { decodeName, decodeReply, encodeQuery, MAX_ANSWERS, peekHeader } from '../../src/health/dns-message.js'
import type { Target } from '../../src/health/types.js'
import { check as udpCheck } from '../../src/health/udp.js'
import { parseAddr } from '../../src/net/addr.js'
import { compressionBomb } from '../helpers/dns-bomb.js'

const lo = (port: number): Target => ({ addr: parseAddr('127.0.0.1'), port })
const closers: Array<() => void> = []
test.after.always(() => {
  for (const c of closers) c()
})

function responder(reply: (msg: Buffer) => Buffer | Buffer[] | undefined): Promise<number> {
  const s = dgram.createSocket('udp4')
  s.on('message', (m, rinfo) => {
    const r = reply(m)
    for (const b of r === undefined ? [] : Array.isArray(r) ? r : [r]) s.send(b, rinfo.port, rinfo.address)
  })
  closers.push(() => s.close())
  return new Promise((resolve) => s.bind(0, '127.0.0.1', () => resolve(s.address().port)))
}

/** A port with nothing bound: the kernel answers ICMP port unreachable. */
async function deadPort(): Promise<number> {
  const s = dgram.createSocket('udp4')
  const port = await new Promise<number>((resolve) => s.bind(0, '127.0.0.1', () => resolve(s.address().port)))
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

/** A tiny authoritative answerer: name → A records, with compression pointers to the question. */
function dnsAnswer(q: Buffer, opts: { rcode?: number; addrs?: string[]; idDelta?: number; ns?: string } = {}): Buffer {
  const qEnd = 12 + decodeName(q, 12).bytes + 4
  const head = Buffer.from(q.subarray(0, qEnd))
  head.writeUInt16BE((q.readUInt16BE(0) + (opts.idDelta ?? 0)) & 0xffff, 0)
  head.writeUInt16BE(0x8400 | (opts.rcode ?? 0), 2)
  const rrs: Buffer[] = []
  for (const a of opts.addrs ?? []) {
    const rr = Buffer.alloc(16)
    rr.writeUInt16BE(0xc00c, 0) // pointer to the question name
    rr.writeUInt16BE(1, 2)
    rr.writeUInt16BE(1, 4)
    rr.writeUInt32BE(60, 6)
    rr.writeUInt16BE(4, 10)
    Buffer.from(parseAddr(a).bytes).copy(rr, 12)
    rrs.push(rr)
  }
  if (opts.ns) {
    const name = encodeQuery({ id: 0, name: opts.ns, type: 0, recursion: false }).subarray(12, -4)
    const rr = Buffer.alloc(12)
    rr.writeUInt16BE(0xc00c, 0)
    rr.writeUInt16BE(2, 2)
    rr.writeUInt16BE(1, 4)
    rr.writeUInt32BE(60, 6)
    rr.writeUInt16BE(name.length, 10)
    rrs.push(rr, name)
  }
  head.writeUInt16BE((opts.addrs?.length ?? 0) + (opts.ns ? 1 : 0), 6)
  return Buffer.concat([head, ...rrs])
}

const sig = (ms = 1000) => AbortSignal.timeout(ms)

test('dns: a NOERROR reply passes; the query is the configured type and name', async (t) => {
  let asked: { name: string; type: number } | undefined
  const port = await responder((q) => {
    asked = { name: decodeName(q, 12).name, type: q.readUInt16BE(q.length - 4) }
    return dnsAnswer(q)
  })
  const r = await dnsCheck(lo(port), { type: 'A', name: 'www.example.test' }, sig())
  t.true(r.ok, r.detail)
  t.deepEqual(asked, { name: 'www.example.test.', type: 1 })
})

test('dns: the default query is SOA of the root', async (t) => {
  let asked: { name: string; type: number } | undefined
  const port = await responder((q) => {
    asked = { name: decodeName(q, 12).name, type: q.readUInt16BE(q.length - 4) }
    return dnsAnswer(q)
  })
  t.true((await dnsCheck(lo(port), {}, sig())).ok)
  t.deepEqual(asked, { name: '.', type: 6 })
})

test('dns: an unexpected rcode fails with rcode', async (t) => {
  const port = await responder((q) => dnsAnswer(q, { rcode: 2 }))
  const r = await dnsCheck(lo(port), { type: 'A', name: 'x.test' }, sig())
  t.is(r.code, 'rcode')
  t.regex(r.detail, /SERVFAIL/)
})

test('dns: an expected NXDOMAIN passes', async (t) => {
  const port = await responder((q) => dnsAnswer(q, { rcode: 3 }))
  t.true((await dnsCheck(lo(port), { type: 'A', name: 'nope.test', rcode: 3 }, sig())).ok)
})

test('dns: the expected answer must be among the records', async (t) => {
  const port = await responder((q) => dnsAnswer(q, { addrs: ['192.0.2.7', '192.0.2.8'] }))
  t.true((await dnsCheck(lo(port), { type: 'A', name: 'www.test', answer: '192.0.2.8' }, sig())).ok)
  const r = await dnsCheck(lo(port), { type: 'A', name: 'www.test', answer: '192.0.2.9' }, sig())
  t.is(r.code, 'answer')
})

test('dns: name answers compare without case or trailing dot', async (t) => {
  const port = await responder((q) => dnsAnswer(q, { ns: 'NS1.Example.test' }))
  t.true((await dnsCheck(lo(port), { type: 'NS', name: 'example.test', answer: 'ns1.example.test' }, sig())).ok)
})

test('dns: replies with another id are ignored, the real one still counts', async (t) => {
  const port = await responder((q) => [dnsAnswer(q, { idDelta: 1, rcode: 2 }), dnsAnswer(q)])
  t.true((await dnsCheck(lo(port), { type: 'A', name: 'x.test' }, sig())).ok)
})

test('dns: a silent server times out; a closed port fails as refused', async (t) => {
  const silent = await responder(() => undefined)
  t.is((await dnsCheck(lo(silent), {}, sig(200))).code, 'timeout')
  t.is((await dnsCheck(lo(await deadPort()), {}, sig())).code, 'refused')
})

test('udp: a port unreachable fails at once as refused', async (t) => {
  const r = await udpCheck(lo(await deadPort()), { payload: Buffer.from('ping') }, sig())
  // refused, not a pass: the ICMP error came before the 250 ms of silence that would pass
  t.is(r.code, 'refused')
})

test('udp: without a required reply, silence passes after the quiet time', async (t) => {
  const silent = await responder(() => undefined)
  const r = await udpCheck(lo(silent), { payload: Buffer.from('x'), quietMs: 100 }, sig())
  t.true(r.ok, r.detail)
  t.true(r.ms >= 95)
})

test('udp: a required reply must come', async (t) => {
  const silent = await responder(() => undefined)
  t.is((await udpCheck(lo(silent), { requireReply: true }, sig(200))).code, 'timeout')
})

test('udp: the reply is matched by regex, exact bytes and length bounds', async (t) => {
  const port = await responder((m) => Buffer.concat([Buffer.from('PONG '), m]))
  const payload = Buffer.from('hello')
  t.true((await udpCheck(lo(port), { payload, replyRegex: '^PONG hel' }, sig())).ok)
  t.is((await udpCheck(lo(port), { payload, replyRegex: '^PANG' }, sig())).code, 'body')
  t.true((await udpCheck(lo(port), { payload, reply: Buffer.from('PONG hello') }, sig())).ok)
  t.is((await udpCheck(lo(port), { payload, reply: Buffer.from('PONG hellO') }, sig())).code, 'body')
  t.is((await udpCheck(lo(port), { payload, requireReply: true, maxReplyLength: 5 }, sig())).code, 'body')
  t.is((await udpCheck(lo(port), { payload, requireReply: true, minReplyLength: 11 }, sig())).code, 'body')
  t.true((await udpCheck(lo(port), { payload, requireReply: true, minReplyLength: 10, maxReplyLength: 10 }, sig())).ok)
})

test('dns codec: a query encodes header, labels, type and class IN', (t) => {
  const q = encodeQuery({ id: 0x1234, name: 'a.bc', type: 28, recursion: true })
  t.is(q.toString('hex'), `123401000001000000000000${'016102626300'}001c0001`)
})

test('dns codec: compressed names and answers decode', (t) => {
  const q = encodeQuery({ id: 7, name: 'www.example.test', type: 1, recursion: false })
  const r = decodeReply(dnsAnswer(q, { addrs: ['198.51.100.1'] }))
  t.deepEqual(r, {
    id: 7,
    qr: true,
    rcode: 0,
    answers: [{ name: 'www.example.test.', type: 1, ttl: 60, value: '198.51.100.1' }],
  })
})

const hostile: Array<[string, Buffer]> = [
  ['a header cut short', Buffer.alloc(5)],
  ['a pointer loop', Buffer.from('000081800001000000000000c00c00010001', 'hex')],
  ['a label past the end', Buffer.from('00008180000100000000000005616200010001', 'hex')],
  [
    'an answer past the end',
    Buffer.concat([encodeQuery({ id: 0, name: 'a', type: 1, recursion: false }), Buffer.from('c00c0001', 'hex')]),
  ],
]
for (const [what, buf] of hostile) {
  test(`dns codec: ${what} throws only LvsdError`, (t) => {
    if (what === 'an answer past the end') buf.writeUInt16BE(1, 6)
    const e = t.throws(() => decodeReply(buf))
    t.true(isLvsdError(e, 'LVSD_DECODE_TRUNCATED') || isLvsdError(e, 'LVSD_DECODE_INVALID'), String(e))
  })
}

test('dns codec: a compression bomb is refused at the first name past 255 octets', (t) => {
  const before = process.memoryUsage().heapUsed
  const e = t.throws(() => decodeReply(compressionBomb(7)))
  t.true(isLvsdError(e, 'LVSD_DECODE_INVALID'), String(e))
  t.regex(String(e), /255 octets/)
  t.true(process.memoryUsage().heapUsed - before < 8 * 2 ** 20, 'no large allocation on the way')
})

test('dns codec: a pointer forward or to itself is refused (no loops, whatever the jump count)', (t) => {
  // the answer name at offset 12 points at 14, past itself
  const fwd = Buffer.from('000081800000000100000000c00e0000', 'hex')
  t.true(
    isLvsdError(
      t.throws(() => decodeReply(fwd)),
      'LVSD_DECODE_INVALID',
    ),
  )
})

test('dns codec: a reply claiming 65,535 answers yields at most MAX_ANSWERS', (t) => {
  const q = encodeQuery({ id: 9, name: 'a.test', type: 1, recursion: false })
  const one = Buffer.from('c00c000100010000003c00040a000001', 'hex')
  const buf = Buffer.concat([q, ...Array.from({ length: 500 }, () => one)])
  buf.writeUInt16BE(0x8180, 2)
  buf.writeUInt16BE(0xffff, 6)
  const r = decodeReply(buf)
  t.is(r.answers.length, MAX_ANSWERS)
})

test('dns codec: peekHeader reads only the id and QR, so foreign replies are never decoded', (t) => {
  t.deepEqual(peekHeader(compressionBomb(0x1234)), { id: 0x1234, qr: true })
  t.is(peekHeader(Buffer.alloc(11)), undefined)
})
