// The once-a-second sample a bench agent prints: its CPU share since the last sample, its memory and
// its event loop's delay, with whatever the agent adds.
import { constants, monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks'

export interface SampleBase {
  event: 'sample'
  at: number
  /** Cores used since the last sample (user + system over wall time). */
  cpu: number
  cpuUser: number
  cpuSystem: number
  rss: number
  heapUsed: number
  heapTotal: number
  external: number
  /** The event loop's delay since the last sample: p99 and max, ms. */
  loopP99Ms: number
  loopMaxMs: number
  /** Garbage collection since the last sample: total pause, the longest, and major (mark-compact) runs. */
  gcMs: number
  gcMaxMs: number
  gcMajor: number
  gcMajorMs: number
}

/** GC pauses as V8 reports them to perf_hooks, summed until read. */
function gcPauses() {
  const w = { ms: 0, max: 0, major: 0, majorMs: 0 }
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      w.ms += e.duration
      if (e.duration > w.max) w.max = e.duration
      if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) {
        w.major++
        w.majorMs += e.duration
      }
    }
  }).observe({ entryTypes: ['gc'] })
  return () => {
    const out = { gcMs: w.ms, gcMaxMs: w.max, gcMajor: w.major, gcMajorMs: w.majorMs }
    w.ms = w.max = w.major = w.majorMs = 0
    return out
  }
}

/** Prints `{...base, ...extra()}` as a JSON line every second; `extra` may reset its own windows. */
export function sampleEverySecond(extra: () => object): NodeJS.Timeout {
  // a clean exit on SIGTERM lets --cpu-prof write its profile
  process.on('SIGTERM', () => process.exit(0))
  const loop = monitorEventLoopDelay({ resolution: 10 })
  loop.enable()
  const gc = gcPauses()
  let lastCpu = process.cpuUsage()
  let lastWall = process.hrtime.bigint()
  return setInterval(() => {
    const cpu = process.cpuUsage()
    const wall = process.hrtime.bigint()
    const usedUs = cpu.user - lastCpu.user + (cpu.system - lastCpu.system)
    const wallUs = Number(wall - lastWall) / 1000
    lastCpu = cpu
    lastWall = wall
    const m = process.memoryUsage()
    const base: SampleBase = {
      event: 'sample',
      at: Date.now(),
      cpu: usedUs / wallUs,
      cpuUser: cpu.user,
      cpuSystem: cpu.system,
      rss: m.rss,
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      loopP99Ms: loop.percentile(99) / 1e6,
      loopMaxMs: loop.max / 1e6,
      ...gc(),
    }
    loop.reset()
    process.stdout.write(`${JSON.stringify({ ...base, ...extra() })}\n`)
  }, 1000)
}
