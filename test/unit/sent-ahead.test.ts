// Datagrams sent ahead in one native call (src/sys/sent-ahead.ts, native/send_many.cc), on real
// Unix datagram sockets: they leave in order, each Socket.send of the same datagram then takes its
// result instead of sending again, a failure or a full queue reads as a direct send's would, and
// nothing is taken once the batch is settled. With a deadline the call waits for it in C and
// sends nothing if a socket it watches has something to read.
import test from 'ava'
import { LvsdError } from '../../src/errors.js'
import { AF_UNIX, SOCK_DGRAM } from '../../src/sys/constants.js'
import { monotonicNs } from '../../src/sys/deadline-timer.js'
import { errnoValue } from '../../src/sys/errno.js'
import { native } from '../../src/sys/native.js'
import { SEND_AHEAD_MAX, SendAhead, sentAheadPending, settleSentAhead } from '../../src/sys/sent-ahead.js'
import { sockaddrUn } from '../../src/sys/sockaddr.js'
import { Socket } from '../../src/sys/socket.js'
import type * as fsm from '../../src/vrrp/fsm.js'
import { WireAhead } from '../../src/vrrp/worker/takeover-wire.js'

/** A bound receiver at a fresh abstract address. */
function receiver(t: { teardown(fn: () => void): void }) {
  const s = Socket.open(AF_UNIX, SOCK_DGRAM, 0)
  const addr = sockaddrUn(`lvsd-test-ahead-${process.pid}-${Math.random().toString(36).slice(2)}`, { abstract: true })
  s.bind(addr)
  t.teardown(() => s.close())
  // unix datagrams are queued by the sendto itself: everything sent is readable at once
  return { addr, read: () => s.receiveAll().map((m) => m.data.toString()), socket: s }
}

function sender(t: { teardown(fn: () => void): void }): Socket {
  const s = Socket.open(AF_UNIX, SOCK_DGRAM, 0)
  t.teardown(() => s.close())
  return s
}

test.afterEach.always(() => {
  settleSentAhead()
})

test('a batch leaves in order, and each later send of the same datagram takes its result: nothing leaves twice', (t) => {
  const a = receiver(t)
  const b = receiver(t)
  const s = sender(t)
  const [one, two, three] = ['advert', 'vip', 'garp'].map((x) => Buffer.from(x))
  const batch = new SendAhead([
    s.outgoing(one as Buffer, a.addr),
    s.outgoing(two as Buffer, b.addr),
    s.outgoing(three as Buffer, a.addr),
  ])
  t.is(batch.size, 3)
  batch.send()
  t.deepEqual(a.read(), ['advert', 'garp'])
  t.deepEqual(b.read(), ['vip'])
  t.is(sentAheadPending, 3)
  // the same bytes in new buffers, as a rebuilt sockaddr or a concatenated datagram would be
  t.true(s.send(Buffer.from('advert'), Buffer.from(a.addr)))
  t.true(s.send(two as Buffer, b.addr))
  t.deepEqual([...a.read(), ...b.read()], [], 'taken, not sent again')
  t.true(s.send(Buffer.from('other'), a.addr), 'a datagram not sent ahead goes to the kernel')
  t.true(s.send(two as Buffer, b.addr), 'a result answers once: the second send of it goes too')
  t.deepEqual(a.read(), ['other'])
  t.deepEqual(b.read(), ['vip'])
  t.is(settleSentAhead(), 1, 'the garp nobody took')
  t.is(sentAheadPending, 0)
  t.true(s.send(three as Buffer, a.addr))
  t.deepEqual(a.read(), ['garp'], 'after settling, a send is a send')
})

test('the same bytes to another address or from another socket are not taken', (t) => {
  const a = receiver(t)
  const b = receiver(t)
  const s = sender(t)
  const other = sender(t)
  const d = Buffer.from('x')
  new SendAhead([s.outgoing(d, a.addr)]).send()
  t.deepEqual(a.read(), ['x'])
  t.true(s.send(d, b.addr))
  t.true(other.send(d, a.addr))
  t.deepEqual(b.read(), ['x'])
  t.deepEqual(a.read(), ['x'])
  t.is(settleSentAhead(), 1)
})

test('a send that failed ahead throws what a direct send throws, and the rest of the batch still left', (t) => {
  const a = receiver(t)
  const s = sender(t)
  const nobody = sockaddrUn(`lvsd-test-nobody-${process.pid}-${Math.random()}`, { abstract: true })
  const direct = t.throws(() => s.send(Buffer.from('lost'), nobody), { instanceOf: LvsdError }) as LvsdError
  new SendAhead([s.outgoing(Buffer.from('lost'), nobody), s.outgoing(Buffer.from('after'), a.addr)]).send()
  t.deepEqual(a.read(), ['after'])
  const ahead = t.throws(() => s.send(Buffer.from('lost'), nobody), { instanceOf: LvsdError }) as LvsdError
  t.is(ahead.code, 'LVSD_SYS_CALL')
  t.deepEqual(ahead.details, direct.details)
  t.true(s.send(Buffer.from('after'), a.addr))
  t.deepEqual(a.read(), [])
})

