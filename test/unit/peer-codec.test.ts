// The peer channel's pure parts: the signed datagram codec, the replay guard, and PeerLink's judgement
// of hostile input (wrong key, replay, reflection, stale, random bytes) — dropped and counted, never accepted.
import { chmodSync, chownSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import fc from 'fast-check'
import { isLvsdError } from '../../src/errors.js'
import { decode, encode, HEADER, MAC_LEN, open, TYPE_STATE } from '../../src/peer/codec.js'
import { readKeyFile } from '../../src/peer/key-file.js'
import { PeerLink } from '../../src/peer/link.js'
import type { PeerBody } from '../../src/peer/message.js'
import { parseBody } from '../../src/peer/message.js'
import { ReplayGuard } from '../../src/peer/replay.js'
import { prng } from '../helpers/prng.js'

const KEY = Buffer.from('0123456789abcdef0123456789abcdef')
const OTHER = Buffer.from('fedcba9876543210fedcba9876543210')
const NOW = 1_767_268_800_000

function body(over: Partial<PeerBody> = {}): Omit<PeerBody, 'ack'> {
  return {
    version: '0.1.0',
    ask: false,
    ops: { 'drain:web/10.0.0.7:80': { v: true, ver: NOW, node: 'lb01' } },
    health: { 'web/10.0.0.7:80': 'up', 'web/10.0.0.8:80': 'down' },
    fingerprints: { 'service:web': '0123456789abcdef' },
    instances: { web: { state: 'MASTER', priority: 150, effectivePriority: 150, advertMs: 1000 } },
    sync: 'master',
    conns: { web: 12 },
    ...over,
  }
}

const env = { type: TYPE_STATE, node: 'lb01', boot: NOW - 5000, nonce: 77, seq: 3, sentAt: NOW, body: body() }

test('a sealed datagram opens with the same key to the same envelope', (t) => {
  const buf = encode(env, KEY)
  const o = open(buf, KEY)
  t.true(o.ok)
  if (o.ok) t.deepEqual(o.value, env)
  t.is(buf.length, HEADER + 4 + Buffer.byteLength(JSON.stringify(env.body)) + MAC_LEN)
})

test('the wrong key is an auth failure, checked before the body is parsed', (t) => {
  t.like(open(encode(env, KEY), OTHER), { ok: false, reason: 'auth' })
  // a body that is not JSON, correctly sized, under a MAC of another key: auth, not malformed
  const buf = encode(env, OTHER)
  buf.write('}', HEADER + 4)
  t.like(open(buf, KEY), { ok: false, reason: 'auth' })
})

test('any single flipped bit is refused', (t) => {
  const buf = encode(env, KEY)
  for (let i = 0; i < buf.length; i += 7) {
    const b = Buffer.from(buf)
    b[i] = (b[i] ?? 0) ^ 0x10
    t.false(open(b, KEY).ok, `byte ${i}`)
  }
})

test('truncated, padded and foreign datagrams are malformed; decode throws only LvsdError', (t) => {
  const buf = encode(env, KEY)
  t.like(open(buf.subarray(0, 20), KEY), { ok: false, reason: 'malformed' })
  t.like(open(Buffer.concat([buf, Buffer.of(0)]), KEY), { ok: false, reason: 'malformed' })
  t.like(open(Buffer.from('GET / HTTP/1.1\r\n\r\n'.repeat(4)), KEY), { ok: false, reason: 'malformed' })
  const e = t.throws(() => decode(Buffer.alloc(10)))
  t.true(isLvsdError(e, 'LVSD_DECODE_TRUNCATED'))
})

test('encode refuses values that do not fit', (t) => {
  t.true(
    isLvsdError(
      t.throws(() => encode({ ...env, node: 'bad name' }, KEY)),
      'LVSD_ENCODE_INVALID',
    ),
  )
  t.true(
    isLvsdError(
      t.throws(() => encode({ ...env, seq: 2 ** 32 }, KEY)),
      'LVSD_ENCODE_INVALID',
    ),
  )
  const big = body({ health: Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`web/10.0.${i}.1:80`, 'up'])) })
  t.true(
    isLvsdError(
      t.throws(() => encode({ ...env, body: big }, KEY)),
      'LVSD_ENCODE_INVALID',
    ),
  )
})

