// The raw socket the flood agents send VRRP from: IPv4 protocol 112 to 224.0.0.18 out of one
// interface and source address, TTL 255 as RFC 5798 requires, without looping back to the sender.
import { parseAddr } from '../../../src/net/addr.js'
import * as C from '../../../src/sys/constants.js'
import { ifNameToIndex } from '../../../src/sys/iface.js'
import { ipMreqn, sockaddrIn } from '../../../src/sys/sockaddr.js'
import { Socket } from '../../../src/sys/socket.js'

export function openVrrpMulticast(ifname: string, src: string): { socket: Socket; to: Buffer } {
  const group = parseAddr('224.0.0.18').bytes
  const socket = Socket.open(C.AF_INET, C.SOCK_RAW, C.IPPROTO_VRRP)
  socket.setOption(
    C.IPPROTO_IP,
    C.IP_MULTICAST_IF,
    ipMreqn(group, { address: parseAddr(src).bytes, ifindex: ifNameToIndex(ifname) }),
  )
  socket.setOption(C.IPPROTO_IP, C.IP_MULTICAST_TTL, 255)
  socket.setOption(C.IPPROTO_IP, C.IP_MULTICAST_LOOP, 0)
  return { socket, to: sockaddrIn(group) }
}
