// Bench agent (server namespace): N real servers on addresses 10.21.x.y; SIGUSR2 makes every tenth
// one die, as if those servers failed, and reports when.
// One listener per address with TCP_DEFER_ACCEPT. The kernel answers each SYN and the prober's RST
// ends the handshake before any data, so nothing is ever accepted: the server process does no work
// per check and its CPU does not compete with the prober's. Dying = closing the listener (later SYNs
// are refused). HTTP responders are bench/health-http-responder.c.
import net from 'node:net'
import { parseAddr } from '../src/net/addr.js'
import { AF_INET, IPPROTO_TCP, SO_REUSEADDR, SOCK_STREAM, SOL_SOCKET, TCP_DEFER_ACCEPT } from '../src/sys/constants.js'
import { sockaddrIn } from '../src/sys/sockaddr.js'
import { Socket } from '../src/sys/socket.js'

const [count = '1000', port = '80'] = process.argv.slice(2)
const n = Number(count)
export const rsAddr = (i: number) => `10.21.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`
const ready = () => console.log(JSON.stringify({ event: 'ready', pid: process.pid, servers: n, mode: 'tcp' }))
const killedAt = (killed: number) => console.log(JSON.stringify({ event: 'killed', at: Date.now(), killed }))

const servers: net.Server[] = []
for (let i = 0; i < n; i++) {
  const s = Socket.open(AF_INET, SOCK_STREAM, 0)
  s.setOption(SOL_SOCKET, SO_REUSEADDR, 1)
  s.setOption(IPPROTO_TCP, TCP_DEFER_ACCEPT, 60)
  s.bind(sockaddrIn(parseAddr(rsAddr(i)).bytes, Number(port)))
  // net.Server owns the descriptor from here (it calls listen(2) and would close it)
  const srv = net.createServer((c) => c.destroy())
  srv.listen({ fd: s.fd })
  servers.push(srv)
}
ready()
process.on('SIGUSR2', () => {
  let killed = 0
  for (let i = 0; i < n; i += 10) {
    servers[i]?.close()
    killed++
  }
  killedAt(killed)
})
