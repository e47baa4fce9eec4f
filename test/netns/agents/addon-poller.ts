// Agent: Socket/Poller behaviour over abstract AF_UNIX datagram sockets (no network needed).
// Usage: addon-poller.js <scenario>. Prints one JSON line {event:'result', ...} per scenario.
//   throw  — a handler exception reaches process 'uncaughtException', delivery goes on
//   copies — received buffers are copies, a burst queued before onReceive is drained in order
//   borrow — a borrowing socket lends its receive buffers to the handler; receiveAll still copies
//   close  — close() inside the handler stops delivery; later calls fail with EBADF
//   unref  — an unref()'d receiving socket does not keep the process alive
//   eagain — send() returns false when the peer's queue is full instead of throwing
import { randomBytes } from 'node:crypto'
import * as C from '../../../src/sys/constants.js'
import { sysErrorCode } from '../../../src/sys/errno.js'
import { sockaddrUn } from '../../../src/sys/sockaddr.js'
import { Socket } from '../../../src/sys/socket.js'

const out = (o: object) => process.stdout.write(`${JSON.stringify({ event: 'result', ...o })}\n`)

function pair(): { rx: Socket; tx: Socket; to: Buffer } {
  const to = sockaddrUn(`lvsd-test-${randomBytes(6).toString('hex')}`, { abstract: true })
  const rx = Socket.open(C.AF_UNIX, C.SOCK_DGRAM, 0)
  rx.bind(to)
  return { rx, tx: Socket.open(C.AF_UNIX, C.SOCK_DGRAM, 0), to }
}

const scenarios: Record<string, () => void> = {
  throw() {
    const { rx, tx, to } = pair()
    const seen: string[] = []
    let caught = ''
    process.on('uncaughtException', (e) => {
      caught = e.message
    })
    rx.onReceive((m) => {
      seen.push(m.data.toString())
      if (seen.length === 1) throw new Error('handler boom')
      if (seen.length === 3) {
        out({ seen, caught })
        rx.close()
        tx.close()
      }
    })
    tx.send(Buffer.from('one'), to)
    setTimeout(() => {
      tx.send(Buffer.from('two'), to)
      tx.send(Buffer.from('three'), to)
    }, 50)
  },
  copies() {
    const { rx, tx, to } = pair()
    for (let i = 0; i < 5; i++) tx.send(Buffer.from(`burst-${i}`.padEnd(100, String(i))), to)
    const kept: Buffer[] = []
    rx.onReceive((m) => {
      kept.push(m.data)
      if (kept.length === 5) {
        out({ texts: kept.map((b) => b.toString().slice(0, 7)), distinct: new Set(kept.map((b) => b.buffer)).size })
        rx.close()
        tx.close()
      }
    })
  },
  borrow() {
    const to = sockaddrUn(`lvsd-test-${randomBytes(6).toString('hex')}`, { abstract: true })
    const rx = Socket.open(C.AF_UNIX, C.SOCK_DGRAM, 0, { borrow: true })
    rx.bind(to)
    const from = sockaddrUn(`lvsd-test-${randomBytes(6).toString('hex')}`, { abstract: true })
    const tx = Socket.open(C.AF_UNIX, C.SOCK_DGRAM, 0)
    tx.bind(from)
    const N = 20_000
    // queued before the handler exists: receiveAll reads them as copies of their own
    for (let i = 0; i < 3; i++) tx.send(Buffer.from(`early-${i}`), to)
    const early = rx.receiveAll()
    const texts: string[] = []
    const buffers = new Set<ArrayBufferLike>()
    let fromOk = true
    let got = 0
    const ab0 = process.memoryUsage().arrayBuffers
    rx.onReceive((m) => {
      // each view holds this datagram's bytes while the handler runs, whatever came before it
      if (got < 5) texts.push(m.data.toString())
      buffers.add(m.data.buffer)
      buffers.add(m.from.buffer)
      fromOk &&= m.from.equals(from)
      if (++got === N) {
        out({
          early: early.map((e) => e.data.toString()),
          earlyDistinct: new Set(early.map((e) => e.data.buffer)).size,
          texts,
          got,
          fromOk,
          // the data buffer and the name buffer, nothing per datagram
          distinct: buffers.size,
          arrayBufferGrowthKiB: Math.round((process.memoryUsage().arrayBuffers - ab0) / 1024),
        })
        rx.close()
        tx.close()
      }
    })
    let sent = 0
    const pump = () => {
      // a few at a time, so the receiver's queue (about 200 datagrams) never overflows
      for (let k = 0; k < 50 && sent < N; k++)
        if (tx.send(Buffer.from(`m-${sent}`.padEnd(40 + (sent % 7), '.')), to)) sent++
      if (sent < N) setImmediate(pump)
    }
    pump()
  },
  close() {
    const { rx, tx, to } = pair()
    let calls = 0
    rx.onReceive(() => {
      calls++
      rx.close()
    })
    tx.send(Buffer.from('a'), to)
    tx.send(Buffer.from('b'), to)
    setTimeout(() => {
      let afterClose = ''
      try {
        rx.setOption(C.SOL_SOCKET, C.SO_RCVBUF, 4096)
      } catch (e) {
        afterClose = sysErrorCode(e) ?? String(e)
      }
      out({ calls, afterClose, fd: rx.fd })
      tx.close()
    }, 100)
  },
  unref() {
    const { rx } = pair()
    rx.onReceive(() => {})
    rx.unref()
    process.on('exit', () => out({ exitedWhileReceiving: true }))
  },
  eagain() {
    const { rx, tx, to } = pair()
    let sent = 0
    let full = false
    for (; sent < 10_000; sent++) {
      if (!tx.send(Buffer.alloc(512), to)) {
        full = true
        break
      }
    }
    out({ full, sent, drained: rx.receiveAll().length })
    rx.close()
    tx.close()
  },
}

const name = process.argv[2] ?? ''
const run = scenarios[name]
if (!run) throw new Error(`unknown scenario ${name}`)
run()
