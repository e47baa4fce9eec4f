// Netns agent: receives on one kind of socket through src/sys and prints each datagram as a JSON
// line. Modes: ip4 (VRRP proto 112 on 224.0.0.18), ip6 (proto 112 on ff02::12), packet (AF_PACKET
// bound to an ethertype), packet-bpf (two AF_PACKET sockets, one with a drop-all filter: counts).
// Usage: addon-recv.js <mode> <ifname> [ethertype]. Prints {"event":"ready"} once listening; exits
// after the first datagram (packet-bpf: after 3 on the open socket and a 300 ms grace) or after 10 s.
import { formatAddr } from '../../../src/net/addr.js'
import { dropAll } from '../../../src/sys/bpf.js'
import * as C from '../../../src/sys/constants.js'
import { htons } from '../../../src/sys/hostorder.js'
import { ifNameToIndex } from '../../../src/sys/iface.js'
import { decodeSockaddr, ipMreqn, ipv6Mreq, sockaddrLl } from '../../../src/sys/sockaddr.js'
import { Socket } from '../../../src/sys/socket.js'
import type { ReceivedDatagram } from '../../../src/sys/types.js'

const [mode = '', ifname = 'eth0', etherArg = '0x88b5'] = process.argv.slice(2)
const ifindex = ifNameToIndex(ifname)
const ethertype = Number(etherArg)
const out = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`)
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')
const sockets: Socket[] = []
const done = (code = 0) => {
  for (const s of sockets) s.close()
  process.exit(code)
}
setTimeout(() => {
  out({ event: 'timeout' })
  done(2)
}, 10_000).unref()

function fromAddr(m: ReceivedDatagram): string {
  const a = decodeSockaddr(m.from)
  return 'addr' in a && (a.family === C.AF_INET || a.family === C.AF_INET6)
    ? formatAddr({ family: a.family === C.AF_INET ? 4 : 6, bytes: a.addr })
    : hex(m.from)
}

function ip4(): void {
  const s = Socket.open(C.AF_INET, C.SOCK_RAW, C.IPPROTO_VRRP)
  sockets.push(s)
  s.setOption(C.IPPROTO_IP, C.IP_ADD_MEMBERSHIP, ipMreqn(Uint8Array.of(224, 0, 0, 18), { ifindex }))
  s.setOption(C.IPPROTO_IP, C.IP_RECVTTL, 1)
  s.setOption(C.IPPROTO_IP, C.IP_PKTINFO, 1)
  s.onReceive((m) => {
    // IPv4 raw sockets deliver the IP header: TTL at 8, protocol at 9, source at 12, dest at 16
    const ihl = ((m.data[0] ?? 0) & 0x0f) * 4
    out({
      event: 'packet',
      from: fromAddr(m),
      headerTtl: m.data[8],
      protocol: m.data[9],
      src: formatAddr({ family: 4, bytes: m.data.subarray(12, 16) }),
      dst: formatAddr({ family: 4, bytes: m.data.subarray(16, 20) }),
      cmsgTtl: m.cmsg.ttl,
      ifindex: m.cmsg.pktinfo4?.ifindex,
      payload: hex(m.data.subarray(ihl)),
    })
    done()
  })
}

function ip6(): void {
  const s = Socket.open(C.AF_INET6, C.SOCK_RAW, C.IPPROTO_VRRP)
  sockets.push(s)
  s.setOption(C.IPPROTO_IPV6, C.IPV6_CHECKSUM, 6)
  s.setOption(
    C.IPPROTO_IPV6,
    C.IPV6_JOIN_GROUP,
    ipv6Mreq(Buffer.from('ff020000000000000000000000000012', 'hex'), ifindex),
  )
  s.setOption(C.IPPROTO_IPV6, C.IPV6_RECVHOPLIMIT, 1)
  s.setOption(C.IPPROTO_IPV6, C.IPV6_RECVPKTINFO, 1)
  s.onReceive((m) => {
    const p = m.cmsg.pktinfo6
    out({
      event: 'packet',
      from: fromAddr(m),
      hopLimit: m.cmsg.hopLimit,
      ifindex: p?.ifindex,
      dst: p ? formatAddr({ family: 6, bytes: p.addr }) : undefined,
      payload: hex(m.data),
    })
    done()
  })
}

function packetSocket(): Socket {
  const s = Socket.open(C.AF_PACKET, C.SOCK_RAW, htons(ethertype))
  s.bind(sockaddrLl({ protocol: ethertype, ifindex }))
  sockets.push(s)
  return s
}

function packet(): void {
  packetSocket().onReceive((m) => {
    const ll = decodeSockaddr(m.from)
    out({ event: 'packet', ll: { ...ll, addr: 'addr' in ll ? hex(ll.addr) : undefined }, frame: hex(m.data) })
    done()
  })
}

function packetBpf(): void {
  const filtered = packetSocket()
  filtered.attachFilter(dropAll())
  const open = packetSocket()
  let counts = { open: 0, filtered: 0 }
  filtered.onReceive(() => {
    counts = { ...counts, filtered: counts.filtered + 1 }
  })
  open.onReceive(() => {
    counts = { ...counts, open: counts.open + 1 }
    if (counts.open === 3) {
      setTimeout(() => {
        out({ event: 'counts', ...counts })
        done()
      }, 300)
    }
  })
}

const modes: Record<string, () => void> = { ip4, ip6, packet, 'packet-bpf': packetBpf }
const run = modes[mode]
if (!run) {
  out({ event: 'usage', error: `unknown mode ${mode}` })
  process.exit(64)
}
run()
out({ event: 'ready', ifindex })