test('property: every envelope round-trips and every random datagram is refused without a throw', (t) => {
  // fc.assert throws the counterexample when a property fails
  t.notThrows(() =>
    fc.assert(
      fc.property(
        fc.record({
          node: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
          boot: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
          nonce: fc.integer({ min: 0, max: 0xffffffff }),
          seq: fc.integer({ min: 0, max: 0xffffffff }),
          sentAt: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
          body: fc.jsonValue(),
        }),
        (e) => {
          const v = { ...e, type: TYPE_STATE }
          const o = open(encode(v, KEY), KEY)
          return o.ok && JSON.stringify(o.value.body) === JSON.stringify(JSON.parse(JSON.stringify(e.body)))
        },
      ),
    ),
  )
  t.notThrows(() => fc.assert(fc.property(fc.uint8Array({ maxLength: 2000 }), (b) => !open(Buffer.from(b), KEY).ok)))
})

test('parseBody refuses wrong shapes field by field', (t) => {
  t.notThrows(() => parseBody(JSON.parse(JSON.stringify(body()))))
  for (const bad of [
    null,
    [],
    { ...body(), version: 5 },
    { ...body(), ask: 'yes' },
    { ...body(), sync: 'leader' },
    { ...body(), ops: { 'drain:x/1.2.3.4:80': { v: 'yes', ver: 1, node: 'a' } } },
    { ...body(), ops: { 'drain:x/1.2.3.4:80': { v: 70000, ver: 1, node: 'a' } } },
    { ...body(), health: { a: 'sideways' } },
    { ...body(), fingerprints: { a: 'not hex' } },
    { ...body(), instances: { web: { state: 'LEADER', priority: 1, effectivePriority: 1, advertMs: 1 } } },
    { ...body(), conns: { web: -1 } },
    { ...body(), ack: { seq: 'x', heldMs: 0 } },
  ])
    t.true(
      isLvsdError(
        t.throws(() => parseBody(bad)),
        'LVSD_DECODE_INVALID',
      ),
      JSON.stringify(bad)?.slice(0, 80),
    )
})

test('the replay guard accepts only newer (boot, nonce, seq) within the freshness window', (t) => {
  const g = new ReplayGuard(30_000)
  const m = (boot: number, seq: number, sentAt = NOW) => ({ boot, nonce: 1, seq, sentAt })
  t.is(g.check('lb01', m(100, 5), NOW), 'ok')
  t.is(g.check('lb01', m(100, 5), NOW), 'replay')
  t.is(g.check('lb01', m(100, 4), NOW), 'replay')
  t.is(g.check('lb01', m(100, 6), NOW), 'ok')
  // a restart of the sender: a later boot, seq from 1 again
  t.is(g.check('lb01', m(200, 1), NOW), 'ok')
  t.is(g.check('lb01', m(100, 7), NOW), 'replay', 'the old run is over')
  t.is(g.check('lb01', m(200, 2, NOW - 31_000), NOW), 'stale')
  t.is(g.check('lb01', m(200, 2, NOW + 31_000), NOW), 'stale')
  t.is(g.check('lb02', m(100, 1), NOW), 'ok', 'per node')
})

function pair() {
  const a = new PeerLink({ node: 'lb01', key: KEY, boot: NOW - 1000, nonce: 1 })
  const b = new PeerLink({ node: 'lb02', key: KEY, boot: NOW - 900, nonce: 2 })
  return { a, b }
}

test('PeerLink: accepted once; the same datagram again is a replay; the answer measures the round trip', (t) => {
  const { a, b } = pair()
  const m = a.seal(body({ ask: true }), NOW, 1000)
  const r = b.receive(m, '10.0.0.1', NOW, 5000)
  t.true(r.ok)
  t.like(b.receive(m, '10.0.0.1', NOW, 5001), { ok: false, reason: 'replay', firstFromSource: true })
  t.like(b.receive(m, '10.0.0.1', NOW, 5002), { ok: false, reason: 'replay', firstFromSource: false })
  const answer = b.seal(body(), NOW, 5003)
  const back = a.receive(answer, '10.0.0.2', NOW, 1010)
  t.true(back.ok)
  if (back.ok) t.is(back.rttMs, 7, '10 ms minus the 3 ms lb02 held it')
  t.is(b.drops.replay, 2)
  t.is(b.accepted, 1)
})

