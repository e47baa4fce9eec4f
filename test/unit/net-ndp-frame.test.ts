// The doctor's IPv6 neighbour discovery frames: its Neighbor Solicitation equals the one Linux sends
// byte for byte, the NS message and frame round-trip, Linux's Neighbor Advertisement reads back as the
// server's MAC, and no frame, however broken, does worse than undefined or an LvsdError.
import test from 'ava'
import fc from 'fast-check'
import { formatAddr, parseAddr } from '../../src/net/addr.js'
import { pseudoChecksum } from '../../src/net/checksum.js'
import { multicastMac, readIpv6Header, solicitedNode, writeIpv6Header } from '../../src/net/ipv6-header.js'
import * as frame from '../../src/net/ndp-frame.js'
import * as ns from '../../src/net/ndp-solicit.js'
import { hexFixture, roundTrip } from '../helpers/codec.js'

const directorMac = Uint8Array.of(0x02, 0xd0, 0, 0, 0, 0x01)
const serverMac = Uint8Array.of(0x02, 0xd0, 0, 0, 0, 0x11)
const director = parseAddr('fd00:77::1')
const server = parseAddr('fd00:77::11')

test('the solicited-node group is ff02::1:ff and the last 24 bits; its MAC is 33:33 and the last 32 (RFC 4291, RFC 2464)', (t) => {
  t.is(formatAddr(solicitedNode(parseAddr('2001:db8::1:2345:6789'))), 'ff02::1:ff45:6789')
  t.is(formatAddr(solicitedNode(server)), 'ff02::1:ff00:11')
  t.deepEqual([...multicastMac(parseAddr('ff02::1:ff45:6789'))], [0x33, 0x33, 0xff, 0x45, 0x67, 0x89])
  t.is(t.throws(() => solicitedNode(parseAddr('10.0.0.1')))?.name, 'LvsdError')
  t.is(t.throws(() => multicastMac(server))?.name, 'LvsdError', 'not a multicast group')
})

test("the doctor's NS for a server equals Linux's own NS for it, byte for byte", (t) => {
  const linux = hexFixture('doctor/ns.hex')
  const f = frame.nsFor(server, director, directorMac)
  t.deepEqual(frame.encode(f), linux)
  const ip = readIpv6Header(linux, 14)
  t.is(ip?.hopLimit, 255)
  t.is(pseudoChecksum(director, solicitedNode(server), 58, linux.subarray(54)), 0, 'ICMPv6 checksum verifies')
})

test("sent to one server's MAC, the NS keeps the solicited-node destination: the question a router asks, heard by one host", (t) => {
  const f = frame.nsFor(parseAddr('fd00:77::100'), director, directorMac, serverMac)
  const b = frame.encode(f)
  t.deepEqual([...b.subarray(0, 6)], [...serverMac])
  t.is(formatAddr(readIpv6Header(b, 14)?.dst ?? director), 'ff02::1:ff00:100')
})

const nsCodec = {
  size: ns.size,
  encode: (v: ns.NeighborSolicit) => ns.encode(v),
  encodeInto: ns.encodeInto,
  decode: ns.decode,
}
const frameCodec = { size: frame.size, encode: frame.encode, encodeInto: frame.encodeInto, decode: frame.decode }

test('round trip: the NS message (with reserved bits and an unknown option, or none) and the whole NS frame', (t) => {
  roundTrip(t, nsCodec, ns.solicit(server, directorMac))
  roundTrip(t, nsCodec, {
    code: 0,
    reserved: 0xdeadbeef,
    target: server,
    options: [
      { type: 1, data: directorMac },
      { type: 99, data: new Uint8Array(14).fill(3) },
    ],
  })
  roundTrip(t, nsCodec, { code: 0, target: server, options: [] })
  roundTrip(t, frameCodec, frame.nsFor(server, director, directorMac))
  roundTrip(t, frameCodec, frame.nsFor(server, director, directorMac, serverMac))
})

test("Linux's NA reads back as the server's MAC from its target link-layer option, answering this director", (t) => {
  const seen = frame.readNa(hexFixture('doctor/na.hex'))
  t.truthy(seen)
  if (!seen) return
  t.is(formatAddr(seen.na.target), 'fd00:77::11')
  t.is(formatAddr(seen.dst), 'fd00:77::1')
  t.true(seen.na.solicited && seen.na.override && !seen.na.router)
  t.deepEqual([...frame.naMac(seen)], [...serverMac])
  t.deepEqual([...seen.dstMac], [...directorMac])
})

test('an NA without a target link-layer option gives the MAC of the frame it came in', (t) => {
  const b = Buffer.from(hexFixture('doctor/na.hex').subarray(0, 14 + 40 + 24))
  b.writeUInt16BE(24, 14 + 4)
  const seen = frame.readNa(b)
  t.deepEqual(seen?.na.options, [])
  t.deepEqual([...(seen ? frame.naMac(seen) : [])], [...serverMac])
})

