// Hostile real servers at scale (issue 14, item 5): do H hostile real servers at once (1 MB headers,
// endless bodies, drips, SMTP banner floods, TLS that never answers, DNS compression bombs) disturb
// the cadence of G well-behaved TCP (or HTTP) checks in the same scheduler? Two runs in one lab: the G good
// servers alone, then G good + H hostile; each reports the good checks' cadence (gap between two
// results of one server minus the interval), event-loop delay, CPU, memory, and how hostile checks ended.
//   node dist/bench/health-hostile-scale.js [good=1000] [hostile=1000] [intervalMs=1000] [timeoutMs=500] [maxConcurrent=256] [tcp|http]
// http: the good servers answer HTTP (the C responder) and are checked with HTTP GET, in the same lane
// as the hostile HTTP, TLS, SMTP and DNS checks.
import { rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Lab, sh, waitFor } from '../test/helpers/netns.js'
import { type AgentEvent, startBenchAgent } from './bench-agent.js'
import { pct } from './bench-stats.js'
import { PROBER_CPU, RX_CPU, steerReceive } from './health-lab-cpu.js'
import { buildResponder } from './http-responder.js'

const [good = 1000, hostile = 1000, intervalMs = 1000, timeoutMs = 500, maxConcurrent = 256] = process.argv
  .slice(2, 7)
  .map(Number)
const goodKind = process.argv[7] === 'http' ? 'http' : 'tcp'
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url))
const WARM_MS = 5000
const MEASURE_MS = 15_000
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const addrs = (net: number, n: number) =>
  Array.from({ length: n }, (_, i) => `addr add 10.${net}.${1 + Math.floor(i / 250)}.${1 + (i % 250)}/32 dev lo`)

type Sample = AgentEvent & Record<string, number | Record<string, number>>

async function run(lab: Lab, withHostile: number) {
  const probe = startBenchAgent(lab, 'p', [
    'taskset',
    '-c',
    String(PROBER_CPU),
    process.execPath,
    // BENCH_NODE_ARGS, e.g. "--cpu-prof --cpu-prof-dir=DIR", reaches the prober
    ...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean),
    here('./health-hostile-probe.js'),
    String(good),
    String(withHostile),
    String(intervalMs),
    String(timeoutMs),
    String(maxConcurrent),
    goodKind,
  ])
  await sleep(WARM_MS)
  const from = Date.now()
  await sleep(MEASURE_MS)
  await probe.stop()
  const s = probe.events.filter((e) => e.event === 'sample' && Number(e.at) > from) as Sample[]
  if (s.length === 0) throw new Error('the prober sent no samples')
  const num = (k: string) => s.map((x) => Number(x[k]))
  const ends: Record<string, number> = {}
  for (const x of s)
    for (const [k, v] of Object.entries(x.hostileEnds as Record<string, number>)) ends[k] = (ends[k] ?? 0) + v
  const first = s[0] as Sample
  const last = s[s.length - 1] as Sample
  return {
    hostile: withHostile,
    seconds: s.length,
    goodResultsPerS: Math.round(num('goodResults').reduce((a, b) => a + b, 0) / s.length),
    goodFailed: num('goodFailed').reduce((a, b) => a + b, 0),
    gapErrP50Ms: pct(num('gapErrP50Ms'), 50),
    gapErrP99WorstMs: Math.max(...num('gapErrP99Ms')),
    gapErrMaxMs: Math.max(...num('gapErrMaxMs')),
    loopP99WorstMs: Math.max(...num('loopP99Ms')),
    loopMaxMs: Math.max(...num('loopMaxMs')),
    cpuMean: num('cpu').reduce((a, b) => a + b, 0) / s.length,
    rssMaxMiB: Math.max(...num('rss')) / 2 ** 20,
    rssFirstMiB: Number(first.rss) / 2 ** 20,
    rssLastMiB: Number(last.rss) / 2 ** 20,
    heapMaxMiB: Math.max(...num('heapUsed')) / 2 ** 20,
    late: Number(last.late) - Number(first.late),
    missed: Number(last.missed) - Number(first.missed),
    hostileOk: num('hostileOk').reduce((a, b) => a + b, 0),
    hostileMaxMs: Math.max(...num('hostileMaxMs')),
    hostileEnds: ends,
    // second by second: a lump in one second shows here, not only in the worst figure
    gapErrMaxMsBySecond: num('gapErrMaxMs').map(Math.round),
    slowBySecond: num('slow'),
  }
}

const lab = new Lab('hx')
const dnsMode = join(tmpdir(), `lvsd-hostile-dns-${process.pid}`)
const responder = goodKind === 'http' ? buildResponder() : undefined
try {
  lab.addPair({ name: 'p', ipv4: '10.20.0.1/24' }, { name: 's', ipv4: '10.20.0.254/24' })
  sh('ip', ['-n', lab.ns('s'), '-batch', '-'], `${[...addrs(21, good), ...addrs(22, hostile)].join('\n')}\n`)
  // routed, not on-link: one neighbour entry instead of one per server (gc_thresh3 is host-wide)
  for (const net of ['10.21.0.0/16', '10.22.0.0/16'])
    sh('ip', ['-n', lab.ns('p'), 'route', 'add', net, 'via', '10.20.0.254'])
  steerReceive(lab, 'p')
  steerReceive(lab, 's')
  writeFileSync(dnsMode, 'bomb')
  const onRx = (argv: string[]) =>
    startBenchAgent(lab, 's', ['taskset', '-c', String(RX_CPU), process.execPath, ...argv])
  const servers = [
    responder
      ? startBenchAgent(lab, 's', ['taskset', '-c', String(RX_CPU), responder.path, String(good), '80'])
      : onRx([here('./health-scale-server.js'), String(good), '80']),
    onRx([here('../test/netns/agents/health-hostile-server.js'), '0.0.0.0']),
    // bound to one address: a UDP reply must come from the address the check asked
    onRx([here('../test/netns/agents/health-dns-server.js'), '10.20.0.254', '53', dnsMode]),
  ]
  for (const a of servers) await waitFor(() => a.events.find((e) => e.event === 'ready'), 60_000)

  const load0 = loadavg()[0] ?? 0
  // BENCH_ONLY_ATTACKED=1 skips the run without hostile servers (e.g. to profile the attacked one)
  const alone = process.env.BENCH_ONLY_ATTACKED ? undefined : await run(lab, 0)
  const attacked = await run(lab, hostile)
  const load1 = loadavg()[0] ?? 0
  for (const a of servers) await a.stop()
  console.log(
    JSON.stringify(
      { good, goodKind, hostile, intervalMs, timeoutMs, maxConcurrent, load: [load0, load1], alone, attacked },
      null,
      2,
    ),
  )
} finally {
  lab.dispose()
  rmSync(dnsMode, { force: true })
  responder?.dispose()
}
