// The /metrics exposition at scale (issue 18 item 5): lvsd's metrics over S services of R real servers
// each, after C health results per server went through the event bus. Prints the cost of one
// health.result in the metrics (µs), one scrape's collect and render time, the longest the event
// loop is held in one piece, its size, and the heap it leaves. No I/O: the director is a fixed status.
//   node dist/bench/metrics-exposition.js [services=40] [serversPerService=250] [resultsPerServer=20] [scrapes=5]

import { LvsdMetrics } from '../src/api/metrics.js'
import type { Status } from '../src/api/types.js'
import { EventBus } from '../src/events.js'
import { pct } from './bench-stats.js'

const [services = 40, perService = 250, results = 20, scrapes = 5] = process.argv.slice(2).map(Number)
const kernel = (n: number) => ({ conns: n, inPkts: n * 10, outPkts: 0, inBytes: n * 1000, outBytes: 0 })

function status(): Status {
  return {
    node: 'lb01',
    version: '0.1.0',
    pid: 1,
    startedAt: 0,
    config: { source: '/etc/lvsd/lvsd.yaml', hash: 'ab'.repeat(32), loadedAt: 0 },
    instances: [],
    services: Array.from({ length: services }, (_, s) => ({
      name: `svc${s}`,
      key: `tcp/10.0.${s}.1/80`,
      protocol: 'tcp' as const,
      address: `10.0.${s}.1:80`,
      scheduler: 'wrr',
      flags: [],
      forwarding: 'dr' as const,
      quorum: { up: true, alive: perService, required: 1 },
      active: true,
      kernel: kernel(s),
      servers: Array.from({ length: perService }, (_, i) => ({
        server: `10.21.${1 + s}.${1 + i}:80`,
        forwarding: 'dr' as const,
        health: 'up' as const,
        healthSince: 0,
        lastCheck: { ok: true, ms: 1.5, at: 0 },
        weight: { configured: 1, effective: 1 },
        drained: false,
        kernel: { ...kernel(i), activeConns: i, inactiveConns: i, persistentConns: 0 },
      })),
    })),
  } as Status
}

const st = status()
const events = new EventBus()
const metrics = new LvsdMetrics(
  {
    events,
    getStatus: () => st,
    getConfig: () => st.config,
    checks: { completed: 0, timeouts: 0, late: 0, missed: 0, running: 0, queued: 0, slow: 0 },
  },
  { startedAt: 0 },
)

const heapMiB = () => process.memoryUsage().heapUsed / 2 ** 20
global.gc?.()
const heap0 = heapMiB()
const t0 = performance.now()
let n = 0
for (let k = 0; k < results; k++)
  for (const svc of st.services)
    for (const rs of svc.servers) {
      events.publish('health.result', { service: svc.name, server: rs.server, check: 'tcp', ok: true, ms: 0.4 + k })
      n++
    }
const perResultUs = ((performance.now() - t0) * 1000) / n
global.gc?.()
const heapSeries = heapMiB() - heap0

const times: number[] = []
const slices: number[] = []
let bytes = 0
for (let i = 0; i < scrapes; i++) {
  const a = performance.now()
  let longest = 0
  let last = a
  for await (const chunk of metrics.slices()) {
    bytes = i === 0 ? bytes + Buffer.byteLength(chunk) : bytes
    const now = performance.now()
    longest = Math.max(longest, now - last)
    await new Promise((r) => setImmediate(r))
    last = performance.now()
  }
  times.push(performance.now() - a)
  slices.push(longest)
}
global.gc?.()
console.log(
  JSON.stringify({
    servers: services * perService,
    results: n,
    perResultUs: Number(perResultUs.toFixed(2)),
    heapSeriesMiB: Number(heapSeries.toFixed(1)),
    scrapeMs: { p50: Number(pct(times, 50).toFixed(1)), max: Number(Math.max(...times).toFixed(1)) },
    longestHoldMs: { p50: Number(pct(slices, 50).toFixed(1)), max: Number(Math.max(...slices).toFixed(1)) },
    expositionMiB: Number((bytes / 2 ** 20).toFixed(2)),
    heapAfterMiB: Number(heapMiB().toFixed(1)),
  }),
)
