// Netns agent: sends datagrams through src/sys. Modes: ip4 (VRRP proto 112 to 224.0.0.18, TTL 255,
// source chosen with IP_MULTICAST_IF/ip_mreqn), ip6 (proto 112 to ff02::12, hop limit 255, kernel
// checksum at offset 6), packet (an Ethernet frame over AF_PACKET with sockaddr_ll).
// Usage: addon-send.js <mode> <ifname> <count> <payload-hex> [src-ipv4 | dst-mac] [ethertype].
import { readFileSync } from 'node:fs'
import { parseAddr } from '../../../src/net/addr.js'
import * as C from '../../../src/sys/constants.js'
import { ifNameToIndex } from '../../../src/sys/iface.js'
import { ipMreqn, sockaddrIn, sockaddrIn6, sockaddrLl } from '../../../src/sys/sockaddr.js'
import { Socket } from '../../../src/sys/socket.js'

const [mode = '', ifname = 'eth0', countArg = '1', payloadHex = '', extra = '', etherArg = '0x88b5'] =
  process.argv.slice(2)
const ifindex = ifNameToIndex(ifname)
const payload = Buffer.from(payloadHex, 'hex')
const count = Number(countArg)

function open(): { s: Socket; frame: Buffer; to: Buffer } {
  if (mode === 'ip4') {
    const s = Socket.open(C.AF_INET, C.SOCK_RAW, C.IPPROTO_VRRP)
    const group = parseAddr('224.0.0.18').bytes
    s.setOption(C.IPPROTO_IP, C.IP_MULTICAST_IF, ipMreqn(group, { address: parseAddr(extra).bytes, ifindex }))
    s.setOption(C.IPPROTO_IP, C.IP_MULTICAST_TTL, 255)
    s.setOption(C.IPPROTO_IP, C.IP_MULTICAST_LOOP, 0)
    return { s, frame: payload, to: sockaddrIn(group) }
  }
  if (mode === 'ip6') {
    const s = Socket.open(C.AF_INET6, C.SOCK_RAW, C.IPPROTO_VRRP)
    s.setOption(C.IPPROTO_IPV6, C.IPV6_CHECKSUM, 6)
    s.setOption(C.IPPROTO_IPV6, C.IPV6_MULTICAST_IF, ifindex)
    s.setOption(C.IPPROTO_IPV6, C.IPV6_MULTICAST_HOPS, 255)
    s.setOption(C.IPPROTO_IPV6, C.IPV6_MULTICAST_LOOP, 0)
    return { s, frame: payload, to: sockaddrIn6(parseAddr('ff02::12').bytes, { scopeId: ifindex }) }
  }
  if (mode === 'packet') {
    // protocol 0: a send-only packet socket (the kernel delivers nothing to it)
    const s = Socket.open(C.AF_PACKET, C.SOCK_RAW, 0)
    const ethertype = Number(etherArg)
    const dst = Buffer.from(extra.replaceAll(':', ''), 'hex')
    const src = Buffer.from(readFileSync(`/sys/class/net/${ifname}/address`, 'utf8').trim().replaceAll(':', ''), 'hex')
    const header = Buffer.alloc(14)
    dst.copy(header, 0)
    src.copy(header, 6)
    header.writeUInt16BE(ethertype, 12)
    return { s, frame: Buffer.concat([header, payload]), to: sockaddrLl({ protocol: ethertype, ifindex, addr: dst }) }
  }
  throw new Error(`unknown mode ${mode}`)
}

const { s, frame, to } = open()
let sent = 0
const timer = setInterval(() => {
  if (!s.send(frame, to)) process.stderr.write('send queue full\n')
  if (++sent >= count) {
    clearInterval(timer)
    s.close()
    process.stdout.write(`${JSON.stringify({ event: 'sent', count: sent })}\n`)
  }
}, 30)
