// Netns agent: a TCP listener on 0.0.0.0:<port> with TCP_DEFER_ACCEPT, for the load of the
// interval bench. The kernel completes every handshake and the client's reset ends it before any
// data, so nothing is ever accepted: this process does no work per connection and the only load
// it adds is the kernel's. Usage: tcp-sink.js <port>
import net from 'node:net'
import {
  AF_INET,
  IPPROTO_TCP,
  SO_REUSEADDR,
  SOCK_STREAM,
  SOL_SOCKET,
  TCP_DEFER_ACCEPT,
} from '../../src/sys/constants.js'
import { sockaddrIn } from '../../src/sys/sockaddr.js'
import { Socket } from '../../src/sys/socket.js'

const port = Number(process.argv[2] ?? 80)
const s = Socket.open(AF_INET, SOCK_STREAM, 0)
s.setOption(SOL_SOCKET, SO_REUSEADDR, 1)
s.setOption(IPPROTO_TCP, TCP_DEFER_ACCEPT, 60)
s.bind(sockaddrIn(new Uint8Array(4), port))
// net.Server owns the descriptor from here (it calls listen(2)); a large backlog for 2,000/s
const srv = net.createServer((c) => c.destroy())
srv.listen({ fd: s.fd, backlog: 4096 }, () => process.stdout.write('listening\n'))
process.once('SIGTERM', () => process.exit(0))
