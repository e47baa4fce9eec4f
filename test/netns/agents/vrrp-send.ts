// Netns agent: sends one VRRP payload `count` times to the VRRP group out of one interface, with
// the given TTL / hop limit: IPv4 (the payload carries its own checksum) or IPv6 (the kernel sums it).
// Usage: vrrp-send.js <4|6> <ifname> <src> <ttl> <count> <payload-hex> [gap-ms]
// Without gap-ms as fast as the veth takes them; with it, one every gap-ms.
import { parseAddr } from '../../../src/net/addr.js'
import * as C from '../../../src/sys/constants.js'
import { ifNameToIndex } from '../../../src/sys/iface.js'
import { sockaddrIn6 } from '../../../src/sys/sockaddr.js'
import { Socket } from '../../../src/sys/socket.js'
import { openVrrpMulticast } from './vrrp-multicast-socket.js'

const [family = '4', ifname = 'eth0', src = '', ttl = '255', countArg = '1', payloadHex = '', gapArg = '0'] =
  process.argv.slice(2)
const gap = Number(gapArg)
const payload = Buffer.from(payloadHex, 'hex')
let socket: Socket
let to: Buffer
if (family === '4') {
  ;({ socket, to } = openVrrpMulticast(ifname, src))
  socket.setOption(C.IPPROTO_IP, C.IP_MULTICAST_TTL, Number(ttl))
} else {
  const ifindex = ifNameToIndex(ifname)
  socket = Socket.open(C.AF_INET6, C.SOCK_RAW, C.IPPROTO_VRRP)
  socket.setOption(C.IPPROTO_IPV6, C.IPV6_CHECKSUM, 6)
  socket.setOption(C.IPPROTO_IPV6, C.IPV6_MULTICAST_IF, ifindex)
  socket.setOption(C.IPPROTO_IPV6, C.IPV6_MULTICAST_HOPS, Number(ttl))
  socket.setOption(C.IPPROTO_IPV6, C.IPV6_MULTICAST_LOOP, 0)
  socket.bind(sockaddrIn6(parseAddr(src).bytes, { scopeId: ifindex }))
  to = sockaddrIn6(parseAddr('ff02::12').bytes, { scopeId: ifindex })
}
let sent = 0
const pause = new Int32Array(new SharedArrayBuffer(4))
for (let i = 0; i < Number(countArg); i++) {
  // 100 at a time: the receiving veth's backlog (1,000) must not be what drops them
  if (gap > 0 && i > 0) Atomics.wait(pause, 0, 0, gap)
  else if (i > 0 && i % 100 === 0) Atomics.wait(pause, 0, 0, 2)
  if (socket.send(payload, to)) sent++
}
socket.close()
process.stdout.write(`${JSON.stringify({ event: 'sent', count: sent })}\n`)
