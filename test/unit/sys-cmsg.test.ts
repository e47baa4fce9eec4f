// Control messages from recvmsg, parsed from hand-built buffers laid out as 64-bit Linux writes them.
import test from 'ava'
import { parseAddr } from '../../src/net/addr.js'
import { CMSG_HDR_SIZE, encodeCmsg, parseCmsgs } from '../../src/sys/cmsg.js'
import {
  IP_PKTINFO,
  IP_TTL,
  IPV6_HOPLIMIT,
  IPV6_PKTINFO,
  SO_TIMESTAMPNS,
  SOL_IP,
  SOL_IPV6,
  SOL_SOCKET,
} from '../../src/sys/constants.js'

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')
const int = (v: number) => {
  const b = Buffer.alloc(4)
  b.writeInt32LE(v)
  return b
}

test('a cmsghdr is len (size_t), level, type, then data padded to 8 bytes', (t) => {
  t.deepEqual(encodeCmsg(SOL_IP, IP_TTL, int(255)), hex('1400000000000000 00000000 02000000 ff000000 00000000'))
  t.is(CMSG_HDR_SIZE, 16)
})

test('IP_TTL and IP_PKTINFO are decoded', (t) => {
  const pkt = Buffer.concat([int(3), hex('0a000002'), hex('e0000012')])
  const buf = Buffer.concat([encodeCmsg(SOL_IP, IP_TTL, int(255)), encodeCmsg(SOL_IP, IP_PKTINFO, pkt)])
  t.deepEqual(parseCmsgs(buf), {
    ttl: 255,
    pktinfo4: { ifindex: 3, specDst: parseAddr('10.0.0.2').bytes, addr: parseAddr('224.0.0.18').bytes },
  })
})

test('SCM_TIMESTAMPNS is the receive time in ns of CLOCK_REALTIME (struct timespec, 64-bit)', (t) => {
  const ts = Buffer.alloc(16)
  ts.writeBigUInt64LE(1_796_000_000n, 0) // tv_sec
  ts.writeBigUInt64LE(123_456_789n, 8) // tv_nsec
  const info = parseCmsgs(
    Buffer.concat([encodeCmsg(SOL_SOCKET, SO_TIMESTAMPNS, ts), encodeCmsg(SOL_IP, IP_TTL, int(255))]),
  )
  t.is(info.ttl, 255)
  t.is(info.timestampNs, 1_796_000_000e9 + 123_456_789, 'a double: within 256 ns at this size')
  t.is(
    parseCmsgs(encodeCmsg(SOL_SOCKET, SO_TIMESTAMPNS, ts.subarray(0, 8))).timestampNs,
    undefined,
    'short: not a stamp',
  )
})

test('IPV6_HOPLIMIT and IPV6_PKTINFO give hop limit, destination and ifindex', (t) => {
  const group = parseAddr('ff02::12').bytes
  const buf = Buffer.concat([
    encodeCmsg(SOL_IPV6, IPV6_PKTINFO, Buffer.concat([group, int(7)])),
    encodeCmsg(SOL_IPV6, IPV6_HOPLIMIT, int(64)),
  ])
  t.deepEqual(parseCmsgs(buf), { hopLimit: 64, pktinfo6: { addr: group, ifindex: 7 } })
})

test('control messages not understood are kept raw with their level and type', (t) => {
  const buf = Buffer.concat([encodeCmsg(SOL_SOCKET, 40, int(12)), encodeCmsg(SOL_IP, IP_TTL, int(1))])
  t.deepEqual(parseCmsgs(buf), { ttl: 1, other: [{ level: SOL_SOCKET, type: 40, data: int(12) }] })
})

test('only the first controllen bytes are read, and a malformed header ends the walk', (t) => {
  const good = encodeCmsg(SOL_IP, IP_TTL, int(255))
  const second = encodeCmsg(SOL_IPV6, IPV6_HOPLIMIT, int(255))
  t.deepEqual(parseCmsgs(Buffer.concat([good, second]), good.length), { ttl: 255 })
  const bogusLen = Buffer.from(second)
  bogusLen.writeUInt32LE(4096, 0)
  t.deepEqual(parseCmsgs(Buffer.concat([good, bogusLen])), { ttl: 255 })
  const tooShort = Buffer.from(second)
  tooShort.writeUInt32LE(8, 0)
  t.deepEqual(parseCmsgs(Buffer.concat([good, tooShort])), { ttl: 255 })
  t.deepEqual(parseCmsgs(Buffer.alloc(0)), {})
})

test('a known type with short data is kept raw rather than misread', (t) => {
  const buf = encodeCmsg(SOL_IPV6, IPV6_PKTINFO, hex('ff02'))
  t.deepEqual(parseCmsgs(buf), { other: [{ level: SOL_IPV6, type: IPV6_PKTINFO, data: hex('ff02') }] })
})
