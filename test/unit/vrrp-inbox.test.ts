// The VRRP worker's inbox (src/vrrp/inbox.ts): framed structured clones over a byte stream, cut
// anywhere, and the two ends over a real socket pair.
import test from 'ava'
import { closeEnd, streamPair } from '../../src/sys/socket-pair.js'
import { encodeFrame, FrameReader, InboxWriter, MAX_FRAME, readInbox } from '../../src/vrrp/inbox.js'

const MESSAGES: unknown[] = [
  { type: 'counters' },
  { type: 'priority', instance: 'web', source: 'script:chk', delta: -20 },
  { type: 'start', instances: [{ name: 'web', vips: [{ bytes: new Uint8Array([10, 0, 0, 3]) }] }], rtPriority: 10 },
  { type: 'shutdown' },
]

test('frames round-trip, typed arrays included, whatever the chunking', (t) => {
  const bytes = Buffer.concat(MESSAGES.map(encodeFrame))
  for (const size of [1, 2, 3, 5, 7, 64, bytes.length]) {
    const r = new FrameReader()
    const got: unknown[] = []
    for (let at = 0; at < bytes.length; at += size) got.push(...r.push(bytes.subarray(at, at + size)))
    t.deepEqual(got, MESSAGES, `chunks of ${size}`)
  }
})

test('a partial frame waits for the rest', (t) => {
  const f = encodeFrame({ type: 'counters' })
  const r = new FrameReader()
  t.deepEqual(r.push(f.subarray(0, f.length - 1)), [])
  t.deepEqual(r.push(f.subarray(f.length - 1)), [{ type: 'counters' }])
})

test('a length beyond MAX_FRAME is an error, not an allocation', (t) => {
  const head = Buffer.alloc(4)
  head.writeUInt32BE(MAX_FRAME + 1)
  t.throws(() => new FrameReader().push(head), { message: /frame of/ })
})

test('over a socket pair: every message arrives, in order, including one of several MB', async (t) => {
  const [a, b] = streamPair()
  const w = new InboxWriter(a)
  const big = { type: 'update', blob: new Uint8Array(3 * 1024 * 1024).fill(7) }
  const sent = [...MESSAGES, big, { type: 'counters' }]
  const got: unknown[] = []
  const done = new Promise<void>((resolve, reject) => {
    const close = readInbox(
      b,
      (m) => {
        got.push(m)
        if (got.length === sent.length) {
          close()
          resolve()
        }
      },
      reject,
    )
  })
  for (const m of sent) w.postMessage(m)
  await done
  w.close()
  t.is(got.length, sent.length)
  t.deepEqual(got.slice(0, MESSAGES.length), MESSAGES)
  // compared as bytes: ava's deep comparison of 3 MB element by element takes seconds
  const blob = (got[MESSAGES.length] as { blob: Uint8Array }).blob
  t.true(blob instanceof Uint8Array && Buffer.compare(Buffer.from(blob), Buffer.from(big.blob)) === 0)
  t.deepEqual(got.at(-1), { type: 'counters' })
})

test('writing after the reader is gone neither throws nor crashes the writer', async (t) => {
  const [a, b] = streamPair()
  closeEnd(b)
  const w = new InboxWriter(a)
  t.notThrows(() => {
    for (let i = 0; i < 100; i++) w.postMessage({ type: 'counters' })
  })
  await new Promise((r) => setTimeout(r, 20))
  w.close()
})
