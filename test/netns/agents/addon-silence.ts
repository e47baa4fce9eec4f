// Agent: the native silence timer (native/silence.cc) over UDP on 127.0.0.1 (the kernel stamps
// what it queues, SO_TIMESTAMPNS). Usage: addon-silence.js <scenario>. Prints one JSON line
// {event:'result', ...}.
//   moves     — datagrams every 30 ms keep moving a 300 ms deadline without a callback; it comes
//               `extend` after the last one, and take() hands over the newest whole with the count
//   silent    — nothing arrives: the callback at the deadline, nothing to take
//   trusted   — a datagram queued before the arm counts from its stamp when the queue is as old
//   untrusted — the same datagram with the queue said to be emptied after it: counts from its read
//   disarm    — a disarmed timer never calls back and lets the process exit
//   truncated — a datagram longer than the kept buffer never moves the deadline; kept cut, flagged
//   flood     — 3,000 queued datagrams are all read and counted, and the deadline moves once
//   gc        — an armed timer nobody holds still calls back through full garbage collections
//   badargs   — arguments refused with a TypeError, the armed timer left as it was
import * as C from '../../../src/sys/constants.js'
import { DeadlineTimers } from '../../../src/sys/deadline-timer.js'
import { receivedMsAgo } from '../../../src/sys/rx-age.js'
import { SilenceTimer } from '../../../src/sys/silence-timer.js'
import { decodeSockaddr, sockaddrIn } from '../../../src/sys/sockaddr.js'
import { Socket } from '../../../src/sys/socket.js'

const MSG_TRUNC = 0x20
const LOOPBACK = Uint8Array.of(127, 0, 0, 1)
const out = (o: object) => process.stdout.write(`${JSON.stringify({ event: 'result', ...o })}\n`)
const clock = new DeadlineTimers()
const now = () => clock.now()
const pause = (ms: number) => new Promise<void>((r) => clock.set(r, ms))
const round = (x: number) => Math.round(x * 10) / 10

/** A stamped receiving socket on loopback, a sender to it, and the timer on the receiver. */
function rig() {
  const rx = Socket.open(C.AF_INET, C.SOCK_DGRAM, 0)
  rx.setOption(C.SOL_SOCKET, C.SO_TIMESTAMPNS, 1)
  rx.setOption(C.SOL_SOCKET, C.SO_RCVBUF, 4 << 20)
  rx.bind(sockaddrIn(LOOPBACK, 0))
  const to = rx.getSockName()
  const tx = Socket.open(C.AF_INET, C.SOCK_DGRAM, 0)
  tx.bind(sockaddrIn(LOOPBACK, 0))
  const txPort = (decodeSockaddr(tx.getSockName()) as { port?: number }).port
  const dues: number[] = []
  const failures: string[] = []
  const timer = new SilenceTimer(rx.fd, {
    due: () => dues.push(now()),
    failed: (err) => failures.push(String(err)),
  })
  const send = (text: string | Buffer) => tx.send(typeof text === 'string' ? Buffer.from(text) : text, to)
  const end = () => {
    timer.close()
    rx.close()
    tx.close()
    clock.close()
  }
  return { rx, timer, dues, failures, send, txPort, end }
}

/**
 * Until the kernel stamps datagrams when they arrive. The first socket to ask for stamps switches
 * them on through a work queue (net_enable_timestamp); a datagram queued before that is stamped
 * when it is read, which made the `trusted` scenario read as untrusted twice in ten runs.
 */
async function stampsAtArrival(r: ReturnType<typeof rig>): Promise<void> {
  for (let i = 0; i < 50; i++) {
    r.send('probe')
    await pause(20)
    const m = r.rx.receive()
    const age = m?.cmsg.timestampNs === undefined ? undefined : receivedMsAgo(m.cmsg.timestampNs, undefined, 1000)
    if (age !== undefined && age >= 10) return
  }
  throw new Error('the kernel never stamped a datagram on arrival')
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = now() + ms
  while (!cond()) {
    if (now() > end) return false
    await pause(5)
  }
  return true
}

