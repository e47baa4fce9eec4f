// The netlink client's batching and synchronous reads: batch() puts requests in one datagram (up to
// batchLimit), each still answered on its own; answers the kernel queued during sendmsg are read at once,
// with no timer armed; a datagram's unanswered requests share one timer; a failed send fails its batch.
import test from 'ava'
import type { LvsdError } from '../../src/errors.js'
import { NetlinkClient, type NetlinkTransport } from '../../src/net/netlink-client.js'
import { decodeAll, encodeAll, NLM_F_ACK, NLM_F_REQUEST, type NlMessage } from '../../src/net/nlmsg.js'
import { ack, errno, fakeClient } from '../helpers/fake-kernel.js'
import { VirtualClock } from '../helpers/virtual-clock.js'

const NEW = 20
const body = (s: string) => Buffer.from(s)
const req = (s: string) => ({ type: NEW, flags: 0, payload: body(s) })

/**
 * A kernel that answers inside send, like the real one (netlink_unicast_kernel runs the handler in the
 * sender's sendmsg): answers are queued on the "socket" and only drain() (or the poller, here: poll()) reads them.
 */
class SyncKernel implements NetlinkTransport {
  readonly portId = 4242
  datagrams: NlMessage[][] = []
  raw: Buffer[] = []
  queued: Buffer[] = []
  drains = 0
  private onDatagram: ((d: Buffer, truncated: boolean) => void) | undefined
  constructor(private readonly fn: (m: NlMessage) => NlMessage[]) {}
  send(datagram: Buffer): void {
    const msgs = decodeAll(datagram)
    this.datagrams.push(msgs)
    this.raw.push(Buffer.from(datagram))
    // one answer per datagram read, as the kernel queues one skb per ACK
    for (const m of msgs) for (const r of this.fn(m)) this.queued.push(encodeAll([r]))
  }
  drain(): void {
    this.drains++
    for (let d = this.queued.shift(); d; d = this.queued.shift()) this.onDatagram?.(d, false)
  }
  start(onDatagram: (d: Buffer, truncated: boolean) => void): void {
    this.onDatagram = onDatagram
  }
  addMembership(): void {}
  close(): void {}
}

test('batch() sends its requests as one datagram and each gets its own answer, in order', async (t) => {
  const { kernel, client } = fakeClient((m) => [m.payload.toString() === 'b' ? errno(m, 'EEXIST') : ack(m)])
  let sentInside = -1
  const ps = client.batch(() => {
    const x = ['a', 'b', 'c'].map((s) =>
      client.request(req(s)).then(
        () => 'ok',
        (e: LvsdError) => e.details.code,
      ),
    )
    sentInside = kernel.sent.length
    return x
  })
  t.is(sentInside, 0, 'nothing leaves before the batch ends')
  t.deepEqual(await Promise.all(ps), ['ok', 'EEXIST', 'ok'])
  t.is(client.datagramsSent, 1)
  t.deepEqual(
    kernel.sent.map((m) => m.seq),
    [1, 2, 3],
  )
})

test('a batch longer than batchLimit goes out in datagrams of batchLimit requests', async (t) => {
  const kernel = new SyncKernel((m) => [ack(m)])
  const client = new NetlinkClient(kernel, { batchLimit: 4 })
  const ps = client.batch(() => Array.from({ length: 10 }, (_, i) => client.request(req(String(i)))))
  await Promise.all(ps)
  t.deepEqual(
    kernel.datagrams.map((d) => d.length),
    [4, 4, 2],
  )
  t.is(kernel.queued.length, 0, 'each datagram’s answers were read before the next was sent')
})

test('answers queued during sendmsg are read at once: the request settles without a timer or a wakeup', async (t) => {
  const clock = new VirtualClock()
  const kernel = new SyncKernel((m) => [ack(m)])
  const client = new NetlinkClient(kernel, { timers: clock })
  const p = client.request(req('x'))
  t.is(client.outstanding, 0)
  t.is(clock.armed.length, 0)
  t.is(kernel.drains, 1)
  t.deepEqual(await p, [])
  const ps = client.batch(() => [client.request(req('y')), client.request(req('z'))])
  t.is(clock.armed.length, 0)
  t.is(kernel.drains, 2)
  t.deepEqual(await Promise.all(ps), [[], []])
})

test('the unanswered requests of one datagram share one timer; it disarms when the last is answered', async (t) => {
  const clock = new VirtualClock()
  const { kernel, client } = fakeClient(() => [], { timers: clock, timeoutMs: 100 })
  const ps = client.batch(() => [client.request(req('a')), client.request(req('b')), client.request(req('c'))])
  t.is(clock.armed.length, 1)
  const [a, b] = kernel.sent as [NlMessage, NlMessage, NlMessage]
  kernel.deliver(ack(a))
  kernel.deliver(ack(b))
  t.is(clock.armed.length, 1, 'one request is still unanswered')
  clock.advance(100)
  const r = await Promise.allSettled(ps)
  t.deepEqual(
    r.map((x) => (x.status === 'fulfilled' ? 'ok' : (x.reason as LvsdError).code)),
    ['ok', 'ok', 'LVSD_NL_TIMEOUT'],
  )
  const q = client.batch(() => [client.request(req('d')), client.request(req('e'))])
  t.is(clock.armed.length, 1)
  for (const m of kernel.sent.slice(3)) kernel.deliver(ack(m))
  await Promise.all(q)
  t.is(clock.armed.length, 0)
})

