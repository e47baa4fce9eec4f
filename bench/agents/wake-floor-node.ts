// One of bench/wake-floor.ts's Node cases: a thread woken once a second with nothing to do but
// re-arm (and, with "-send", send one 40-byte raw VRRP datagram to 224.0.0.18 on eth0).
// Modes: main-settimeout, worker-settimeout, worker-deadline, worker-deadline-send.
import { isMainThread, Worker, workerData } from 'node:worker_threads'

const mode = String(isMainThread ? process.argv[2] : workerData)

async function wake(kind: string): Promise<void> {
  if (kind === 'settimeout') {
    const tick = (): void => {
      setTimeout(tick, 1000)
    }
    tick()
    return
  }
  const { DeadlineTimers } = await import('../../src/sys/deadline-timer.js')
  const { Socket } = await import('../../src/sys/socket.js')
  const C = await import('../../src/sys/constants.js')
  const { sockaddrIn } = await import('../../src/sys/sockaddr.js')
  const { ifNameToIndex } = await import('../../src/sys/iface.js')
  const timers = new DeadlineTimers()
  const pkt = Buffer.alloc(40, 1)
  let send = (): void => {}
  if (kind === 'deadline-send') {
    const s = Socket.open(C.AF_INET, C.SOCK_RAW, C.IPPROTO_VRRP)
    const mreqn = Buffer.alloc(12)
    mreqn.writeInt32LE(ifNameToIndex('eth0'), 8)
    s.setOption(C.IPPROTO_IP, C.IP_MULTICAST_IF, mreqn)
    const to = sockaddrIn(new Uint8Array([224, 0, 0, 18]))
    send = () => {
      s.send(pkt, to)
    }
  }
  const tick = (): void => {
    send()
    timers.set(tick, 1000)
  }
  timers.set(tick, 1000)
}

if (mode === 'main-settimeout') await wake('settimeout')
else if (isMainThread) {
  new Worker(new URL(import.meta.url), { workerData: mode })
  // the main thread only keeps the process alive, as lvsd's does between requests
  setInterval(() => {}, 2 ** 30)
} else await wake(mode.replace(/^worker-/, ''))
