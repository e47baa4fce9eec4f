// The kernel's routing of adverts between a channel's sockets (advert-filters.ts), run on an
// interpreter with the kernel's load rules: what goes aside must be what validate() would drop as
// 'vrid' or what an instance accepted last, byte for byte; everything else stays on the main socket;
// each packet lands in exactly one socket.
import test from 'ava'
import { type Addr, parseAddr } from '../../src/net/addr.js'
import { encode } from '../../src/vrrp/packet.js'
import { type LocalInstance, validate } from '../../src/vrrp/validate.js'
import {
  assemble,
  type Expected,
  MAX_EXPECTED_BYTES,
  type Routes,
  routePrograms,
} from '../../src/vrrp/worker/advert-filters.js'
import { type Packet, runBpf } from '../helpers/bpf-run.js'
import { ip4 as ip4Header } from '../helpers/ip4.js'
import { prng } from '../helpers/prng.js'

const SRC4 = parseAddr('10.1.0.2')
const GROUP4 = parseAddr('224.0.0.18')
const SRC6 = parseAddr('fe80::2')
const GROUP6 = parseAddr('ff02::12')

/** `payload` behind an IPv4 header (test/helpers/ip4.ts), from SRC4 unless told. */
const ip4 = (payload: Buffer, o: { ttl?: number; id?: number; proto?: number; src?: Addr } = {}): Buffer =>
  ip4Header(payload, { src: SRC4, ...o })

function advert4(vrid: number, priority = 100): Buffer {
  return encode(
    { version: 3, type: 1, vrid, priority, interval: 100, family: 4, addrs: [parseAddr('10.1.0.100')] },
    { src: SRC4, dst: GROUP4 },
  )
}

function net6(src: Addr, dst: Addr, hop = 255): Uint8Array {
  const h = Buffer.alloc(40)
  h[0] = 0x60
  h[6] = 112
  h[7] = hop
  h.set(src.bytes, 8)
  h.set(dst.bytes, 24)
  return h
}

function advert6(vrid: number, priority = 100): Buffer {
  return encode(
    { version: 3, type: 1, vrid, priority, interval: 100, family: 6, addrs: [parseAddr('2001:db8::100')] },
    { src: SRC6, dst: GROUP6 },
  )
}

/** Which of the three sockets takes `p`. */
function where(r: Routes, p: Packet): string[] {
  const progs = routePrograms(r)
  return (['main', 'foreign', 'repeat'] as const).filter((k) => runBpf(progs[k], p) !== 0)
}

const local4: LocalInstance = {
  vrid: 7,
  version: 3,
  family: 4,
  priority: 100,
  advertMs: 1000,
  vips: [parseAddr('10.1.0.100')],
  ownAddrs: [],
}

test('IPv4: another VRID goes to the foreign socket, ours and the malformed stay on the main one', (t) => {
  const r: Routes = { family: 4, vrids: [7, 9], expected: [] }
  t.deepEqual(where(r, { data: ip4(advert4(8)) }), ['foreign'])
  t.deepEqual(where(r, { data: ip4(advert4(7)) }), ['main'])
  t.deepEqual(where(r, { data: ip4(advert4(9)) }), ['main'])
  // what validate() drops for another reason before the VRID is counted for that reason
  t.deepEqual(where(r, { data: ip4(advert4(8), { ttl: 254 }) }), ['main'])
  t.deepEqual(where(r, { data: ip4(advert4(8), { proto: 17 }) }), ['main'])
  t.deepEqual(where(r, { data: ip4(advert4(8)).subarray(0, 30) }), ['main'], 'cut short')
  t.deepEqual(where(r, { data: ip4(advert4(8)).subarray(0, 12) }), ['main'], 'shorter than a header')
  t.deepEqual(where(r, { data: Buffer.concat([ip4(Buffer.alloc(4))]) }), ['main'], 'no VRRP header')
  const badVersion = ip4(advert4(8))
  badVersion[0] = 0x55
  t.deepEqual(where(r, { data: badVersion }), ['main'])
  t.deepEqual(where({ ...r, vrids: [] }, { data: ip4(advert4(8)) }), ['main'], 'no instance yet: nothing aside')
})

test('IPv4: an exact repeat of the expected advert goes aside whatever its identification', (t) => {
  const first = ip4(advert4(7), { id: 1 })
  const r: Routes = { family: 4, vrids: [7], expected: [{ family: 4, datagram: first }] }
  t.deepEqual(where(r, { data: first }), ['repeat'])
  t.deepEqual(where(r, { data: ip4(advert4(7), { id: 999 }) }), ['repeat'])
  t.deepEqual(where(r, { data: ip4(advert4(7, 101)) }), ['main'], 'another priority')
  t.deepEqual(where(r, { data: ip4(advert4(7), { src: parseAddr('10.1.0.3') }) }), ['main'], 'another sender')
  t.deepEqual(where(r, { data: Buffer.concat([first, Buffer.alloc(4)]) }), ['main'], 'longer')
  // every byte counts except the identification and the header checksum
  for (let i = 0; i < first.length; i++) {
    if (i === 4 || i === 5 || i === 10 || i === 11) continue
    const changed = Buffer.from(first)
    changed[i] = (changed[i] ?? 0) ^ 0x01
    t.notDeepEqual(where(r, { data: changed }), ['repeat'], `byte ${i} changed`)
  }
})

