// The netlink client against a fake kernel: sequence matching, ACKs, dumps, kernel errors with
// extended ACK, timeouts on a manual clock, notifications interleaved with replies, overruns, close.
import test from 'ava'
import { isLvsdError, type LvsdError } from '../../src/errors.js'
import { NetlinkClient } from '../../src/net/netlink-client.js'
import {
  encodeAll,
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  type NlMessage,
} from '../../src/net/nlmsg.js'
import { ack, errno, FakeKernel, fakeClient, multipart, notification, reply } from '../helpers/fake-kernel.js'
import { VirtualClock } from '../helpers/virtual-clock.js'

const GET = 18
const NEW = 20
const body = (s: string) => Buffer.from(s)

test('a request gets a fresh seq, REQUEST|ACK, and resolves with nothing on a bare ACK', async (t) => {
  const { kernel, client } = fakeClient((req) => [ack(req)])
  t.deepEqual(await client.request({ type: NEW, flags: 0, payload: body('a') }), [])
  t.deepEqual(await client.request({ type: NEW, flags: 0, payload: body('b') }), [])
  t.deepEqual(
    kernel.sent.map((m) => [m.seq, m.flags]),
    [
      [1, NLM_F_REQUEST | NLM_F_ACK],
      [2, NLM_F_REQUEST | NLM_F_ACK],
    ],
  )
  t.is(client.outstanding, 0)
})

test('answers sent before the ACK are the result', async (t) => {
  const { client } = fakeClient((req) => [reply(req, 16, body('fam')), ack(req)])
  const r = await client.request({ type: 16, flags: 0, payload: body('q') })
  t.deepEqual(
    r.map((m) => m.payload.toString()),
    ['fam'],
  )
})

test('a dump collects every multipart part across datagrams until NLMSG_DONE', async (t) => {
  const { client } = fakeClient((req) => {
    const [a, b, c, done] = multipart(req, 16, [body('one'), body('two'), body('three')])
    return [[a, b] as NlMessage[], c as NlMessage, done as NlMessage]
  })
  const parts = await client.request({ type: GET, flags: NLM_F_DUMP, payload: body('') }, { op: 'RTM_GETLINK' })
  t.deepEqual(
    parts.map((m) => m.payload.toString()),
    ['one', 'two', 'three'],
  )
})

test('a kernel error rejects with LVSD_NL_KERNEL carrying op, errno, its name, the extended ACK and seq', async (t) => {
  const { client } = fakeClient((req) => [
    errno(req, 'EEXIST', { message: 'ipv4: Address already assigned', offset: 20 }),
  ])
  const e = await t.throwsAsync<LvsdError>(
    client.request({ type: NEW, flags: 0, payload: body('x') }, { op: 'RTM_NEWADDR' }),
    {
      code: 'LVSD_NL_KERNEL',
    },
  )
  t.like(e?.details, {
    op: 'RTM_NEWADDR',
    errno: 17,
    code: 'EEXIST',
    extAck: 'ipv4: Address already assigned',
    offset: 20,
    seq: 1,
  })
})

test('an uncapped error echoing the whole request is understood too', async (t) => {
  const { client } = fakeClient((req) => [errno(req, 'EINVAL', { message: 'bad' }, false)])
  const e = await t.throwsAsync<LvsdError>(client.request({ type: NEW, flags: 0, payload: body('payload') }), {
    code: 'LVSD_NL_KERNEL',
  })
  t.like(e?.details, { code: 'EINVAL', extAck: 'bad' })
})

test('NLMSG_DONE with a negative error rejects the dump', async (t) => {
  const { client } = fakeClient((req) => [multipart(req, 16, [body('p')], -16)])
  const e = await t.throwsAsync<LvsdError>(client.request({ type: GET, flags: NLM_F_DUMP, payload: body('') }), {
    code: 'LVSD_NL_KERNEL',
  })
  t.is(e?.details.code, 'EBUSY')
})

test('concurrent requests answered out of order each get their own replies', async (t) => {
  const held: NlMessage[] = []
  const { kernel, client } = fakeClient((req) => {
    held.push(req)
    return []
  })
  const p1 = client.request({ type: 16, flags: 0, payload: body('1') })
  const p2 = client.request({ type: 16, flags: 0, payload: body('2') })
  const [r1, r2] = held as [NlMessage, NlMessage]
  kernel.deliver([reply(r2, 16, body('for 2')), ack(r2), reply(r1, 16, body('for 1'))])
  kernel.deliver(ack(r1))
  t.is((await p1)[0]?.payload.toString(), 'for 1')
  t.is((await p2)[0]?.payload.toString(), 'for 2')
})

test('notifications interleaved with a dump go to listeners, not into the dump', async (t) => {
  const { kernel, client } = fakeClient(() => [])
  const seen: string[] = []
  client.onNotification((m) => seen.push(m.payload.toString()))
  const p = client.request({ type: GET, flags: NLM_F_DUMP, payload: body('') })
  const req = kernel.sent[0] as NlMessage
  const [part, done] = multipart(req, 16, [body('part')]) as [NlMessage, NlMessage]
  kernel.deliver([part, notification(16, body('event A'))])
  // another process's request causes a notification with its own seq and port id
  kernel.deliver(notification(20, body('event B'), req.seq, 999))
  kernel.deliver(done)
  t.deepEqual(
    (await p).map((m) => m.payload.toString()),
    ['part'],
  )
  t.deepEqual(seen, ['event A', 'event B'])
})

