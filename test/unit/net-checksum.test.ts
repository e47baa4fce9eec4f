// The Internet checksum (RFC 1071) and the IPv4/IPv6 pseudo-headers, checked against RFC 1071's
// worked example, a textbook IPv4 header and packets captured from keepalived 2.2.7.
import test from 'ava'
import { parseAddr } from '../../src/net/addr.js'
import { finish, internetChecksum, pseudoChecksum, pseudoHeaderSum, sum16 } from '../../src/net/checksum.js'
import { hexFixture, prng } from '../helpers/codec.js'

test('RFC 1071 §3 example: words 0001 f203 f4f5 f6f7 sum to ddf2, checksum 220d', (t) => {
  const b = Buffer.from('0001f203f4f5f6f7', 'hex')
  t.is(sum16(b), 0x2ddf0)
  t.is(finish(sum16(b)), 0x220d)
  t.is(internetChecksum(b), 0x220d)
})

test('an IPv4 header with its checksum in place sums to 0; with the field zeroed gives that checksum', (t) => {
  const h = Buffer.from('450000730000400040110000c0a80001c0a800c7', 'hex')
  t.is(internetChecksum(h), 0xb861)
  h.writeUInt16BE(0xb861, 10)
  t.is(internetChecksum(h), 0)
})

test('an odd trailing byte is the high byte of a zero-padded word', (t) => {
  t.is(internetChecksum(Buffer.from([0x12, 0x34, 0x56])), internetChecksum(Buffer.from([0x12, 0x34, 0x56, 0x00])))
  t.is(internetChecksum(Buffer.from([0xab])), ~0xab00 & 0xffff)
})

test('offset and length select the range; sums chain across even-length chunks', (t) => {
  const rnd = prng(7)
  const b = Buffer.from(Array.from({ length: 101 }, () => Math.floor(rnd() * 256)))
  t.is(internetChecksum(b, 10, 40), internetChecksum(b.subarray(10, 50)))
  t.is(finish(sum16(b, 50, 51, sum16(b, 0, 50))), internetChecksum(b))
})

test('carries fold repeatedly: all-ones data checksums to 0', (t) => {
  t.is(internetChecksum(Buffer.alloc(4096, 0xff)), 0)
})

test('IPv4 pseudo-header: keepalived VRRPv3 advert verifies over src, dst, proto 112, length', (t) => {
  const frame = hexFixture('vrrp/v3-ipv4-advert.hex')
  const vrrp = frame.subarray(14 + 20)
  const src = parseAddr('10.0.0.5')
  const dst = parseAddr('224.0.0.18')
  t.is(pseudoChecksum(src, dst, 112, vrrp), 0)
  // the same bytes without the pseudo-header do not verify: v3 really covers it
  t.not(internetChecksum(vrrp), 0)
  t.not(pseudoChecksum(src, parseAddr('224.0.0.19'), 112, vrrp), 0)
})

test('IPv6 pseudo-header: keepalived VRRPv3 IPv6 advert and unsolicited NA verify', (t) => {
  const v6 = hexFixture('vrrp/v3-ipv6-advert.hex')
  t.is(pseudoChecksum(parseAddr('fe80::c0:ff:fe00:5'), parseAddr('ff02::12'), 112, v6.subarray(14 + 40)), 0)
  const na = hexFixture('vrrp/na.hex')
  t.is(pseudoChecksum(parseAddr('fd00:c::3'), parseAddr('ff02::1'), 58, na.subarray(14 + 40)), 0)
})

test('IPv6 pseudo-header carries a 32-bit length: lengths past 65535 change the sum', (t) => {
  const a = parseAddr('::1')
  t.is(pseudoHeaderSum(a, a, 58, 0x10000) - pseudoHeaderSum(a, a, 58, 0), 1)
  const v4 = parseAddr('0.0.0.1')
  t.is(pseudoHeaderSum(v4, v4, 112, 20), 2 + 112 + 20)
})
