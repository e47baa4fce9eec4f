// The netlink client under any answer stream the kernel can produce: up to 8 requests in flight
// (commands answered by an ACK, an errno or replies then an ACK; dumps of 0–5 parts ending in
// NLMSG_DONE, possibly with an error), multicast notifications between any two datagrams, and each
// request's messages cut into datagrams at any boundaries. The kernel answers one socket's requests
// in order and never mixes two requests' messages in one datagram (one skb per answer or dump
// chunk); the packing inside a request's answer and the notifications are what varies.
import test from 'ava'
import fc from 'fast-check'
import { isLvsdError } from '../../src/errors.js'
import { NetlinkClient } from '../../src/net/netlink-client.js'
import type { NlMessage } from '../../src/net/nlmsg.js'
import { ack, errno, FakeKernel, multipart, notification, reply } from '../helpers/fake-kernel.js'
import { VirtualClock } from '../helpers/virtual-clock.js'

const CMD = 20
const DUMP_TYPE = 16
const NOTIFY = 30
const ERRNOS = ['EEXIST', 'ENOENT', 'EINVAL', 'EBUSY'] as const

type Kind =
  | { kind: 'ack' }
  | { kind: 'errno'; errno: (typeof ERRNOS)[number] }
  | { kind: 'replies'; n: number }
  | { kind: 'dump'; n: number }
  | { kind: 'dump-error'; n: number }

const kind: fc.Arbitrary<Kind> = fc.oneof(
  fc.constant<Kind>({ kind: 'ack' }),
  fc.constantFrom(...ERRNOS).map((e): Kind => ({ kind: 'errno', errno: e })),
  fc.integer({ min: 1, max: 3 }).map((n): Kind => ({ kind: 'replies', n })),
  fc.integer({ min: 0, max: 5 }).map((n): Kind => ({ kind: 'dump', n })),
  fc.integer({ min: 0, max: 3 }).map((n): Kind => ({ kind: 'dump-error', n })),
)

const payload = (i: number, j: number) => Buffer.from(`r${i}p${j}`)

/** What the kernel sends for request i, as messages in order. */
function answer(k: Kind, req: NlMessage, i: number): NlMessage[] {
  const parts = (n: number) => Array.from({ length: n }, (_, j) => payload(i, j))
  switch (k.kind) {
    case 'ack':
      return [ack(req)]
    case 'errno':
      return [errno(req, k.errno)]
    case 'replies':
      return [...parts(k.n).map((p) => reply(req, CMD, p)), ack(req)]
    case 'dump':
      return multipart(req, DUMP_TYPE, parts(k.n))
    case 'dump-error':
      return multipart(req, DUMP_TYPE, parts(k.n), -4 /* EINTR */)
  }
}

/** Cuts msgs into datagrams: cut[j] true ends a datagram after message j. */
function pack(msgs: NlMessage[], cuts: boolean[]): NlMessage[][] {
  const out: NlMessage[][] = []
  let cur: NlMessage[] = []
  msgs.forEach((m, j) => {
    cur.push(m)
    if (cuts[j % cuts.length] || j === msgs.length - 1) {
      out.push(cur)
      cur = []
    }
  })
  return out
}

const scenario = fc.record({
  kinds: fc.array(kind, { minLength: 1, maxLength: 8 }),
  cuts: fc.array(fc.boolean(), { minLength: 1, maxLength: 16 }),
  // a notification before datagram d when notifyAt includes d
  notifyAt: fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { maxLength: 6 }),
})

test('every request settles with exactly its own answer, notifications arrive in order, nothing is left armed', async (t) => {
  await fc.assert(
    fc.asyncProperty(scenario, async ({ kinds, cuts, notifyAt }) => {
      const kernel = new FakeKernel(() => undefined)
      const clock = new VirtualClock()
      const client = new NetlinkClient(kernel, { timers: clock })
      const seen: string[] = []
      client.onNotification((m) => seen.push(m.payload.toString()))
      const results = kinds.map((k, i) =>
        client
          .request({ type: k.kind.startsWith('dump') ? DUMP_TYPE : CMD, flags: 0, payload: Buffer.from(`q${i}`) })
          .then(
            (msgs) => ({ ok: msgs.map((m) => m.payload.toString()) }),
            (e: unknown) => ({ err: isLvsdError(e) ? `${e.code}:${String(e.details?.code)}` : String(e) }),
          ),
      )
      const datagrams = kinds.flatMap((k, i) => pack(answer(k, kernel.sent[i] as NlMessage, i), cuts))
      const sentNotes: string[] = []
      datagrams.forEach((d, n) => {
        if (notifyAt.includes(n)) {
          const text = `n${n}`
          sentNotes.push(text)
          kernel.deliver(notification(NOTIFY, Buffer.from(text)))
        }
        kernel.deliver(d)
      })
      const got = await Promise.all(results)
      const want = kinds.map((k, i) => {
        const parts = (n: number) => Array.from({ length: n }, (_, j) => `r${i}p${j}`)
        switch (k.kind) {
          case 'ack':
            return { ok: [] }
          case 'errno':
            return { err: `LVSD_NL_KERNEL:${k.errno}` }
          case 'replies':
          case 'dump':
            return { ok: parts(k.n) }
          case 'dump-error':
            return { err: 'LVSD_NL_KERNEL:EINTR' }
        }
        throw new Error('unknown kind')
      })
      t.deepEqual(got, want)
      t.deepEqual(seen, sentNotes)
      t.is(client.outstanding, 0)
      t.is(clock.armed.length, 0, 'a deadline timer outlived its requests')
      t.is(client.staleReplies, 0)
    }),
    { seed: 0x5eed, numRuns: 300 },
  )
})

test('a request whose answer never comes times out alone; the others settle and a late answer is counted stale', async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(kind, { minLength: 2, maxLength: 6 }), fc.nat(), async (kinds, pick) => {
      const lost = pick % kinds.length
      const kernel = new FakeKernel(() => undefined)
      const clock = new VirtualClock()
      const client = new NetlinkClient(kernel, { timers: clock })
      const results = kinds.map((k, i) =>
        client
          .request({ type: k.kind.startsWith('dump') ? DUMP_TYPE : CMD, flags: 0, payload: Buffer.from(`q${i}`) })
          .then(
            () => 'settled',
            (e: unknown) => (isLvsdError(e) ? e.code : String(e)),
          ),
      )
      kinds.forEach((k, i) => {
        if (i !== lost) for (const d of pack(answer(k, kernel.sent[i] as NlMessage, i), [true])) kernel.deliver(d)
      })
      clock.advance(5000) // the client's default timeout
      const got = await Promise.all(results)
      t.is(got[lost], 'LVSD_NL_TIMEOUT')
      got.forEach((g, i) => {
        if (i !== lost) t.not(g, 'LVSD_NL_TIMEOUT', `request ${i} of ${kinds.map((k) => k.kind).join(',')}`)
      })
      // the lost request's answer, arriving after its timeout, is dropped and counted
      const late = answer(kinds[lost] as Kind, kernel.sent[lost] as NlMessage, lost)
      kernel.deliver(late)
      t.true(client.staleReplies >= 1)
      t.is(client.outstanding, 0)
    }),
    { seed: 0x1057, numRuns: 200 },
  )
})