test('readNa: other frames are undefined (ARP, IPv4, an NS, TCP, an NA with hop limit 254); a cut NA is an LvsdError', async (t) => {
  const na = () => Buffer.from(hexFixture('doctor/na.hex'))
  const arpFrame = Buffer.alloc(60)
  arpFrame.writeUInt16BE(0x0806, 12)
  t.is(frame.readNa(arpFrame), undefined)
  t.is(frame.readNa(hexFixture('doctor/ns.hex')), undefined)
  t.is(frame.readNa(hexFixture('doctor/synack6.hex')), undefined)
  const hop = na()
  hop[14 + 7] = 254
  t.is(frame.readNa(hop), undefined, 'RFC 4861 §7.1.2: not from this link')
  const v4 = na()
  v4[14] = 0x45
  t.is(frame.readNa(v4), undefined)
  t.is(t.throws(() => frame.readNa(na().subarray(0, 80)))?.name, 'LvsdError', 'payload length says more')
  const short = na()
  short.writeUInt16BE(20, 14 + 4)
  t.is(t.throws(() => frame.readNa(short.subarray(0, 74)))?.name, 'LvsdError', 'an NA of 20 bytes')
  const padded = Buffer.concat([na(), Buffer.alloc(10)])
  t.is(formatAddr(frame.readNa(padded)?.na.target ?? director), 'fd00:77::11', 'Ethernet padding is not read')
})

test('hostile NS messages and frames throw LvsdError with the code that names the fault', (t) => {
  const good = () => ns.encode(ns.solicit(server, directorMac))
  t.throws(() => ns.decode(good().subarray(0, 23)), { code: 'LVSD_DECODE_TRUNCATED' })
  const zero = good()
  zero[25] = 0
  t.throws(() => ns.decode(zero), { code: 'LVSD_DECODE_INVALID' })
  const type = good()
  type[0] = 136
  t.throws(() => ns.decode(type), { code: 'LVSD_DECODE_INVALID' })
  const hop = Buffer.from(hexFixture('doctor/ns.hex'))
  hop[14 + 7] = 64
  t.throws(() => frame.decode(hop), { code: 'LVSD_DECODE_INVALID' })
  t.throws(() => frame.decode(hexFixture('doctor/na.hex')), { code: 'LVSD_DECODE_INVALID' })
})

test('encoding refuses what cannot be sent: IPv4 addresses, short MACs, a flow label of 21 bits', (t) => {
  t.throws(() => frame.encode(frame.nsFor(server, parseAddr('10.0.0.1'), directorMac)), { code: 'LVSD_ENCODE_INVALID' })
  t.throws(() => frame.encode({ ...frame.nsFor(server, director, directorMac), srcMac: new Uint8Array(5) }), {
    code: 'LVSD_ENCODE_INVALID',
  })
  t.throws(() => ns.encode(ns.solicit(parseAddr('10.0.0.1'), directorMac)), { code: 'LVSD_ENCODE_INVALID' })
  const h = { trafficClass: 0, flowLabel: 2 ** 20, payloadLength: 0, nextHeader: 58, hopLimit: 255 }
  t.throws(() => writeIpv6Header({ ...h, src: director, dst: server }, Buffer.alloc(40), 0), {
    code: 'LVSD_ENCODE_INVALID',
  })
  const ok = Buffer.alloc(40)
  writeIpv6Header({ ...h, flowLabel: 0xabcde, trafficClass: 0xb8, src: director, dst: server }, ok, 0)
  t.like(readIpv6Header(ok, 0), { flowLabel: 0xabcde, trafficClass: 0xb8, nextHeader: 58, hopLimit: 255 })
})

test('property: readNa and decode on any bytes, or any mutation of a real NA, return or throw only LvsdError', async (t) => {
  const na = hexFixture('doctor/na.hex')
  const safe = (b: Buffer) => {
    for (const fn of [() => frame.readNa(b), () => frame.decode(b)]) {
      try {
        fn()
      } catch (e) {
        if ((e as Error).name !== 'LvsdError') throw e
      }
    }
  }
  await fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), (bytes) => safe(Buffer.from(bytes))),
    { seed: 17, numRuns: 2000 },
  )
  await fc.assert(
    fc.property(fc.nat(na.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(na.length), (at, v, cut) => {
      const b = Buffer.from(na)
      b[at] = v
      safe(b.subarray(0, cut))
    }),
    { seed: 17, numRuns: 3000 },
  )
  t.pass('fc.assert throws on the first counterexample (shrunk, with its seed); ava needs one assertion')
})