test('PeerLink: wrong key, own name reflected, stale and foreign datagrams are dropped and counted', (t) => {
  const { a, b } = pair()
  const evil = new PeerLink({ node: 'lb01', key: OTHER, boot: NOW, nonce: 3 })
  t.like(b.receive(evil.seal(body(), NOW, 0), '10.0.0.66', NOW, 0), { ok: false, reason: 'auth' })
  t.like(a.receive(a.seal(body(), NOW, 0), '10.0.0.1', NOW, 0), { ok: false, reason: 'reflected' })
  t.like(b.receive(a.seal(body(), NOW - 60_000, 0), '10.0.0.1', NOW, 0), { ok: false, reason: 'stale' })
  t.like(b.receive(Buffer.from('hello'), '10.0.0.66', NOW, 0), { ok: false, reason: 'malformed' })
  t.deepEqual(b.drops, { auth: 1, malformed: 1, replay: 0, stale: 1, reflected: 0, type: 0 })
  t.is(a.drops.reflected, 1)
  t.is(b.accepted, 0)
})

test('PeerLink: 10,000 random datagrams (and random mutations of a valid one) change nothing and are all counted', (t) => {
  const { a, b } = pair()
  const rnd = prng(12)
  const valid = a.seal(body(), NOW, 0)
  for (let i = 0; i < 10_000; i++) {
    let buf: Buffer
    if (i % 2 === 0) {
      buf = Buffer.alloc(Math.floor(rnd() * 1500))
      for (let j = 0; j < buf.length; j++) buf[j] = Math.floor(rnd() * 256)
    } else {
      buf = Buffer.from(valid)
      const at = Math.floor(rnd() * buf.length)
      buf[at] = (buf[at] ?? 0) ^ (1 + Math.floor(rnd() * 255))
    }
    t.false(b.receive(buf, '10.0.0.66', NOW, i).ok)
  }
  const dropped = Object.values(b.drops).reduce((x, y) => x + y, 0)
  t.is(dropped, 10_000)
  t.is(b.accepted, 0)
  // the genuine datagram still goes through afterwards: nothing was learnt from the noise
  t.true(b.receive(valid, '10.0.0.1', NOW, 0).ok)
})

test('the key file: mode 0600 by root is read; others-readable, group-writable, a symlink or a short key are refused', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-key-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const f = join(dir, 'peer.key')
  writeFileSync(f, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n', { mode: 0o600 })
  chmodSync(f, 0o600)
  t.is(readKeyFile(f, 4242).toString(), 'a'.repeat(32))
  for (const mode of [0o644, 0o604, 0o620]) {
    chmodSync(f, mode)
    const e = t.throws(() => readKeyFile(f, 4242))
    t.true(isLvsdError(e, 'LVSD_PEER_KEY'), mode.toString(8))
    t.regex(String(e?.message), /chmod 600/)
  }
  chmodSync(f, 0o640)
  t.notThrows(() => readKeyFile(f, 4242), 'group may read')
  const link = join(dir, 'link.key')
  symlinkSync(f, link)
  t.regex(String(t.throws(() => readKeyFile(link, 4242))?.message), /symbolic link/)
  const short = join(dir, 'short.key')
  writeFileSync(short, 'abc', { mode: 0o600 })
  t.true(
    isLvsdError(
      t.throws(() => readKeyFile(short, 4242)),
      'LVSD_PEER_KEY',
    ),
  )
  t.true(
    isLvsdError(
      t.throws(() => readKeyFile(join(dir, 'missing'), 4242)),
      'LVSD_PEER_KEY',
    ),
  )
})

test('the key file must be owned by root or by lvsd’s own user', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-key-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const f = join(dir, 'peer.key')
  writeFileSync(f, 'b'.repeat(32), { mode: 0o600 })
  if (process.geteuid?.() !== 0) {
    t.notThrows(() => readKeyFile(f), 'owned by this user')
    return
  }
  chownSync(f, 4242, 4242)
  t.notThrows(() => readKeyFile(f, 4242), 'owned by lvsd’s user')
  t.regex(String(t.throws(() => readKeyFile(f, 0))?.message), /owned by uid 4242/)
})
