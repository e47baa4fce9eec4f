// Per-check bookkeeping in the full daemon (issue 18, item 5): the same N TCP real servers checked every
// interval, first by the bare Scheduler (bench/health-scale-probe.ts: the prober alone), then by the
// whole director with its API (bench/health-daemon-agent.ts: results into the weight book, events,
// metrics, IPVS passes on transitions), /metrics scraped every 5 s as Prometheus would. The difference
// in CPU per check is what lvsd's bookkeeping costs. The lab is health-scale's rps lab (prober on one
// CPU, receive processing and the servers on the other).
//   node dist/bench/health-daemon.js [servers=10000] [intervalMs=1000]
import { spawnSync } from 'node:child_process'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Lab, sh, waitFor } from '../test/helpers/netns.js'
import { startBenchAgent } from './bench-agent.js'
import { PROBER_CPU, RX_CPU, steerReceive } from './health-lab-cpu.js'

const [servers = 10_000, intervalMs = 1000] = process.argv.slice(2).map(Number)
const timeoutMs = Math.min(500, Math.floor(intervalMs / 2))
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url))
const WARM_MS = 8000
const MEASURE_MS = 20_000
const PORT = 9478
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const rsAddr = (i: number) => `10.21.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`
// BENCH_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=DIR", reaches both agents
const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)
const pinned = (argv: string[]) => ['taskset', '-c', String(PROBER_CPU), process.execPath, ...nodeArgs, ...argv]

/** The fields of bench-sample.ts's sample and the scheduler's counters that this bench reads. */
interface Sample {
  at: number
  cpu: number
  rss: number
  heapUsed: number
  loopP99Ms: number
  loopMaxMs: number
  gcMs: number
  gcMaxMs: number
  gcMajor: number
  gcMajorMs: number
  completed: number
  late: number
  missed: number
  timeouts: number
}

async function measure(lab: Lab, name: string, argv: string[], scrape: boolean) {
  const a = startBenchAgent(lab, 'p', pinned(argv))
  // the director loads 10,000 servers and programs them before it checks: warm up from its 'ready'
  if (argv.some((x) => x.endsWith('health-daemon-agent.js')))
    await waitFor(() => a.events.find((e) => e.event === 'ready'), 120_000)
  await sleep(WARM_MS)
  const from = Date.now()
  let scrapes = 0
  let scrapeBytes = 0
  const scrapedAt: number[] = []
  const scraper = scrape
    ? setInterval(() => {
        scrapedAt.push(Math.round((Date.now() - from) / 100) / 10)
        // the exposition of 10,000 servers is megabytes: spawnSync's 1 MiB default buffer would cut it
        const r = spawnSync('ip', ['netns', 'exec', lab.ns('p'), 'curl', '-sf', `http://127.0.0.1:${PORT}/metrics`], {
          maxBuffer: 1 << 30,
        })
        if (r.status === 0) {
          scrapes++
          scrapeBytes = r.stdout.length
        }
      }, 5000)
    : undefined
  await sleep(MEASURE_MS)
  if (scraper) clearInterval(scraper)
  await a.stop()
  const s = a.events.filter((e) => e.event === 'sample' && Number(e.at) > from) as unknown as Sample[]
  const first = s[0]
  const last = s[s.length - 1]
  if (!first || !last) throw new Error(`${name}: no samples`)
  const seconds = (last.at - first.at) / 1000
  const checksPerS = (last.completed - first.completed) / seconds
  const cpu = s.reduce((x, y) => x + y.cpu, 0) / s.length
  return {
    name,
    checksPerS: Math.round(checksPerS),
    cpuCores: Number(cpu.toFixed(3)),
    cpuUsPerCheck: Math.round((cpu * 1e6) / checksPerS),
    rssMiB: Math.round(last.rss / 2 ** 20),
    heapMiB: Math.round(last.heapUsed / 2 ** 20),
    loopP99WorstMs: Math.max(...s.map((x) => x.loopP99Ms)),
    loopMaxMs: Math.round(Math.max(...s.map((x) => x.loopMaxMs))),
    // V8's pauses on the main thread: the share of wall time, the longest, and the major collections
    gcShare: Number((s.reduce((x, y) => x + y.gcMs, 0) / (seconds * 1000)).toFixed(3)),
    gcMaxMs: Math.round(Math.max(...s.map((x) => x.gcMaxMs))),
    gcMajor: s.reduce((x, y) => x + y.gcMajor, 0),
    gcMajorMs: Math.round(s.reduce((x, y) => x + y.gcMajorMs, 0)),
    late: last.late - first.late,
    missed: last.missed - first.missed,
    timeouts: last.timeouts - first.timeouts,
    ...(scrape ? { scrapedAtS: scrapedAt, scrapes, scrapeKiB: Math.round(scrapeBytes / 1024) } : {}),
    // BENCH_SERIES=1: each second's late checks, loop max and GC, to see what a stall lines up with
    ...(process.env.BENCH_SERIES
      ? {
          series: s.slice(1).map((x, i) => ({
            t: Math.round(((x.at - first.at) / 1000) * 10) / 10,
            late: x.late - (s[i] as Sample).late,
            loopMaxMs: Math.round(x.loopMaxMs),
            gcMs: Math.round(x.gcMs),
            gcMaxMs: Math.round(x.gcMaxMs),
          })),
        }
      : {}),
  }
}

const lab = new Lab('hd')
try {
  lab.addPair({ name: 'p', ipv4: '10.20.0.1/24' }, { name: 's', ipv4: '10.20.0.254/24' })
  const batch = Array.from({ length: servers }, (_, i) => `addr add ${rsAddr(i)}/32 dev lo`).join('\n')
  sh('ip', ['-n', lab.ns('s'), '-batch', '-'], `${batch}\n`)
  sh('ip', ['-n', lab.ns('p'), 'route', 'add', '10.21.0.0/16', 'via', '10.20.0.254'])
  sh('ip', ['-n', lab.ns('p'), 'link', 'set', 'lo', 'up'])
  steerReceive(lab, 'p')
  steerReceive(lab, 's')
  const server = startBenchAgent(lab, 's', [
    'taskset',
    '-c',
    String(RX_CPU),
    process.execPath,
    here('./health-scale-server.js'),
    String(servers),
    '80',
  ])
  await waitFor(() => server.events.find((e) => e.event === 'ready'), 60_000)
  const load0 = loadavg()[0] ?? 0
  const prober = await measure(
    lab,
    'prober alone',
    [here('./health-scale-probe.js'), String(servers), String(intervalMs), String(timeoutMs), '2', '256', 'tcp'],
    false,
  )
  const daemon = await measure(
    lab,
    'full director + API',
    [here('./health-daemon-agent.js'), String(servers), String(intervalMs), String(timeoutMs), String(PORT)],
    true,
  )
  await server.stop()
  const extra = daemon.cpuUsPerCheck - prober.cpuUsPerCheck
  console.log(
    JSON.stringify(
      {
        servers,
        intervalMs,
        timeoutMs,
        load: [load0, loadavg()[0] ?? 0],
        prober,
        daemon,
        bookkeepingUsPerCheck: extra,
        bookkeepingCoresAt10k: Number(((extra * 10_000) / 1e6).toFixed(3)),
      },
      null,
      2,
    ),
  )
} finally {
  lab.dispose()
}
