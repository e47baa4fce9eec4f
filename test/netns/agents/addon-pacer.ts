// Agent: the native advert pacer (native/pacer.cc) over abstract AF_UNIX datagram sockets (no
// network needed), through the helper process unless LVSD_PACER=inline (every scenario but `late`
// runs both ways; the helper's own behaviour is addon-pacer-helper.ts's).
// Usage: addon-pacer.js <scenario>. Prints one JSON line {event:'result', ...}.
//   cadence — two targets, each round an interval after the last send; stats count each datagram
//   restart — start() again replaces the datagrams and the phase; nothing of the old one after
//   stop    — nothing after stop(), and a stopped pacer lets the process exit
//   failed  — a target the kernel refuses is reported; the other target still gets every round
//   late    — a loop held past a deadline: the round is reported late, the next one on time
//             (in-process only: a held loop does not hold the helper)
//   gc      — a running pacer whose object nobody holds keeps sending through full GCs
//   badargs — a refused start() (a bad argument) leaves the running pacer as it was
import { randomBytes } from 'node:crypto'
import * as C from '../../../src/sys/constants.js'
import { sysErrorCode } from '../../../src/sys/errno.js'
import { Pacer } from '../../../src/sys/pacer.js'
import { sockaddrUn } from '../../../src/sys/sockaddr.js'
import { Socket } from '../../../src/sys/socket.js'
import { clock, gaps, now, out, pause, rig, type Sink, sink, until } from './pacer-rig.js'

const scenarios: Record<string, () => Promise<void>> = {
  async cadence() {
    const { p, sinks, end } = rig({}, 2)
    const [a, b] = sinks as [Sink, Sink]
    const first = now() + 50
    p.start([Buffer.from('to-a'), Buffer.from('to-b')], [a.to, b.to], first, 40, 1000)
    await until(() => a.got.length >= 10 && b.got.length >= 10, 5000)
    const helperUsed = p.helperPid > 0
    p.stop()
    out({
      helperUsed,
      firstLate: Math.round(((a.got[0]?.at ?? 0) - first) * 10) / 10,
      gapsA: gaps(a.got.slice(0, 10).map((g) => g.at)),
      texts: [...new Set([...a.got, ...b.got].map((g) => g.text))].sort(),
      counts: [a.got.length, b.got.length],
      stats: p.stats(),
    })
    end()
  },
  async restart() {
    const { p, a, end } = rig()
    p.start([Buffer.from('old')], [a.to], now(), 30, 1000)
    await until(() => a.got.length >= 3, 5000)
    const at = now() + 100
    p.start([Buffer.from('new')], [a.to], at, 30, 1000)
    const oldSeen = a.got.length
    await until(() => a.got.length >= oldSeen + 3, 5000)
    p.stop()
    const firstNew = a.got.find((g) => g.text === 'new')
    out({
      sequence: a.got.map((g) => g.text).join(','),
      newAfterItsStart: (firstNew?.at ?? 0) >= at,
      nextWhileStopped: p.nextAtMs ?? null,
    })
    end()
  },
  async stop() {
    const { p, a } = rig()
    p.start([Buffer.from('x')], [a.to], now(), 20, 1000)
    await until(() => a.got.length >= 3, 5000)
    p.stop()
    a.drain()
    const atStop = a.got.length
    await pause(150)
    out({ afterStop: a.got.length - atStop, sentStat: p.stats().sent === atStop })
    a.close()
    clock.close()
    // neither the pacer nor the sending socket is closed: stop() alone must let the loop end
  },
  async failed() {
    const errors: string[] = []
    const { p, a, end } = rig({ failed: (e) => errors.push(sysErrorCode(e) ?? e.message) })
    // nobody bound there: the kernel refuses every send to it (ECONNREFUSED)
    const nowhere = sockaddrUn(`lvsd-pacer-none-${randomBytes(6).toString('hex')}`, { abstract: true })
    p.start([Buffer.from('lost'), Buffer.from('kept')], [nowhere, a.to], now(), 20, 1000)
    await until(() => a.got.length >= 5 && errors.length >= 5, 5000)
    p.stop()
    out({ kept: a.got.length >= 5, codes: [...new Set(errors)], stats: p.stats() })
    end()
  },
  async late() {
    const lates: number[] = []
    const { p, a, end } = rig({ late: (ms) => lates.push(ms) })
    const first = now() + 20
    p.start([Buffer.from('x')], [a.to], first, 50, 25)
    // the loop held 200 ms past the first deadline (as a long synchronous task would)
    const until0 = first + 200
    while (now() < until0) {}
    await until(() => a.got.length >= 4, 5000)
    p.stop()
    out({ lates, stats: p.stats(), gaps: gaps(a.got.slice(0, 4).map((g) => g.at)) })
    end()
  },
  async gc() {
    const tx = Socket.open(C.AF_UNIX, C.SOCK_DGRAM, 0)
    const a = sink()
    ;(() => {
      new Pacer(tx.fd, { late: () => {}, failed: () => {} }).start([Buffer.from('x')], [a.to], now(), 20, 1000)
    })()
    const gc = (globalThis as { gc?: () => void }).gc
    if (!gc) throw new Error('run with --expose-gc')
    for (let i = 0; i < 5; i++) {
      gc()
      await pause(20)
    }
    const before = a.got.length
    await until(() => a.got.length >= before + 5, 3000)
    out({ sentOnAfterGc: a.got.length >= before + 5 })
    process.exit(0)
  },
  async badargs() {
    const { p, a, end } = rig()
    p.start([Buffer.from('good')], [a.to], now(), 20, 1000)
    const refused: string[] = []
    const tries: (() => void)[] = [
      () => p.start([Buffer.from('a'), Buffer.from('b')], [a.to], now(), 20, 1000),
      () => p.start([], [], now(), 20, 1000),
      () => p.start([Buffer.from('bad')], [a.to], now(), 0.5, 1000),
      () => p.start([Buffer.from('bad')], [a.to], Number.NaN, 20, 1000),
      () => p.start([Buffer.alloc(0)], [a.to], now(), 20, 1000),
    ]
    for (const f of tries) {
      try {
        f()
      } catch (e) {
        refused.push((e as Error).name)
      }
    }
    const seen = a.got.length
    await until(() => a.got.length >= seen + 3, 3000)
    p.stop()
    out({ refused, stillGood: a.got.slice(seen).every((g) => g.text === 'good') && a.got.length >= seen + 3 })
    end()
  },
}

const name = process.argv[2] ?? ''
const run = scenarios[name]
if (!run) throw new Error(`unknown scenario ${name}`)
await run()