test('a send that fails rejects every request of its datagram', async (t) => {
  const { kernel, client } = fakeClient((m) => [ack(m)])
  kernel.send = () => {
    throw Object.assign(new Error('EMSGSIZE'), { code: 'EMSGSIZE' })
  }
  const ps = client.batch(() => [client.request(req('a')), client.request(req('b'))])
  const r = await Promise.allSettled(ps)
  t.deepEqual(
    r.map((x) => x.status === 'rejected' && (x.reason as { code: string }).code),
    ['EMSGSIZE', 'EMSGSIZE'],
  )
  t.is(client.outstanding, 0)
})

test('close() inside a batch rejects its queued requests with LVSD_NL_CLOSED and sends nothing', async (t) => {
  const { kernel, client } = fakeClient((m) => [ack(m)])
  const ps = client.batch(() => {
    const x = [client.request(req('a')), client.request(req('b'))]
    client.close()
    return x
  })
  const r = await Promise.allSettled(ps)
  t.deepEqual(
    r.map((x) => x.status === 'rejected' && (x.reason as LvsdError).code),
    ['LVSD_NL_CLOSED', 'LVSD_NL_CLOSED'],
  )
  t.is(kernel.sent.length, 0)
})

test('ack "last": only each datagram’s last request asks for an ACK; a failure is still answered and the rest succeed', async (t) => {
  // like netlink_rcv_skb: an answer only for NLM_F_ACK or an error
  const kernel = new SyncKernel((m) => {
    if (m.payload.toString() === 'b') return [errno(m, 'EEXIST')]
    return m.flags & NLM_F_ACK ? [ack(m)] : []
  })
  const client = new NetlinkClient(kernel, { batchLimit: 3 })
  const ps = client.batch(
    () =>
      ['a', 'b', 'c', 'd', 'e'].map((s) =>
        client.request(req(s)).then(
          () => 'ok',
          (e: LvsdError) => e.details.code,
        ),
      ),
    { ack: 'last' },
  )
  t.is(client.outstanding, 0, 'every request was settled by the answers read right after each send')
  t.deepEqual(await Promise.all(ps), ['ok', 'EEXIST', 'ok', 'ok', 'ok'])
  t.deepEqual(
    kernel.datagrams.map((d) => d.map((m) => (m.flags & NLM_F_ACK ? 'A' : '-')).join('')),
    ['--A', '-A'],
  )
  t.deepEqual(
    kernel.datagrams.flat().map((m) => m.flags & ~NLM_F_ACK),
    [1, 1, 1, 1, 1].map(() => NLM_F_REQUEST),
  )
  // the mode ends with the batch: a lone request asks for its ACK again
  await client.request(req('f'))
  t.is((kernel.datagrams.at(-1)?.[0]?.flags ?? 0) & NLM_F_ACK, NLM_F_ACK)
})

test('ack "last": when the last answer never comes, the whole datagram times out together', async (t) => {
  const clock = new VirtualClock()
  const { kernel, client } = fakeClient(() => [], { timers: clock, timeoutMs: 50 })
  const ps = client.batch(() => [client.request(req('a')), client.request(req('b'))], { ack: 'last' })
  t.is(kernel.sent.length, 2)
  t.is(clock.armed.length, 1)
  clock.advance(50)
  const r = await Promise.allSettled(ps)
  t.deepEqual(
    r.map((x) => x.status === 'rejected' && (x.reason as LvsdError).code),
    ['LVSD_NL_TIMEOUT', 'LVSD_NL_TIMEOUT'],
  )
})

test('hold(): requests wait across turns until release(), then leave as one datagram', async (t) => {
  const clock = new VirtualClock()
  const kernel = new SyncKernel((m) => (m.payload.toString() === 'b' ? [errno(m, 'EEXIST')] : [ack(m)]))
  const client = new NetlinkClient(kernel, { timers: clock })
  const held = client.hold()
  const ps = ['a', 'b'].map((s) =>
    client.request(req(s)).then(
      () => 'ok',
      (e: LvsdError) => e.details.code,
    ),
  )
  await new Promise((r) => setImmediate(r))
  t.is(kernel.datagrams.length, 0, 'nothing leaves while held, even after a turn of the loop')
  held.release()
  t.deepEqual(
    kernel.datagrams.map((d) => d.map((m) => m.payload.toString())),
    [['a', 'b']],
  )
  t.is(kernel.drains, 1, 'answered inside sendmsg: read at once')
  t.is(clock.armed.length, 0)
  t.deepEqual(await Promise.all(ps), ['ok', 'EEXIST'])
  held.release()
  t.is(kernel.datagrams.length, 1, 'a second release sends nothing')
})

