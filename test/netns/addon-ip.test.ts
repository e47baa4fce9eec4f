// Raw IP through the native addon between two namespaces joined by veth: VRRP-style proto 112
// multicast over IPv4 (TTL from the header and from IP_RECVTTL) and IPv6 (hop limit and ifindex
// from IPV6_RECVHOPLIMIT / IPV6_RECVPKTINFO control messages).
import test from 'ava'
import { Lab } from '../helpers/netns.js'
import { runAgent, startAgent } from './agents/addon-harness.js'

const lab = new Lab('ai')
let ifindexB = 0

test.before(async () => {
  lab.addPair({ name: 'a', ipv4: '10.61.0.1/24' }, { name: 'b', ipv4: '10.61.0.2/24' })
  ifindexB = Number(lab.exec('b', 'cat', ['/sys/class/net/eth0/ifindex']).trim())
  await lab.ipv6Ready(['a', 'b'])
})
test.after.always(() => lab.dispose())

test.serial('an IPv4 proto-112 packet to 224.0.0.18 arrives with TTL 255, its source and the ifindex', async (t) => {
  const rx = startAgent(lab, 'b', 'addon-recv', ['ip4', 'eth0'])
  await rx.next('ready')
  const payload = '3101ff010001a5a50a3d0001'
  runAgent(lab, 'a', 'addon-send', ['ip4', 'eth0', '5', payload, '10.61.0.1'])
  const p = await rx.next('packet')
  t.like(p, {
    headerTtl: 255,
    cmsgTtl: 255,
    protocol: 112,
    src: '10.61.0.1',
    from: '10.61.0.1',
    dst: '224.0.0.18',
    ifindex: ifindexB,
    payload,
  })
})

test.serial('an IPv6 proto-112 packet to ff02::12 arrives with hop limit 255 on the receiver eth0', async (t) => {
  const rx = startAgent(lab, 'b', 'addon-recv', ['ip6', 'eth0'])
  await rx.next('ready')
  // VRRPv3 header shape: the kernel fills the checksum at offset 6 (IPV6_CHECKSUM 6)
  runAgent(lab, 'a', 'addon-send', ['ip6', 'eth0', '5', '3101ff010064000000000000', ''])
  const p = await rx.next('packet')
  t.is(p.hopLimit, 255)
  t.is(p.ifindex, ifindexB)
  t.is(p.dst, 'ff02::12')
  t.regex(String(p.from), /^fe80:/)
  const data = String(p.payload)
  t.is(data.slice(0, 12), '3101ff010064')
  t.not(data.slice(12, 16), '0000', 'the kernel computed a checksum')
  t.is(data.slice(16), '00000000')
})