const scenarios: Record<string, () => Promise<void>> = {
  async moves() {
    const r = rig()
    const t0 = now()
    r.timer.arm(t0 + 300, 300, t0, t0, t0)
    let last = t0
    for (let i = 0; i < 20; i++) {
      await pause(30)
      r.send(`n${i}`)
      last = now()
    }
    const sendsDone = r.dues.length
    await until(() => r.dues.length > 0, 2000)
    const taken = r.timer.take()
    out({
      duesWhileSending: sendsDone,
      dueAfterLast: round((r.dues[0] ?? Number.NaN) - last),
      stats: r.timer.stats(),
      count: taken.count,
      newest: taken.newest?.data.toString(),
      stamped: typeof taken.newest?.cmsg.timestampNs === 'number',
      fromPort: taken.newest ? (decodeSockaddr(taken.newest.from) as { port?: number }).port : undefined,
      txPort: r.txPort,
      again: r.timer.take().count,
      failures: r.failures,
    })
    r.end()
  },
  async silent() {
    const r = rig()
    const t0 = now()
    r.timer.arm(t0 + 50, 100, t0, t0, t0)
    await until(() => r.dues.length > 0, 2000)
    await pause(150)
    out({
      dueAt: round((r.dues[0] ?? Number.NaN) - t0),
      dues: r.dues.length,
      count: r.timer.take().count,
      dueIn: r.timer.dueInMs ?? null,
    })
    r.end()
  },
  // 200 ms between the send and the first read, a deadline 1 s after the datagram's arrival: the
  // stamp (the send) and the read time (a stalled loop only makes it later) are far apart
  async trusted() {
    const r = rig()
    await stampsAtArrival(r)
    r.send('early')
    const sent = now()
    await pause(200)
    const t0 = now()
    // the queue was last emptied before the datagram arrived: its stamp is believed
    r.timer.arm(t0 + 20, 1000, sent - 100, sent - 100, t0)
    await until(() => r.dues.length > 0, 2000)
    out({ dueAfterSend: round((r.dues[0] ?? Number.NaN) - sent), stats: r.timer.stats() })
    r.end()
  },
  async untrusted() {
    const r = rig()
    await stampsAtArrival(r)
    r.send('early')
    const sent = now()
    await pause(200)
    const t0 = now()
    // the queue is said to be emptied at the arm: a stamp 200 ms older cannot be a queueing delay
    r.timer.arm(t0 + 20, 1000, sent - 100, t0, t0)
    await until(() => r.dues.length > 0, 2000)
    out({ dueAfterSend: round((r.dues[0] ?? Number.NaN) - sent), stats: r.timer.stats() })
    r.end()
  },
  async disarm() {
    const r = rig()
    const t0 = now()
    r.timer.arm(t0 + 30, 100, t0, t0, t0)
    r.timer.disarm()
    await pause(120)
    out({ dues: r.dues.length, dueIn: r.timer.dueInMs ?? null })
    r.timer.close()
    r.rx.close()
    clock.close()
    // the process must now exit by itself: nothing holds the loop (the test bounds the wait)
  },
  async truncated() {
    const r = rig()
    const t0 = now()
    r.timer.arm(t0 + 40, 100, t0, t0, t0)
    r.send(Buffer.alloc(10_000, 0x61))
    await until(() => r.dues.length > 0, 2000)
    const taken = r.timer.take()
    out({
      dueAt: round((r.dues[0] ?? Number.NaN) - t0),
      count: taken.count,
      length: taken.newest?.data.length,
      truncFlag: ((taken.newest?.flags ?? 0) & MSG_TRUNC) !== 0,
    })
    r.end()
  },
  async flood() {
    const r = rig()
    const t0 = now()
    for (let i = 0; i < 3000; i++) r.send(`f${i}`)
    r.timer.arm(now() + 20, 200, t0, t0, now())
    await until(() => r.dues.length > 0, 3000)
    const taken = r.timer.take()
    out({ stats: r.timer.stats(), count: taken.count, newest: taken.newest?.data.toString() })
    r.end()
  },
  async gc() {
    const r = rig()
    ;(() => {
      const t0 = now()
      // the wrapper's object is the only holder of the native one: dropped after this scope
      new SilenceTimer(r.rx.fd, { due: () => r.dues.push(now()), failed: () => {} }).arm(t0 + 200, 100, t0, t0, t0)
    })()
    const gc = (globalThis as { gc?: () => void }).gc
    if (!gc) throw new Error('run with --expose-gc')
    for (let i = 0; i < 5; i++) {
      gc()
      await pause(20)
    }
    await until(() => r.dues.length > 0, 2000)
    out({ calledBack: r.dues.length === 1 })
    process.exit(0)
  },
  async badargs() {
    const r = rig()
    const t0 = now()
    r.timer.arm(t0 + 80, 100, t0, t0, t0)
    const refused: string[] = []
    const tries: (() => void)[] = [
      () => r.timer.arm(t0 + 50, 0.5, t0, t0, t0),
      () => r.timer.arm(Number.NaN, 100, t0, t0, t0),
      () => r.timer.arm(t0 + 50, Number.POSITIVE_INFINITY, t0, t0, t0),
    ]
    for (const f of tries) {
      try {
        f()
        refused.push('accepted')
      } catch (e) {
        refused.push((e as Error).name)
      }
    }
    await until(() => r.dues.length > 0, 2000)
    out({ refused, dueAt: round((r.dues[0] ?? Number.NaN) - t0) })
    r.end()
  },
}

const name = process.argv[2] ?? ''
const run = scenarios[name]
if (!run) throw new Error(`unknown scenario ${name}`)
await run()
