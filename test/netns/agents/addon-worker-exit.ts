// Netns agent: workers that hold open sockets with started pollers — one kept readable by a UDP
// flood over loopback — end through process.exit() inside the worker ('exit') or
// worker.terminate() from the parent ('terminate'), `reps` times. The parent must outlive them all.
// Usage: addon-worker-exit.js <exit|terminate> <reps>. Prints {event:'done', reps, codes}.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import * as C from '../../../src/sys/constants.js'
import { decodeSockaddr, sockaddrIn, sockaddrNl } from '../../../src/sys/sockaddr.js'
import { Socket } from '../../../src/sys/socket.js'

const LOOPBACK = Uint8Array.of(127, 0, 0, 1)

function holdSockets(mode: string): void {
  const rx = Socket.open(C.AF_INET, C.SOCK_DGRAM, C.IPPROTO_UDP)
  rx.bind(sockaddrIn(LOOPBACK, 0))
  const local = decodeSockaddr(rx.getSockName())
  const port = 'port' in local ? local.port : 0
  const nl = Socket.open(C.AF_NETLINK, C.SOCK_RAW, C.NETLINK_ROUTE)
  nl.bind(sockaddrNl(0, 1 /* RTMGRP_LINK */))
  nl.onReceive(() => {})
  const vrrp = Socket.open(C.AF_INET, C.SOCK_RAW, C.IPPROTO_VRRP)
  vrrp.onReceive(() => {})
  const tx = Socket.open(C.AF_INET, C.SOCK_DGRAM, C.IPPROTO_UDP)
  const to = sockaddrIn(LOOPBACK, port)
  const datagram = Buffer.alloc(64, 7)
  let received = 0
  // A handler that reads slower than the flood, so the fd is readable when the worker is stopped.
  rx.onReceive(() => {
    received++
    if (received === 1) parentPort?.postMessage('ready')
    if (received === 20 && mode === 'exit') process.exit(0)
  })
  const flood = () => {
    for (let i = 0; i < 8; i++) tx.send(datagram, to)
    setImmediate(flood)
  }
  flood()
}

async function parent(mode: string, reps: number): Promise<void> {
  const codes: number[] = []
  for (let i = 0; i < reps; i++) {
    const w = new Worker(new URL(import.meta.url), { workerData: { mode } })
    const exited = new Promise<number>((resolve) => w.on('exit', resolve))
    w.on('error', (e) => process.stderr.write(`worker error: ${e.stack}\n`))
    if (mode === 'terminate') {
      await new Promise<void>((resolve) => w.once('message', () => resolve()))
      await w.terminate()
    }
    codes.push(await exited)
  }
  // the parent's own environment still works after all of that
  const s = Socket.open(C.AF_INET, C.SOCK_DGRAM, C.IPPROTO_UDP)
  s.close()
  process.stdout.write(`${JSON.stringify({ event: 'done', reps: codes.length, codes })}\n`)
}

if (isMainThread) {
  const [mode = 'exit', reps = '20'] = process.argv.slice(2)
  await parent(mode, Number(reps))
} else {
  holdSockets((workerData as { mode: string }).mode)
}
