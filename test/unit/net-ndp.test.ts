// Unsolicited Neighbor Advertisements (RFC 4861 §4.4) as keepalived 2.2.7 sends them for a VIP.
import test from 'ava'
import { parseAddr } from '../../src/net/addr.js'
import { pseudoChecksum } from '../../src/net/checksum.js'
import {
  decode,
  encode,
  encodeInto,
  type NeighborAdvert,
  size,
  targetLinkAddr,
  unsolicitedNa,
} from '../../src/net/ndp.js'
import { hexFixture, roundTrip } from '../helpers/codec.js'

const mac = Uint8Array.from([0x02, 0xc0, 0, 0, 0, 0x05])
const vip = parseAddr('fd00:c::3')
// keepalived sends its NA from the VIP to all-nodes
const ph = { src: vip, dst: parseAddr('ff02::1') }
const icmp = (): Buffer => Buffer.from(hexFixture('vrrp/na.hex').subarray(14 + 40))

test('keepalived NA is type 136, R=0 S=0 O=1, target = VIP, TLLA option = MAC', (t) => {
  const { value, bytes } = decode(icmp())
  t.is(bytes, 32)
  t.deepEqual(value, unsolicitedNa(vip, mac))
  t.deepEqual(targetLinkAddr(value), mac)
})

test('our NA with the pseudo-header checksum equals keepalived 2.2.7 byte for byte', (t) => {
  t.deepEqual(encode(unsolicitedNa(vip, mac), ph), icmp())
})

test('without a pseudo-header the checksum is left 0 for the kernel to fill', (t) => {
  const b = encode(unsolicitedNa(vip, mac))
  t.is(b.readUInt16BE(2), 0)
  const want = icmp()
  want.writeUInt16BE(0, 2)
  t.deepEqual(b, want)
  t.is(pseudoChecksum(ph.src, ph.dst, 58, icmp()), 0)
})

const flagsAndOptions: NeighborAdvert = {
  code: 0,
  router: true,
  solicited: true,
  override: false,
  reserved: 0x1234567,
  target: parseAddr('2001:db8::1'),
  options: [
    { type: 2, data: mac },
    { type: 99, data: new Uint8Array(14).fill(7) },
  ],
}

test('round trip: unsolicited NA, and one with R, S, reserved bits and an unknown option', (t) => {
  const codec = { size, encode: (v: NeighborAdvert) => encode(v), encodeInto, decode }
  roundTrip(t, codec, unsolicitedNa(vip, mac))
  roundTrip(t, codec, flagsAndOptions)
  roundTrip(t, codec, { ...flagsAndOptions, options: [] })
})

/** The buffer with one byte / 16-bit word overwritten: hostile variants of a good packet. */
const u8 = (b: Buffer, at: number, v: number): Buffer => {
  b[at] = v
  return b
}

const hostile: Array<[string, (b: Buffer) => Buffer, string]> = [
  ['23 bytes', (b) => b.subarray(0, 23), 'LVSD_DECODE_TRUNCATED'],
  ['option header cut after one byte', (b) => b.subarray(0, 25), 'LVSD_DECODE_TRUNCATED'],
  ['option length says 16 bytes, 8 present', (b) => u8(b, 25, 2), 'LVSD_DECODE_TRUNCATED'],
  ['option of length 0 (RFC 4861 §4.6: invalid)', (b) => u8(b, 25, 0), 'LVSD_DECODE_INVALID'],
  ['type 135 (a solicitation)', (b) => u8(b, 0, 135), 'LVSD_DECODE_INVALID'],
]
for (const [title, f, code] of hostile) {
  test(`hostile NA: ${title} → ${code}`, (t) => {
    t.throws(() => decode(f(icmp())), { code })
  })
}

test('encode refuses an IPv4 target and reserved bits beyond 29', (t) => {
  t.throws(() => encode(unsolicitedNa(parseAddr('10.0.0.3'), mac)), { code: 'LVSD_ENCODE_INVALID' })
  t.throws(() => encode({ ...unsolicitedNa(vip, mac), reserved: 2 ** 29 }), { code: 'LVSD_ENCODE_INVALID' })
})