test('a full queue reads as false, as a direct send does', (t) => {
  const a = receiver(t)
  const s = sender(t)
  // more 16 KiB datagrams than the receiver's buffer holds: the last ones meet EAGAIN
  const big = (i: number) => Buffer.alloc(16384, i)
  const list = Array.from({ length: 200 }, (_, i) => s.outgoing(big(i), a.addr))
  new SendAhead(list).send()
  const results = list.map((o) => s.send(o.data, o.to))
  t.true(results[0])
  t.false(results.at(-1), 'the last did not fit')
  const queued = a.socket.receiveAll().length
  t.is(queued, results.filter(Boolean).length, 'true exactly for what the receiver got')
})

test('the native call takes at most 256 datagrams and as many of each argument', (t) => {
  const n = native()
  const d = Buffer.from('x')
  const out = new Int32Array(300)
  t.throws(() => n.sendMany(new Int32Array(257), Array(257).fill(d), Array(257).fill(null), out), {
    instanceOf: TypeError,
  })
  t.throws(() => n.sendMany(new Int32Array(2), [d], [null, null], out), { instanceOf: TypeError })
  t.throws(() => n.sendMany(new Int32Array(2), [d, d], [null, null], new Int32Array(1)), { instanceOf: TypeError })
  t.throws(() => n.sendMany(new Int32Array(1), ['x' as unknown as Buffer], [null], out), { instanceOf: TypeError })
  n.sendMany(new Int32Array([-1]), [d], [null], out)
  t.is(out[0], -(errnoValue('EBADF') as number), 'EBADF as -errno, not thrown')
})

test('with a deadline the call waits for it in C, never leaving before it', (t) => {
  const a = receiver(t)
  const s = sender(t)
  const start = monotonicNs()
  const notBeforeNs = start + 20e6
  t.true(new SendAhead([s.outgoing(Buffer.from('late'), a.addr)]).send({ notBeforeNs, quiet: new Int32Array(0) }))
  t.true(monotonicNs() >= notBeforeNs)
  t.deepEqual(a.read(), ['late'])
})

test('a quiet socket with something to read at the deadline: nothing sent, false, the list kept for later', (t) => {
  const a = receiver(t)
  const watched = receiver(t)
  const s = sender(t)
  const batch = new SendAhead([s.outgoing(Buffer.from('advert'), a.addr)])
  t.true(s.send(Buffer.from('an advert came'), watched.addr))
  const quiet = Int32Array.of(a.socket.fd, watched.socket.fd)
  t.false(batch.send({ notBeforeNs: monotonicNs(), quiet }))
  t.deepEqual(a.read(), [], 'nothing left')
  t.is(sentAheadPending, 0)
  t.deepEqual(watched.read(), ['an advert came'])
  t.true(batch.send({ notBeforeNs: monotonicNs(), quiet }), 'read: quiet again')
  t.deepEqual(a.read(), ['advert'])
})

test('a deadline more than 100 ms ahead is a RangeError, and nothing is sent', (t) => {
  const a = receiver(t)
  const s = sender(t)
  const batch = new SendAhead([s.outgoing(Buffer.from('x'), a.addr)])
  t.throws(() => batch.send({ notBeforeNs: monotonicNs() + 200e6, quiet: new Int32Array(0) }), {
    instanceOf: RangeError,
  })
  t.deepEqual(a.read(), [])
})

test('a takeover list longer than one call takes is cut to a prefix, and a refused one is left to the commit', (t) => {
  const a = receiver(t)
  const s = sender(t)
  const many = Array.from({ length: SEND_AHEAD_MAX + 44 }, (_, i) => s.outgoing(Buffer.from(`a${i}`), a.addr))
  const step = { actions: [{ kind: 'send', priority: 100 }] } as unknown as fsm.Step
  const logged: string[] = []
  const now = () => monotonicNs() / 1e6
  const wire = new WireAhead(
    { now, wall: now, deadlineNs: (ms) => ms * 1e6, queuedFds: () => [] },
    {
      warnOnce: (_k, msg, f) => logged.push(`warn ${msg} ${JSON.stringify(f)}`),
      debug: (msg, f) => logged.push(`debug ${msg} ${JSON.stringify(f)}`),
    },
  )
  wire.prepare([step], { advert: () => many, adds: undefined, announced: [] })
  t.true(wire.sendAt(now()))
  // a unix socket queues only a few datagrams (the rest meet EAGAIN): the results say what was tried
  t.is(sentAheadPending, SEND_AHEAD_MAX, 'one result for each of the first 256')
  t.deepEqual(a.read().slice(0, 2), ['a0', 'a1'], 'the head of the list, in order')
  wire.settle()
  t.deepEqual(logged, [
    `warn takeover sent datagrams its commit did not {"unasked":${SEND_AHEAD_MAX}}`,
    `debug takeover datagrams sent in one call {"datagrams":${SEND_AHEAD_MAX},"atDeadline":true}`,
  ])

  logged.length = 0
  const refused = [{ fd: s.fd, data: 'not bytes' as unknown as Buffer, to: a.addr }]
  wire.prepare([step], { advert: () => refused, adds: undefined, announced: [] })
  t.false(wire.sendAt(now()))
  wire.sendNow()
  t.is(sentAheadPending, 0, 'nothing left to send ahead: the commit sends it all')
  wire.settle()
  t.is(logged.length, 1)
  t.regex(logged[0] ?? '', /^warn takeover datagrams could not be sent in one call: sent one by one .*TypeError/)
  t.deepEqual(a.read(), [])
})