test('hold() with answersLater: sent at release, answers read after the caller’s turn, no timer left', async (t) => {
  const clock = new VirtualClock()
  const kernel = new SyncKernel((m) => [ack(m)])
  const client = new NetlinkClient(kernel, { timers: clock })
  const held = client.hold()
  const p = client.request(req('vip'))
  held.release({ answersLater: true })
  t.is(kernel.datagrams.length, 1, 'in the kernel when release returns')
  t.is(kernel.drains, 0, 'the answer is still queued: the caller’s next step (the GARP) goes first')
  t.deepEqual(await p, [])
  t.is(kernel.drains, 1)
  t.is(client.outstanding, 0)
  t.is(clock.armed.length, 0, 'the timeout was not armed for an answer that was already queued')
})

test('hold() inside batch(): the requests leave when the outer one ends', async (t) => {
  const kernel = new SyncKernel((m) => [ack(m)])
  const client = new NetlinkClient(kernel)
  const held = client.hold()
  const p = client.batch(() => client.request(req('x')))
  t.is(kernel.datagrams.length, 0, 'the batch ended inside a hold: still held')
  held.release()
  t.is(kernel.datagrams.length, 1)
  t.deepEqual(await p, [])
})

test('hold().withdraw(): the held requests are never sent and reject with LVSD_NL_WITHDRAWN', async (t) => {
  const kernel = new SyncKernel((m) => [ack(m)])
  const client = new NetlinkClient(kernel)
  const held = client.hold()
  const p = client.request(req('vip')).then(
    () => 'sent',
    (e: LvsdError) => e.code,
  )
  held.withdraw()
  held.release()
  t.is(await p, 'LVSD_NL_WITHDRAWN')
  t.is(kernel.datagrams.length, 0)
  t.is(client.outstanding, 0)
  t.deepEqual(await client.request(req('next')), [], 'the client is not left held')
  t.is(kernel.datagrams.length, 1)
})

/** A SyncKernel that can say what it would send, as the real transport does for a batch sent ahead. */
function showingKernel() {
  return Object.assign(new SyncKernel((m) => [ack(m)]), {
    outgoing: (d: Buffer) => ({ fd: 7, data: d, to: null }),
  })
}

test('hold().outgoing() is the datagram release() sends, byte for byte', async (t) => {
  const kernel = showingKernel()
  const client = new NetlinkClient(kernel)
  const held = client.hold()
  t.is(held.outgoing(), undefined, 'nothing queued: nothing to show')
  const ps = [client.request(req('a')), client.request(req('b'))]
  const shown = held.outgoing()
  t.is(kernel.raw.length, 0, 'showing sends nothing')
  held.release()
  t.is(kernel.raw.length, 1)
  t.deepEqual(shown?.data, kernel.raw[0])
  t.is(shown?.fd, 7)
  await Promise.all(ps)
})

test('requests queued after hold().outgoing() leave in a datagram of their own, so the one shown is sent once', async (t) => {
  const kernel = showingKernel()
  const client = new NetlinkClient(kernel)
  const held = client.hold()
  const ps = [client.request(req('a')), client.request(req('b'))]
  const shown = held.outgoing()
  // another instance's request in the same turn, while this one is still held
  ps.push(client.request(req('late')))
  held.release()
  t.deepEqual(
    kernel.datagrams.map((d) => d.map((m) => m.payload.toString())),
    [['a', 'b'], ['late']],
  )
  t.deepEqual(shown?.data, kernel.raw[0])
  t.deepEqual(await Promise.all(ps), [[], [], []])
  t.is(client.outstanding, 0)
})

test('hold().outgoing() shows nothing where release() would not send: inside a batch, withdrawn, or a transport that cannot say', async (t) => {
  const kernel = showingKernel()
  const client = new NetlinkClient(kernel)
  const held = client.hold()
  let inner: ReturnType<NetlinkClient['hold']> | undefined
  const p = client.batch(() => {
    inner = client.hold()
    return client.request(req('x'))
  })
  t.is(inner?.outgoing(), undefined, 'an inner hold does not send at its release')
  inner?.release()
  t.truthy(held.outgoing(), 'the outermost one does')
  held.withdraw()
  t.is(held.outgoing(), undefined, 'withdrawn')
  await t.throwsAsync(p, { message: /withdrawn/ })
  const plain = new NetlinkClient(new SyncKernel((m) => [ack(m)]))
  const h = plain.hold()
  const q = plain.request(req('y'))
  t.is(h.outgoing(), undefined, 'the transport cannot say what it would send')
  h.release()
  t.deepEqual(await q, [])
})