test('IPv6: the hop limit and the addresses come from the network header', (t) => {
  const payload = advert6(5)
  const e: Expected = { family: 6, payload, src: SRC6.bytes, dst: GROUP6.bytes }
  const r: Routes = { family: 6, vrids: [5], expected: [e] }
  t.deepEqual(where(r, { data: payload, net: net6(SRC6, GROUP6) }), ['repeat'])
  t.deepEqual(where(r, { data: payload, net: net6(SRC6, GROUP6, 64) }), ['main'], 'hop limit')
  t.deepEqual(where(r, { data: payload, net: net6(parseAddr('fe80::3'), GROUP6) }), ['main'], 'another sender')
  t.deepEqual(where(r, { data: payload, net: net6(SRC6, parseAddr('fe80::1')) }), ['main'], 'sent to us alone')
  t.deepEqual(where(r, { data: advert6(6), net: net6(SRC6, GROUP6) }), ['foreign'])
  t.deepEqual(where(r, { data: advert6(6), net: net6(SRC6, GROUP6, 1) }), ['main'])
  t.deepEqual(where(r, { data: payload.subarray(0, 4), net: net6(SRC6, GROUP6) }), ['main'])
})

test('an advert too long to compare is not set aside; the others still are', (t) => {
  const long = Buffer.alloc(MAX_EXPECTED_BYTES + 4, 1)
  long[1] = 7 // our VRID: too long to expect, so it stays on the main socket
  const short = ip4(advert4(7))
  const r: Routes = {
    family: 4,
    vrids: [7],
    expected: [
      { family: 4, datagram: ip4(long) },
      { family: 4, datagram: short },
    ],
  }
  t.deepEqual(where(r, { data: ip4(long) }), ['main'])
  t.deepEqual(where(r, { data: short }), ['repeat'])
})

test('every packet lands in exactly one socket, and aside only what validate() drops as vrid or was accepted', (t) => {
  const rnd = prng(17)
  const expectedDatagram = ip4(advert4(7), { id: 3 })
  const r: Routes = { family: 4, vrids: [7, 9], expected: [{ family: 4, datagram: expectedDatagram }] }
  const progs = routePrograms(r)
  const seen = { main: 0, foreign: 0, repeat: 0 }
  for (let n = 0; n < 20_000; n++) {
    // mutations of real adverts reach the interesting branches; pure noise covers the rest
    let data: Buffer
    const kind = n % 4
    if (kind === 0) data = Buffer.from(Array.from({ length: Math.floor(rnd() * 80) }, () => Math.floor(rnd() * 256)))
    else {
      data = ip4(advert4([7, 8, 9, 200][Math.floor(rnd() * 4)] ?? 8), { id: Math.floor(rnd() * 65536) })
      if (kind === 2) data[Math.floor(rnd() * data.length)] = Math.floor(rnd() * 256)
      if (kind === 3 && rnd() < 0.5) data = data.subarray(0, Math.floor(rnd() * data.length))
    }
    const to = (['main', 'foreign', 'repeat'] as const).filter((k) => runBpf(progs[k], { data }) !== 0)
    t.is(to.length, 1, `packet ${data.toString('hex')} went to ${to.join(',') || 'nowhere'}`)
    const [sock] = to
    if (!sock) continue
    seen[sock]++
    if (sock === 'foreign') {
      const v = validate(data, { family: 4 }, local4)
      t.true(!v.ok && v.reason === 'vrid', `foreign but validate says ${JSON.stringify(v)}`)
    }
    if (sock === 'repeat') {
      const same = Buffer.from(data)
      same.writeUInt16BE(expectedDatagram.readUInt16BE(4), 4)
      same.writeUInt16BE(expectedDatagram.readUInt16BE(10), 10)
      t.deepEqual(same, expectedDatagram)
    }
  }
  t.true(seen.foreign > 1000 && seen.repeat > 100 && seen.main > 1000, JSON.stringify(seen))
})

test('the assembler refuses a conditional jump it cannot encode', (t) => {
  const far = Array.from({ length: 300 }, () => ({ code: 0x06, k: 0 }))
  t.throws(() => assemble([{ code: 0x15, k: 1, jt: 'end' }, ...far, { label: 'end' }, { code: 0x06, k: 0 }]), {
    message: /255/,
  })
})
