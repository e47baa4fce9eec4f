// sockaddr_in / sockaddr_in6 / sockaddr_ll / sockaddr_nl, ip_mreqn, ipv6_mreq and BPF programs:
// byte layouts as <netinet/in.h>, <linux/if_packet.h>, <linux/netlink.h> and <linux/filter.h> define them.
import test from 'ava'
import { isLvsdError } from '../../src/errors.js'
import { parseAddr } from '../../src/net/addr.js'
import { acceptAll, bpfProgram, dropAll, insn } from '../../src/sys/bpf.js'
import { AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, BPF_ABS, BPF_H, BPF_LD, ETH_P_ARP } from '../../src/sys/constants.js'
import { htons, u64h } from '../../src/sys/hostorder.js'
import {
  decodeSockaddr,
  ipMreqn,
  ipv6Mreq,
  sockaddrIn,
  sockaddrIn6,
  sockaddrLl,
  sockaddrNl,
  sockaddrUn,
} from '../../src/sys/sockaddr.js'

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const v4 = (s: string) => parseAddr(s).bytes
const v6 = (s: string) => parseAddr(s).bytes

test('sockaddr_in is 16 bytes: host-order family, network-order port, address, zero padding', (t) => {
  t.deepEqual(sockaddrIn(v4('10.1.2.3'), 8080), hex('0200 1f90 0a010203 0000000000000000'))
})

test('sockaddr_in6 puts flowinfo at 4, the address at 8 and the scope id (host order) at 24', (t) => {
  const b = sockaddrIn6(v6('fe80::1'), { port: 443, flowinfo: 0x12345, scopeId: 7 })
  t.deepEqual(b, hex('0a00 01bb 00012345 fe800000000000000000000000000001 07000000'))
})

test('sockaddr_ll carries the ethertype big-endian and the ifindex host-order', (t) => {
  const mac = hex('020000000001')
  const b = sockaddrLl({ protocol: ETH_P_ARP, ifindex: 6, addr: mac, hatype: 1, pkttype: 1 })
  t.deepEqual(b, hex('1100 0806 06000000 0100 01 06 0200000000010000'))
})

test('sockaddr_nl is family, padding, port id and groups', (t) => {
  t.deepEqual(sockaddrNl(0x1234, 5), hex('1000 0000 34120000 05000000'))
})

test('every sockaddr decodes back to what was encoded', (t) => {
  t.deepEqual(decodeSockaddr(sockaddrIn(v4('192.0.2.9'), 53)), { family: AF_INET, addr: v4('192.0.2.9'), port: 53 })
  t.deepEqual(decodeSockaddr(sockaddrIn6(v6('ff02::12'), { scopeId: 3 })), {
    family: AF_INET6,
    addr: v6('ff02::12'),
    port: 0,
    flowinfo: 0,
    scopeId: 3,
  })
  t.deepEqual(decodeSockaddr(sockaddrLl({ protocol: 0x88b5, ifindex: 2, addr: hex('aabbccddeeff') })), {
    family: AF_PACKET,
    protocol: 0x88b5,
    ifindex: 2,
    hatype: 0,
    pkttype: 0,
    addr: Uint8Array.from(hex('aabbccddeeff')),
  })
  t.deepEqual(decodeSockaddr(sockaddrNl(99, 1)), { family: AF_NETLINK, pid: 99, groups: 1 })
})

test('an unknown family decodes raw, and a too-short sockaddr is a truncation error', (t) => {
  const unix = hex('0100 2f746d70')
  t.deepEqual(decodeSockaddr(unix), { family: 1, raw: unix })
  t.true(
    isLvsdError(
      t.throws(() => decodeSockaddr(hex('0a00 0000'))),
      'LVSD_DECODE_TRUNCATED',
    ),
  )
  t.true(
    isLvsdError(
      t.throws(() => decodeSockaddr(hex('02'))),
      'LVSD_DECODE_TRUNCATED',
    ),
  )
})

test('address bytes of the wrong length are refused', (t) => {
  t.true(
    isLvsdError(
      t.throws(() => sockaddrIn(v6('::1'))),
      'LVSD_DECODE_INVALID',
    ),
  )
  t.true(
    isLvsdError(
      t.throws(() => sockaddrIn6(v4('10.0.0.1'))),
      'LVSD_DECODE_INVALID',
    ),
  )
  t.true(
    isLvsdError(
      t.throws(() => sockaddrLl({ protocol: 1, ifindex: 1, addr: new Uint8Array(9) })),
      'LVSD_DECODE_INVALID',
    ),
  )
})

test('ip_mreqn is group, local address, ifindex', (t) => {
  t.deepEqual(ipMreqn(v4('224.0.0.18'), { address: v4('10.0.0.1'), ifindex: 4 }), hex('e0000012 0a000001 04000000'))
  t.deepEqual(ipMreqn(v4('224.0.0.18'), { ifindex: 2 }), hex('e0000012 00000000 02000000'))
})

test('ipv6_mreq is the group and then the ifindex', (t) => {
  t.deepEqual(ipv6Mreq(v6('ff02::12'), 9), hex('ff020000000000000000000000000012 09000000'))
})

test('a BPF program packs code, jt, jf, k into 8 bytes per instruction', (t) => {
  t.deepEqual(bpfProgram([insn(BPF_LD | BPF_H | BPF_ABS, 1, 2, 12)]), hex('2800 01 02 0c000000'))
  t.deepEqual(dropAll(), hex('0600 00 00 00000000'))
  t.deepEqual(acceptAll(), hex('0600 00 00 ffffffff'))
})

test('htons gives the host integer whose bytes are the value in network order (socket(AF_PACKET) protocol)', (t) => {
  const b = Buffer.alloc(2)
  b.writeUInt16LE(htons(0x0806))
  t.deepEqual(b, hex('0806'))
  t.is(htons(htons(0x88b5)), 0x88b5)
})

test('a size_t beyond 2^53 reads as Infinity, so a bogus cmsg length can never look valid', (t) => {
  t.is(u64h(hex('1400000000000000'), 0), 20)
  t.is(u64h(hex('ffffffffffffffff'), 0), Number.POSITIVE_INFINITY)
  // both halves count (a timespec's seconds since 1970 need no more than the low one today)
  t.is(u64h(hex('0200000001000000'), 0), 2 ** 32 + 2)
  t.is(u64h(hex('ffffffffffff1f00'), 0), Number.MAX_SAFE_INTEGER)
  t.is(u64h(hex('0000000000002000'), 0), Number.POSITIVE_INFINITY)
})

test('sockaddr_un holds a path with its NUL, or an abstract name after a leading NUL', (t) => {
  t.deepEqual(sockaddrUn('/run/x'), hex('0100 2f72756e2f78 00'))
  t.deepEqual(sockaddrUn('ab', { abstract: true }), hex('0100 00 6162'))
  t.true(
    isLvsdError(
      t.throws(() => sockaddrUn('x'.repeat(108))),
      'LVSD_DECODE_INVALID',
    ),
  )
})
