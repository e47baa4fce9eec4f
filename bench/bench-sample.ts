// The once-a-second sample a bench agent prints: its CPU share since the last sample and its memory,
// with whatever the agent adds.

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
}

/** Prints `{...base, ...extra()}` as a JSON line every second; `extra` may reset its own windows. */
export function sampleEverySecond(extra: () => object): NodeJS.Timeout {
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
    }
    process.stdout.write(`${JSON.stringify({ ...base, ...extra() })}\n`)
  }, 1000)
}
