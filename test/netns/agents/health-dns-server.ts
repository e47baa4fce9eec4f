// Netns agent: a DNS responder over UDP (RFC 1035 §4.1) whose answers a test steers through a mode file.
// It answers every query for an A record with one address, and any other type with no answers.
// Modes: ok (NOERROR, A 10.62.0.53), wrong (NOERROR, A 10.62.0.54), servfail (rcode 2),
// nxdomain (rcode 3), silent (no reply), slow (the ok reply after 2 s),
// pattern:<o|x>… (each query takes the next letter: o = ok, x = servfail; then ok),
// bomb (our id, a 64 KB reply whose 65,535 claimed answers each expand to a 16 KB name through
// compression pointers: what a hostile server sends to stall the checker), flood (20 such bombs with
// wrong ids, then the ok reply).
// Encoded here by hand, not with src/health/dns-message.ts, so the checker is not tested against itself.
import dgram from 'node:dgram'
import { readFileSync } from 'node:fs'
import { compressionBomb } from '../../helpers/dns-bomb.js'

const [host = '::', port = '53', modeFile = ''] = process.argv.slice(2)
let pattern = ''
let patternAt = 0

function mode(): string {
  try {
    return readFileSync(modeFile, 'utf8').trim()
  } catch {
    return 'ok'
  }
}

/** End of the question section (one question): past the name's labels, then type and class. */
function questionEnd(q: Buffer): number {
  let off = 12
  while (off < q.length && q[off] !== 0) off += 1 + (q[off] ?? 0)
  return off + 1 + 4
}

function reply(q: Buffer, rcode: number, address: number[] | undefined): Buffer {
  const end = questionEnd(q)
  const qtype = q.readUInt16BE(end - 4)
  const answer = address && qtype === 1 && rcode === 0
  const head = Buffer.alloc(12)
  head.writeUInt16BE(q.readUInt16BE(0), 0) // the query's id
  head.writeUInt16BE(0x8000 | 0x0400 | (q.readUInt16BE(2) & 0x0100) | rcode, 2) // QR, AA, RD copied
  head.writeUInt16BE(1, 4)
  head.writeUInt16BE(answer ? 1 : 0, 6)
  const parts = [head, q.subarray(12, end)]
  if (answer) {
    // name = pointer to the question's name (offset 12), type A, class IN, TTL 60, 4 bytes
    parts.push(Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...address]))
  }
  return Buffer.concat(parts)
}

const sock = dgram.createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' })
sock.on('message', (q, from) => {
  if (q.length < 12) return
  let m = mode()
  if (m.startsWith('pattern:')) {
    if (m !== pattern) {
      pattern = m
      patternAt = 0
    }
    m = m.slice('pattern:'.length)[patternAt++] === 'x' ? 'servfail' : 'ok'
  }
  console.log(JSON.stringify({ event: 'query', mode: m, id: q.readUInt16BE(0) }))
  const send = (b: Buffer) => sock.send(b, from.port, from.address)
  if (m === 'silent') return
  if (m === 'bomb') return send(compressionBomb(q.readUInt16BE(0)))
  if (m === 'flood') {
    for (let i = 1; i <= 20; i++) send(compressionBomb((q.readUInt16BE(0) + i) & 0xffff))
    return send(reply(q, 0, [10, 62, 0, 53]))
  }
  if (m === 'slow') return void setTimeout(() => send(reply(q, 0, [10, 62, 0, 53])), 2000)
  if (m === 'wrong') return send(reply(q, 0, [10, 62, 0, 54]))
  if (m === 'servfail') return send(reply(q, 2, undefined))
  if (m === 'nxdomain') return send(reply(q, 3, undefined))
  send(reply(q, 0, [10, 62, 0, 53]))
})
sock.bind(Number(port), host, () => console.log(JSON.stringify({ event: 'ready', pid: process.pid })))
