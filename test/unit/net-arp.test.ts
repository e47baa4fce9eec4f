// Gratuitous ARP frames (RFC 826 / RFC 5227 §3) as keepalived 2.2.7 sends them for a VIP.
import test from 'ava'
import { parseAddr } from '../../src/net/addr.js'
import { type ArpFrame, BROADCAST, decode, encode, encodeInto, gratuitousArp, size } from '../../src/net/arp.js'
import { hexFixture, roundTrip } from '../helpers/codec.js'

const mac = Uint8Array.from([0x02, 0xc0, 0, 0, 0, 0x05])
const codec = { size, encode, encodeInto, decode }

test('our GARP for 10.0.0.3 equals keepalived 2.2.7 byte for byte', (t) => {
  const wire = hexFixture('vrrp/garp.hex')
  t.is(wire.length, 42)
  t.deepEqual(encode(gratuitousArp(mac, parseAddr('10.0.0.3'))), wire)
})

test('keepalived GARP decodes as a broadcast request with spa = tpa = VIP and tha = ff:ff:ff:ff:ff:ff', (t) => {
  const { value, bytes } = decode(hexFixture('vrrp/garp.hex'))
  t.is(bytes, 42)
  t.deepEqual(value, {
    dst: BROADCAST,
    src: mac,
    op: 1,
    sha: mac,
    spa: parseAddr('10.0.0.3'),
    tha: BROADCAST,
    tpa: parseAddr('10.0.0.3'),
  })
})

test('round trip: GARP and an ARP reply with distinct addresses', (t) => {
  roundTrip(t, codec, gratuitousArp(mac, parseAddr('192.0.2.200')))
  const reply: ArpFrame = {
    dst: Uint8Array.from([2, 0, 0, 0, 0, 1]),
    src: mac,
    op: 2,
    sha: mac,
    spa: parseAddr('10.0.0.5'),
    tha: Uint8Array.from([2, 0, 0, 0, 0, 1]),
    tpa: parseAddr('10.0.0.100'),
  }
  roundTrip(t, codec, reply)
})

test('a frame padded to the 60-byte Ethernet minimum decodes its 42 bytes', (t) => {
  const padded = Buffer.concat([hexFixture('vrrp/garp.hex'), Buffer.alloc(18)])
  t.is(decode(padded).bytes, 42)
})

/** The buffer with one byte / 16-bit word overwritten: hostile variants of a good packet. */
const u8 = (b: Buffer, at: number, v: number): Buffer => {
  b[at] = v
  return b
}
const u16 = (b: Buffer, at: number, v: number): Buffer => {
  b.writeUInt16BE(v, at)
  return b
}

const hostile: Array<[string, (b: Buffer) => Buffer, string]> = [
  ['41 bytes', (b) => b.subarray(0, 41), 'LVSD_DECODE_TRUNCATED'],
  ['empty', () => Buffer.alloc(0), 'LVSD_DECODE_TRUNCATED'],
  ['ethertype IPv4', (b) => u16(b, 12, 0x0800), 'LVSD_DECODE_INVALID'],
  ['hardware type 6', (b) => u16(b, 14, 6), 'LVSD_DECODE_INVALID'],
  ['protocol type IPv6', (b) => u16(b, 16, 0x86dd), 'LVSD_DECODE_INVALID'],
  ['hlen 8', (b) => u8(b, 18, 8), 'LVSD_DECODE_INVALID'],
  ['plen 16', (b) => u8(b, 19, 16), 'LVSD_DECODE_INVALID'],
]
for (const [title, f, code] of hostile) {
  test(`hostile ARP: ${title} → ${code}`, (t) => {
    t.throws(() => decode(f(Buffer.from(hexFixture('vrrp/garp.hex')))), { code })
  })
}

test('encode refuses an IPv6 address, a 5-byte MAC and a buffer too short', (t) => {
  t.throws(() => encode(gratuitousArp(mac, parseAddr('fd00::3'))), { code: 'LVSD_ENCODE_INVALID' })
  t.throws(() => encode(gratuitousArp(mac.subarray(0, 5), parseAddr('10.0.0.3'))), { code: 'LVSD_ENCODE_INVALID' })
  t.throws(() => encodeInto(gratuitousArp(mac, parseAddr('10.0.0.3')), Buffer.alloc(50), 9), {
    code: 'LVSD_ENCODE_INVALID',
  })
})
