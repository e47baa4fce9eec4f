// Netns agent: a client that opens a TCP connection to ip:port every `periodMs` until SIGTERM. The
// port has no listener, so whoever holds the VIP answers each SYN with a reset at once; the bench
// reads SYNs and resets off the bridge port, so this process only has to keep sending (its own
// timer jitter shows as gaps between SYNs, which the bench reports beside the outage).
// Usage: vip-client.js <ip> <port> <periodMs>
import { connect, type Socket } from 'node:net'

const [ip = '', port = '9', periodArg = '2'] = process.argv.slice(2)
const period = Number(periodArg)
let sent = 0
let answered = 0
const open = new Set<Socket>()

function probe(): void {
  sent++
  const s = connect({ host: ip, port: Number(port) })
  open.add(s)
  const done = () => {
    open.delete(s)
    s.destroy()
  }
  s.once('error', () => {
    // the first answer tells the bench the VIP is reachable and it may start the trial
    if (answered++ === 0) process.stdout.write('answered\n')
    done()
  })
  s.once('connect', done)
  // a SYN that reached no VIP holder would retransmit for a minute: give up after 300 ms
  s.setTimeout(300, done)
}

let next = performance.now()
function tick(): void {
  const now = performance.now()
  while (next <= now) {
    probe()
    next += period
    if (now - next > 50) next = now // after a long stall, resume rather than burst
  }
  setTimeout(tick, Math.max(0, next - performance.now()))
}
tick()

process.once('SIGTERM', () => {
  for (const s of open) s.destroy()
  process.stdout.write(`${JSON.stringify({ sent, answered })}\n`)
  process.exit(0)
})
