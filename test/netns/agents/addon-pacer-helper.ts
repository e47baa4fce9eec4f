// Agent: the pacer helper process (native/pacer_helper.c, native/pacer_remote.cc) over abstract
// AF_UNIX datagram sockets. Usage: addon-pacer-helper.js <scenario>. Prints one JSON line
// {event:'result', ...}.
//   identity    — the rounds leave from a child process of ~1 MiB with no capabilities
//   blocked     — rounds go on while this process's event loop is held
//   late        — a helper held past a deadline (SIGSTOP): reported late, the next on time
//   lost        — the helper killed mid-run: reported, and the rounds go on here with no gap
//   hung        — stop() with the helper frozen: it is killed and waited for, nothing after
//   unavailable — a helper that cannot start: reported, the rounds run in this process
//   shared      — two pacers share one helper; stopping one leaves the other running
//   stoprace    — stop() at random points of a fast cadence: never a datagram after it returns
//   crashed     — this process killed (SIGKILL) while the helper sends: the helper goes too
//   worker      — a worker's pacer: terminating the worker ends its helper
//   child       — (used by `crashed`) starts a pacer and waits to be killed
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { Worker } from 'node:worker_threads'
import * as C from '../../../src/sys/constants.js'
import { sysErrorCode } from '../../../src/sys/errno.js'
import { Pacer, pacerHelperPath } from '../../../src/sys/pacer.js'
import { Socket } from '../../../src/sys/socket.js'
import { clock, gaps, now, out, pause, rig, type Sink, sink, until } from './pacer-rig.js'

interface ProcStatus {
  name: string
  ppid: number
  capEff: string
  rssKiB: number
}

function status(pid: number): ProcStatus | undefined {
  if (!existsSync(`/proc/${pid}/status`)) return undefined
  const text = readFileSync(`/proc/${pid}/status`, 'utf8')
  const field = (k: string) => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim() ?? ''
  if (field('State').startsWith('Z')) return undefined
  return {
    name: field('Name'),
    ppid: Number(field('PPid')),
    capEff: field('CapEff'),
    rssKiB: Number.parseInt(field('VmRSS'), 10),
  }
}

const gone = (pid: number) => status(pid) === undefined

/** Waits (bounded) for the helper to be gone; then how long that took, and what arrived after. */
async function afterGone(pid: number, a: Sink): Promise<{ goneMs: number; afterGone: number }> {
  const t0 = now()
  await until(() => gone(pid), 2000)
  const goneMs = now() - t0
  a.drain()
  const atGone = a.got.length
  await pause(100)
  return { goneMs, afterGone: a.got.length - atGone }
}
const busy = (ms: number) => {
  const end = now() + ms
  while (now() < end) {}
}

