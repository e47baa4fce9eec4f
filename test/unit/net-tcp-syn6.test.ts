// The doctor's SYN over IPv6: an Ethernet frame with the fixed IPv6 header (next header 6, no
// extension header) and a TCP SYN whose checksum covers the IPv6 pseudo-header (RFC 8200 §8.1);
// Linux's own SYN-ACK and RST over IPv6 read back; broken frames are undefined or an LvsdError.
import test from 'ava'
import fc from 'fast-check'
import { formatAddr, parseAddr } from '../../src/net/addr.js'
import { pseudoChecksum } from '../../src/net/checksum.js'
import { readIpv6Header } from '../../src/net/ipv6-header.js'
import * as syn from '../../src/net/tcp-syn.js'
import { hexFixture } from '../helpers/codec.js'

const probe: syn.SynProbe = {
  dstMac: Uint8Array.of(2, 0xd0, 0, 0, 0, 0x11),
  srcMac: Uint8Array.of(2, 0xd0, 0, 0, 0, 0x01),
  src: parseAddr('fd00:77::1'),
  dst: parseAddr('fd00:77::100'),
  srcPort: 40000,
  dstPort: 80,
  seq: 0xdeadbeef,
}

test('the IPv6 SYN frame: 74 bytes to the server MAC, next header 6, a TCP checksum over the IPv6 pseudo-header', (t) => {
  const f = syn.encode(probe)
  t.is(f.length, syn.SYN6_FRAME_LEN)
  t.is(syn.size(probe), f.length)
  t.is(f.readUInt16BE(12), 0x86dd)
  t.like(readIpv6Header(f, 14), { payloadLength: 20, nextHeader: 6, hopLimit: 64, flowLabel: 0, trafficClass: 0 })
  t.is(pseudoChecksum(probe.src, probe.dst, 6, f.subarray(54, 74)), 0, 'TCP checksum verifies')
  t.is(f.readUInt8(54 + 13), syn.TCP_SYN)
  t.is(f.readUInt8(54 + 12) >> 4, 5, 'data offset: no options')
})

test('the IPv6 SYN decodes back to its addresses, ports, flags and MACs; encodeInto writes nothing outside', (t) => {
  const seen = syn.decode(syn.encode(probe))
  t.is(seen?.bytes, syn.SYN6_FRAME_LEN)
  t.like(seen?.value, { srcPort: 40000, dstPort: 80, flags: syn.TCP_SYN, ack: 0 })
  t.is(formatAddr(seen?.value.src ?? probe.dst), 'fd00:77::1')
  t.is(formatAddr(seen?.value.dst ?? probe.src), 'fd00:77::100')
  t.deepEqual([...(seen?.value.dstMac ?? [])], [...probe.dstMac])
  const big = Buffer.alloc(syn.SYN6_FRAME_LEN + 10, 0xa5)
  t.is(syn.encodeInto(probe, big, 5), syn.SYN6_FRAME_LEN)
  t.deepEqual(big.subarray(5, 5 + syn.SYN6_FRAME_LEN), syn.encode(probe))
  t.true(big.subarray(0, 5).every((b) => b === 0xa5) && big.subarray(5 + syn.SYN6_FRAME_LEN).every((b) => b === 0xa5))
  t.is(syn.decode(big.subarray(0, 5 + syn.SYN6_FRAME_LEN), 5)?.value.srcPort, 40000, 'decode at an offset')
})

test("Linux's SYN-ACK (with TCP options) and RST-ACK over IPv6 read as the doctor's answers", (t) => {
  const ack = syn.decode(hexFixture('doctor/synack6.hex'))?.value
  t.like(ack, { srcPort: 80, dstPort: 0xd2e2, flags: syn.TCP_SYN | syn.TCP_ACK })
  t.is(formatAddr(ack?.src ?? probe.src), 'fd00:77::11')
  t.is(formatAddr(ack?.dst ?? probe.dst), 'fd00:77::1')
  const rst = syn.decode(hexFixture('doctor/rst6.hex'))?.value
  t.like(rst, { srcPort: 81, flags: syn.TCP_RST | syn.TCP_ACK })
})

test('mixed families and an IPv6 tunnel are refused as encode errors; a buffer too small too', (t) => {
  t.throws(() => syn.encode({ ...probe, src: parseAddr('10.0.0.1') }), { code: 'LVSD_ENCODE_INVALID' })
  const tunnel = { src: parseAddr('fd00:77::1'), dst: parseAddr('fd00:77::11') }
  t.throws(() => syn.encode({ ...probe, tunnel }), { code: 'LVSD_ENCODE_INVALID' })
  t.throws(() => syn.encodeInto(probe, Buffer.alloc(73), 0), { code: 'LVSD_ENCODE_INVALID' })
})

test('decode: ICMPv6, an extension header or a non-6 version are not TCP (undefined); a cut TCP header is an LvsdError', async (t) => {
  t.is(syn.decode(hexFixture('doctor/na.hex')), undefined)
  const hbh = syn.encode(probe)
  hbh[14 + 6] = 0 // hop-by-hop options first: not a server's answer
  t.is(syn.decode(hbh), undefined)
  const v5 = syn.encode(probe)
  v5[14] = 0x50
  t.is(syn.decode(v5), undefined)
  t.throws(() => syn.decode(syn.encode(probe).subarray(0, 60)), { code: 'LVSD_DECODE_TRUNCATED' })
})

test('property: decode on any bytes, or any mutation of a real SYN-ACK, returns or throws only LvsdError', async (t) => {
  const real = hexFixture('doctor/synack6.hex')
  const safe = (b: Buffer) => {
    try {
      syn.decode(b)
    } catch (e) {
      if ((e as Error).name !== 'LvsdError') throw e
    }
  }
  await fc.assert(
    fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => safe(Buffer.from(bytes))),
    { seed: 6, numRuns: 2000 },
  )
  await fc.assert(
    fc.property(fc.nat(real.length - 1), fc.integer({ min: 0, max: 255 }), fc.nat(real.length), (at, v, cut) => {
      const b = Buffer.from(real)
      b[at] = v
      safe(b.subarray(0, cut))
    }),
    { seed: 6, numRuns: 3000 },
  )
  t.pass('fc.assert throws on the first counterexample (shrunk, with its seed); ava needs one assertion')
})
