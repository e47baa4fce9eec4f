// What receiving costs the heap: one process sends N datagrams to itself over an abstract AF_UNIX
// datagram pair and receives them with Socket.onReceive, once copying every datagram into buffers
// of its own (the default) and once borrowing the socket's buffers (`borrow`, the VRRP sockets).
// Prints, per mode, the young-generation collections (scavenges) and the wall time; the sender's
// own allocations are in both. Runs without root.
// Usage: node dist/bench/socket-receive-alloc.js [n=200000]
import { randomBytes } from 'node:crypto'
import { PerformanceObserver, constants as perf } from 'node:perf_hooks'
import * as C from '../src/sys/constants.js'
import { sockaddrUn } from '../src/sys/sockaddr.js'
import { Socket } from '../src/sys/socket.js'

const N = Number(process.argv[2] ?? 200_000)
let scavenges = 0
new PerformanceObserver((list) => {
  for (const e of list.getEntries())
    if ((e as { detail?: { kind?: number } }).detail?.kind === perf.NODE_PERFORMANCE_GC_MINOR) scavenges++
}).observe({ entryTypes: ['gc'] })

function run(borrow: boolean): Promise<{ mode: string; scavenges: number; ms: number }> {
  return new Promise((resolve) => {
    const to = sockaddrUn(`lvsd-bench-${randomBytes(6).toString('hex')}`, { abstract: true })
    const rx = Socket.open(C.AF_UNIX, C.SOCK_DGRAM, 0, { borrow })
    rx.bind(to)
    const tx = Socket.open(C.AF_UNIX, C.SOCK_DGRAM, 0)
    // the size of a VRRPv3 advert with one IPv4 VIP behind its IP header
    const packet = Buffer.alloc(32, 1)
    const s0 = scavenges
    const t0 = performance.now()
    let got = 0
    let sent = 0
    rx.onReceive(() => {
      if (++got < N) return
      const ms = performance.now() - t0
      rx.close()
      tx.close()
      // gc entries are delivered asynchronously
      setTimeout(() => resolve({ mode: borrow ? 'borrow' : 'copy', scavenges: scavenges - s0, ms: Math.round(ms) }), 50)
    })
    // a burst at a time, under the receiver's queue (max_dgram_qlen, 512 by default)
    const pump = (): void => {
      for (let k = 0; k < 100 && sent < N; k++) {
        if (!tx.send(packet, to)) break
        sent++
      }
      if (sent < N) setImmediate(pump)
    }
    pump()
  })
}

for (const borrow of [false, true, false, true]) {
  const r = await run(borrow)
  console.log(`${r.mode.padEnd(6)} ${N} datagrams: ${r.scavenges} scavenges, ${r.ms} ms`)
}