const scenarios: Record<string, () => Promise<void>> = {
  async identity() {
    const { p, a, end } = rig()
    p.start([Buffer.from('x')], [a.to], now(), 20, 1000)
    await until(() => a.got.length >= 5, 5000)
    const pid = p.helperPid
    out({ self: process.pid, pid, status: status(pid), got: a.got.length >= 5 })
    end()
  },
  async blocked() {
    const { p, a, end } = rig()
    p.start([Buffer.from('x')], [a.to], now() + 10, 50, 25)
    await until(() => a.got.length >= 1, 5000)
    const before = a.got.length
    busy(400)
    // what the loop reads at once was sent while it was held
    await pause(1)
    const during = a.got.length - before
    p.stop()
    out({ during, stats: p.stats() })
    end()
  },
  async late() {
    const lates: number[] = []
    const { p, a, end } = rig({ late: (ms) => lates.push(ms) })
    p.start([Buffer.from('x')], [a.to], now() + 10, 50, 25)
    await until(() => a.got.length >= 2, 5000)
    process.kill(p.helperPid, 'SIGSTOP')
    await pause(200)
    process.kill(p.helperPid, 'SIGCONT')
    const seen = a.got.length
    await until(() => a.got.length >= seen + 4 && lates.length >= 1, 5000)
    p.stop()
    out({ lates, stats: p.stats(), gapsAfter: gaps(a.got.slice(seen).map((g) => g.at)) })
    end()
  },
  async lost() {
    const why: { status?: number; err?: string }[] = []
    const { p, a, end } = rig({ inProcess: (w) => why.push({ status: w.status, err: w.err?.message }) })
    p.start([Buffer.from('x')], [a.to], now(), 40, 1000)
    await until(() => a.got.length >= 4, 5000)
    const pid = p.helperPid
    process.kill(pid, 'SIGKILL')
    const killedAt = a.got.length
    await until(() => a.got.length >= killedAt + 6 && why.length > 0, 5000)
    const stats = p.stats()
    p.stop()
    out({
      why,
      helperAfter: p.helperPid,
      reaped: gone(pid),
      around: gaps(a.got.map((g) => g.at)),
      received: a.got.length,
      sent: stats.sent,
    })
    end()
  },
  async hung() {
    const why: { status?: number }[] = []
    const { p, a, end } = rig({ inProcess: (w) => why.push({ status: w.status }) })
    p.start([Buffer.from('x')], [a.to], now(), 20, 1000)
    await until(() => a.got.length >= 3, 5000)
    const pid = p.helperPid
    process.kill(pid, 'SIGSTOP')
    const t0 = now()
    p.stop()
    const stopMs = now() - t0
    a.drain()
    const atStop = a.got.length
    await until(() => why.length > 0, 2000)
    await pause(100)
    // started again after the loss: in this process
    p.start([Buffer.from('y')], [a.to], now(), 20, 1000)
    await until(() => a.got.some((g) => g.text === 'y'), 2000)
    out({
      stopMs,
      afterStop: a.got.slice(atStop).filter((g) => g.text === 'x').length,
      why,
      reaped: gone(pid),
      again: a.got.some((g) => g.text === 'y'),
      helperAfter: p.helperPid,
    })
    end()
  },
  async unavailable() {
    const why: { code?: string }[] = []
    const { p, a, end } = rig(
      { inProcess: (w) => why.push({ code: w.err ? sysErrorCode(w.err) : undefined }) },
      1,
      '/nonexistent/lvsd-pacer',
    )
    p.start([Buffer.from('x')], [a.to], now(), 20, 1000)
    await until(() => a.got.length >= 3, 5000)
    out({ why, helper: p.helperPid, got: a.got.length })
    end()
  },
  async shared() {
    const { p, tx, sinks, end } = rig({}, 2)
    const [a, b] = sinks as [(typeof sinks)[0], (typeof sinks)[0]]
    const q = new Pacer(tx.fd, { late: () => {}, failed: () => {} })
    p.start([Buffer.from('p')], [a.to], now(), 20, 1000)
    q.start([Buffer.from('q')], [b.to], now(), 20, 1000)
    await until(() => a.got.length >= 3 && b.got.length >= 3, 5000)
    const pids = [p.helperPid, q.helperPid]
    p.stop()
    a.drain()
    const aAt = a.got.length
    const bAt = b.got.length
    await pause(150)
    out({ pids, aAfter: a.got.length - aAt, bAfter: b.got.length - bAt })
    q.close()
    end()
  },
  async stoprace() {
    const { p, a, end } = rig()
    let after = 0
    let rounds = 0
    for (let i = 0; i < 40; i++) {
      p.start([Buffer.from(`r${i}`)], [a.to], now(), 3, 1000)
      await pause(5 + Math.random() * 20)
      p.stop()
      a.drain()
      const at = a.got.length
      await pause(15)
      after += a.got.slice(at).filter((g) => g.text === `r${i}`).length
      rounds += at
    }
    out({ after, got: a.got.length, rounds: rounds > 0 })
    end()
  },
  async crashed() {
    const a = sink()
    const child = spawn(process.execPath, [fileURLToPath(import.meta.url), 'child', a.to.toString('base64')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let text = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      text += d
    })
    await until(() => text.includes('\n') && a.got.length >= 3, 5000)
    const pid = Number(JSON.parse(text.split('\n')[0] ?? '{}').helper)
    child.kill('SIGKILL')
    out({ pid, ...(await afterGone(pid, a)) })
    a.close()
    clock.close()
  },
  async child() {
    const tx = Socket.open(C.AF_UNIX, C.SOCK_DGRAM, 0)
    const p = new Pacer(tx.fd, { late: () => {}, failed: () => {} })
    p.start([Buffer.from('c')], [Buffer.from(process.argv[3] ?? '', 'base64')], now(), 10, 1000)
    process.stdout.write(`${JSON.stringify({ helper: p.helperPid })}\n`)
    await new Promise(() => {}) // until killed
  },
  async worker() {
    const a = sink()
    const w = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.pacer).then(async ({ Pacer }) => {
        const { Socket } = await import(workerData.socket);
        const tx = Socket.open(1, 2, 0);
        const p = new Pacer(tx.fd, { late() {}, failed() {} });
        p.start([Buffer.from('w')], [Buffer.from(workerData.to, 'base64')], 0, 10, 1000);
        parentPort.postMessage(p.helperPid);
      });`,
      {
        eval: true,
        workerData: {
          pacer: new URL('../../../src/sys/pacer.js', import.meta.url).href,
          socket: new URL('../../../src/sys/socket.js', import.meta.url).href,
          to: a.to.toString('base64'),
        },
      },
    )
    const pid = await new Promise<number>((r) => w.once('message', r))
    await until(() => a.got.length >= 3, 5000)
    const alive = !gone(pid)
    await w.terminate()
    out({ pid, alive, ...(await afterGone(pid, a)), self: pid !== process.pid })
    a.close()
    clock.close()
  },
}

const name = process.argv[2] ?? ''
const run = scenarios[name]
if (!run) throw new Error(`unknown scenario ${name}`)
if (name !== 'unavailable' && pacerHelperPath() === undefined) throw new Error('no pacer helper: npm run build:native')
await run()
