// Bench agent (prober namespace): TCP checks of N real servers through the real Scheduler; prints a
// sample (CPU share, RSS, event-loop delay, scheduler stats) each second and every down transition.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { Scheduler } from '../src/health/scheduler.js'
import type { ServerSpec } from '../src/health/types.js'
import { parseAddr } from '../src/net/addr.js'

const [count = '1000', intervalMs = '1000', timeoutMs = '500', fall = '2', maxConcurrent = '256'] =
  process.argv.slice(2)
const rsAddr = (i: number) => `10.21.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`

const specs: ServerSpec[] = Array.from({ length: Number(count) }, (_, i) => ({
  id: rsAddr(i),
  target: { addr: parseAddr(rsAddr(i)), port: 80 },
  checks: [{ id: 'tcp', kind: 'tcp', opts: {}, intervalMs: Number(intervalMs), timeoutMs: Number(timeoutMs) }],
  policy: { rise: 2, fall: Number(fall), retry: 0, retryDelayMs: 0, initial: 'up', weight: 1, slowStartMs: 0 },
}))

const out = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`)
const sched = new Scheduler({
  maxConcurrent: Number(maxConcurrent),
  onTransition: (t) => {
    if (t.kind === 'down') out({ event: 'down', server: t.server, at: Date.now() })
  },
})
const loop = monitorEventLoopDelay({ resolution: 10 })
loop.enable()
sched.set(specs)

// a clean exit on SIGTERM lets --cpu-prof write its profile
process.on('SIGTERM', () => process.exit(0))

let lastCpu = process.cpuUsage()
let lastWall = process.hrtime.bigint()
setInterval(() => {
  const cpu = process.cpuUsage()
  const wall = process.hrtime.bigint()
  const usedUs = cpu.user - lastCpu.user + (cpu.system - lastCpu.system)
  const wallUs = Number(wall - lastWall) / 1000
  lastCpu = cpu
  lastWall = wall
  out({
    event: 'sample',
    at: Date.now(),
    cpu: usedUs / wallUs,
    rss: process.memoryUsage().rss,
    loopP99Ms: loop.percentile(99) / 1e6,
    ...sched.stats(),
  })
  loop.reset()
}, 1000)