test('a request times out with LVSD_NL_TIMEOUT; its late reply is dropped, not taken for an event', async (t) => {
  const clock = new VirtualClock()
  const { kernel, client } = fakeClient(() => [], { timers: clock, timeoutMs: 250 })
  const events: NlMessage[] = []
  client.onNotification((m) => events.push(m))
  const p = client.request({ type: NEW, flags: 0, payload: body('x') }, { op: 'RTM_NEWADDR' })
  t.is(clock.armed.length, 1)
  clock.advance(250)
  const e = await t.throwsAsync<LvsdError>(p, { code: 'LVSD_NL_TIMEOUT' })
  t.like(e?.details, { op: 'RTM_NEWADDR', timeoutMs: 250 })
  kernel.deliver(ack(kernel.sent[0] as NlMessage))
  t.is(client.staleReplies, 1)
  t.deepEqual(events, [])
})

test('a reply disarms its timer', async (t) => {
  const clock = new VirtualClock()
  const { client } = fakeClient((req) => [ack(req)], { timers: clock })
  await client.request({ type: NEW, flags: 0, payload: body('x') })
  t.is(clock.armed.length, 0)
})

test('close() rejects outstanding requests with LVSD_NL_CLOSED, and later requests too', async (t) => {
  const { kernel, client } = fakeClient(() => [])
  const p = client.request({ type: NEW, flags: 0, payload: body('x') }, { op: 'RTM_NEWADDR' })
  client.close()
  await t.throwsAsync<LvsdError>(p, { code: 'LVSD_NL_CLOSED' })
  await t.throwsAsync<LvsdError>(client.request({ type: NEW, flags: 0, payload: body('y') }), {
    code: 'LVSD_NL_CLOSED',
  })
  t.true(kernel.closed)
})

test('ENOBUFS signals a resync and fails outstanding requests fast', async (t) => {
  const { kernel, client } = fakeClient(() => [])
  const why: string[] = []
  client.onResync((r) => why.push(r))
  const p = client.request({ type: GET, flags: NLM_F_DUMP, payload: body('') })
  kernel.fail('ENOBUFS')
  const e = await t.throwsAsync<LvsdError>(p, { code: 'LVSD_NL_PROTOCOL' })
  t.is(e?.details.reason, 'ENOBUFS')
  t.deepEqual(why, ['ENOBUFS'])
})

test('a transport that stopped (POLLERR) fails outstanding requests and refuses new ones', async (t) => {
  const { kernel, client } = fakeClient(() => [])
  const p = client.request({ type: NEW, flags: 0, payload: body('x') })
  kernel.fail('ENOBUFS', true)
  const e = await t.throwsAsync<LvsdError>(p, { code: 'LVSD_NL_PROTOCOL' })
  t.is(e?.details.reason, 'ENOBUFS')
  t.false(client.alive)
  await t.throwsAsync<LvsdError>(client.request({ type: NEW, flags: 0, payload: body('y') }), {
    code: 'LVSD_NL_CLOSED',
  })
})

test('a truncated datagram also signals a resync', (t) => {
  const { kernel, client } = fakeClient(() => [])
  const why: string[] = []
  client.onResync((r) => why.push(r))
  kernel.deliver(notification(16, body('cut')), true)
  t.deepEqual(why, ['truncated datagram'])
})

test('other socket errors and undecodable datagrams reach error listeners without throwing', (t) => {
  const { kernel, client } = fakeClient(() => [])
  const errs: unknown[] = []
  client.onError((e) => errs.push(e))
  kernel.fail('EBADF')
  kernel.deliver(Buffer.from('ff000000', 'hex'))
  t.is(errs.length, 2)
  t.true(isLvsdError(errs[1], 'LVSD_DECODE_TRUNCATED'))
})

test('subscribe joins the multicast group on the socket', (t) => {
  const { kernel, client } = fakeClient(() => [])
  client.subscribe(5)
  client.subscribe(9)
  t.deepEqual(kernel.memberships, [5, 9])
})

test('a failing send rejects the request and leaves nothing outstanding', async (t) => {
  const kernel = new FakeKernel(() => [])
  const client = new NetlinkClient(kernel)
  kernel.close()
  await t.throwsAsync<LvsdError>(client.request({ type: NEW, flags: 0, payload: body('x') }))
  t.is(client.outstanding, 0)
})

test('the ACK-then-reply order of a real kernel datagram is walked message by message', async (t) => {
  // one datagram holding an answer and the ACK for the same seq
  const { kernel, client } = fakeClient(() => [])
  const p = client.request({ type: 16, flags: 0, payload: body('q') })
  const req = kernel.sent[0] as NlMessage
  kernel.deliver(encodeAll([reply(req, 16, body('a')), ack(req)]))
  const r = await p
  t.is(r.length, 1)
  t.is(r[0]?.type, 16)
  t.not(r[0]?.type, NLMSG_ERROR)
  t.not(r[0]?.type, NLMSG_DONE)
})
