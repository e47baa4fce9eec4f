// Idle cost of a VRRP-only daemon, lvsd beside keepalived (root): one lab, a pair of `lvsd run`
// with Node's default flags (d1 150 / d2 100, VRID 51), a pair in the VRRP-only profile
// (`node --lite-mode --no-expose-wasm`, l1 / l2, VRID 53; docs/packaging.md) and a pair of
// keepalived 2.2.7 (k1 150 / k2 100, VRID 52) running at the same time with one instance each at
// the same interval. RSS 30 s after start (keepalived: the sum of its processes), its maximum
// over the window (sampled every 5 s), then CPU over the window from /proc/<pid>/task/*/schedstat
// (ns on a CPU, every thread), as ms per minute.
// Usage: node dist/bench/vrrp-idle.js [intervals=1000,100] [windowS=60]
import { ConfigDir, sleep } from '../test/netns/agents/vrrp-harness.js'
import {
  cpuByThread,
  cpuMs,
  type Daemon,
  Lvsd,
  load,
  realtimeThreads,
  rssMiB,
  rssParts,
  startDaemon,
  VrrpLab,
} from './agents/vrrp-lab.js'

const intervals = (process.argv[2] ?? '1000,100').split(',').map(Number)
const windowS = Number(process.argv[3] ?? 60)
const RSS_AFTER_MS = 30_000

const vl = new VrrpLab(['d1', 'd2', 'l1', 'l2', 'k1', 'k2'])
const LITE = ['--lite-mode', '--no-expose-wasm']
const cfg = new ConfigDir()

interface Row {
  interval: number
  node: string
  impl: string
  role: string
  procs: number
  rss30: number
  rssEnd: number
  rssMax: number
  cpuPerMin: number
}

const rss = (d: Daemon) => d.pids().reduce((a, p) => a + rssMiB(p), 0)
const cpu = (d: Daemon) => d.pids().reduce((a, p) => a + cpuMs(p), 0)

async function measure(intervalMs: number): Promise<Row[]> {
  await vl.reset(['d1', 'd2', 'l1', 'l2', 'k1', 'k2'])
  const version = intervalMs >= 1000 ? 2 : 3
  const spec = (vrid: number, host: number, priority: number) => ({
    version: version as 2 | 3,
    intervalMs,
    vrid,
    vip: `${vl.net}.${host}/24`,
    priority,
  })
  const t0 = Date.now()
  const ds: Array<{ d: Daemon; role: string }> = [
    { d: startDaemon('lvsd', vl.lab, 'd1', cfg, spec(51, 100, 150)), role: 'MASTER' },
    { d: new Lvsd(vl.lab, 'l1', cfg, spec(53, 102, 150), LITE), role: 'MASTER' },
    { d: startDaemon('keepalived', vl.lab, 'k1', cfg, spec(52, 101, 150)), role: 'MASTER' },
  ]
  await Promise.all(ds.map((x) => x.d.waitState('MASTER', 20_000 + 10 * intervalMs)))
  ds.push(
    { d: startDaemon('lvsd', vl.lab, 'd2', cfg, spec(51, 100, 100)), role: 'BACKUP' },
    { d: new Lvsd(vl.lab, 'l2', cfg, spec(53, 102, 100), LITE), role: 'BACKUP' },
    { d: startDaemon('keepalived', vl.lab, 'k2', cfg, spec(52, 101, 100)), role: 'BACKUP' },
  )
  await Promise.all(ds.slice(3).map((x) => x.d.waitState('BACKUP', 20_000)))
  await sleep(Math.max(0, t0 + RSS_AFTER_MS - Date.now()))
  const rss30 = ds.map((x) => rss(x.d))
  for (const { d } of ds)
    console.log(`${d.impl} ${d.node}: real-time threads ${realtimeThreads(d.pids()).join(' ') || 'none'}`)
  const c0 = ds.map((x) => cpu(x.d))
  const t0s = ds.map((x) => cpuByThread(x.d.pids()))
  const w0 = performance.now()
  // RSS moves in a sawtooth (new-space pages between scavenges): sample it through the window
  const rssMax = [...rss30]
  while (performance.now() - w0 < windowS * 1000) {
    await sleep(Math.min(5000, Math.max(0, windowS * 1000 - (performance.now() - w0))))
    ds.forEach((x, i) => {
      rssMax[i] = Math.max(rssMax[i] ?? 0, rss(x.d))
    })
  }
  const c1 = ds.map((x) => cpu(x.d))
  const minutes = (performance.now() - w0) / 60_000
  ds.forEach(({ d }, i) => {
    const after = cpuByThread(d.pids())
    const per = [...after]
      .map(([name, ms]) => [name, (ms - (t0s[i]?.get(name) ?? 0)) / minutes] as const)
      .sort((a, b) => b[1] - a[1])
      .map(([name, ms]) => `${name} ${ms.toFixed(1)}`)
    const parts = d.pids().map(rssParts)
    const anon = parts.reduce((a, p) => a + p.anon, 0)
    const file = parts.reduce((a, p) => a + p.file, 0)
    console.log(
      `${intervalMs} ms ${d.impl} ${d.node}: CPU ms/min by thread: ${per.join(', ')}; RSS anon ${anon.toFixed(1)} + file ${file.toFixed(1)} MiB`,
    )
  })
  const rows = ds.map(({ d, role }, i) => ({
    interval: intervalMs,
    node: d.node,
    impl: d instanceof Lvsd && d.nodeArgs.length > 0 ? `lvsd ${d.nodeArgs.join(' ')}` : d.impl,
    role,
    procs: d.pids().length,
    rss30: rss30[i]!,
    rssEnd: rss(d),
    rssMax: rssMax[i]!,
    cpuPerMin: (c1[i]! - c0[i]!) / minutes,
  }))
  await Promise.all(ds.map((x) => x.d.term()))
  return rows
}

try {
  console.log(`load average at start: ${load()}`)
  const rows: Row[] = []
  const loads: string[] = []
  for (const i of intervals) {
    rows.push(...(await measure(i)))
    loads.push(`${i} ms: ${load()}`)
  }
  console.log(`\nIdle cost, one instance per daemon, CPU over ${windowS} s (all threads/processes):\n`)
  console.log(
    '| interval | daemon | role | processes | RSS at 30 s (MiB) | RSS max in window (MiB) | RSS at end (MiB) | CPU ms/min |',
  )
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |')
  for (const r of rows) {
    const v = r.interval >= 1000 ? 'v2' : 'v3'
    console.log(
      `| ${r.interval} ms (${v}) | ${r.impl} | ${r.role} | ${r.procs} | ${r.rss30.toFixed(1)} | ${r.rssMax.toFixed(1)} | ${r.rssEnd.toFixed(1)} | ${r.cpuPerMin.toFixed(1)} |`,
    )
  }
  console.log(`\nload average after each interval: ${loads.join('; ')}`)
} finally {
  vl.dispose()
  cfg.dispose()
}
