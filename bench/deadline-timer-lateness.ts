// Wake-up lateness of a SCHED_RR worker thread, setTimeout against DeadlineTimers (timerfd), on
// the same machine at the same time: one worker thread at real-time priority 10 (as the VRRP
// worker) sleeps to absolute deadlines on a grid of `periodMs`, alternating the two timers tick by
// tick, and records performance.now() − deadline in each callback.
// Usage (root for SCHED_RR): node dist/bench/deadline-timer-lateness.js [samples=1000] [periodMs=20]
import { loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import { DeadlineTimers } from '../src/sys/deadline-timer.js'
import { setThreadRealtime } from '../src/sys/sched.js'
import { quantile } from './agents/vrrp-lab.js'

interface Job {
  samples: number
  periodMs: number
}

function measure({ samples, periodMs }: Job): void {
  const rt = setThreadRealtime(10)
  const q = new DeadlineTimers()
  const late: Record<'setTimeout' | 'timerfd', number[]> = { setTimeout: [], timerfd: [] }
  let next = performance.now() + periodMs
  let i = 0
  const tick = () => {
    const kind = i % 2 === 0 ? 'setTimeout' : 'timerfd'
    const at = next
    const fire = () => {
      late[kind].push(performance.now() - at)
      // a little work per wake-up, as an advert would cost
      const until = performance.now() + 0.05
      while (performance.now() < until) {}
      next += periodMs
      if (++i < 2 * samples) tick()
      else {
        q.close()
        parentPort?.postMessage({ rt, late })
      }
    }
    const ms = Math.max(0, at - performance.now())
    if (kind === 'setTimeout') setTimeout(fire, ms)
    else q.set(fire, ms)
  }
  tick()
}

if (!isMainThread) measure(workerData as Job)
else {
  const job: Job = { samples: Number(process.argv[2] ?? 1000), periodMs: Number(process.argv[3] ?? 20) }
  const load = () => loadavg()[0]?.toFixed(1)
  const startLoad = load()
  const w = new Worker(new URL(import.meta.url), { workerData: job })
  w.on('message', (m: { rt: unknown; late: Record<string, number[]> }) => {
    console.log(`real-time: ${JSON.stringify(m.rt)}; load ${startLoad} → ${load()}`)
    console.log('timer       samples  p50 ms  p99 ms  p99.9 ms  max ms  min ms')
    for (const [kind, xs] of Object.entries(m.late)) {
      const s = [...xs].sort((a, b) => a - b)
      const f = (v: number) => v.toFixed(3).padStart(7)
      console.log(
        `${kind.padEnd(10)}  ${String(s.length).padStart(7)}  ${f(quantile(s, 0.5))} ${f(quantile(s, 0.99))}   ${f(quantile(s, 0.999))} ${f(s[s.length - 1] as number)} ${f(s[0] as number)}`,
      )
    }
  })
}
