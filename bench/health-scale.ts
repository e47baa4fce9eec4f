// Health-check scale bench (root): N real servers as N addresses (10.21.x.y) in one namespace, TCP or
// HTTP checks every interval from another; reports the prober's own CPU, the receive softirq CPU the
// lab steers to the other core (health-lab-cpu.ts), RSS, late/missed checks, and detection latency
// (p50/p99) after every tenth server dies.
//   node dist/bench/health-scale.js [servers=1000] [intervalMs=1000] [fall=2] [maxConcurrent=256] [tcp|http|http-status|http-node] [--write]
// --write appends a row to the table of docs/benchmarks.md under "health-scale".
// BENCH_NODE_ARGS (e.g. V8 heap flags) and BENCH_NICE reach the prober; both go into the row.
// BENCH_LAB=veth runs the old lab (no RPS, no pinning: the prober is billed for both ends).
import { readFileSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Lab, sh, waitFor } from '../test/helpers/netns.js'
import { type AgentEvent, type BenchAgent, startBenchAgent } from './bench-agent.js'
import { pct } from './bench-stats.js'
import {
  cpuTicks,
  irqShare,
  netRx,
  PROBER_CPU,
  pidTicks,
  RX_CPU,
  steerReceive,
  ticksToCores,
} from './health-lab-cpu.js'
import { buildResponder } from './http-responder.js'

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'))
const write = process.argv.includes('--write')
const kind = ['http', 'http-node', 'http-status'].includes(args[4] ?? '') ? (args[4] as string) : 'tcp'
const [servers = 1000, intervalMs = 1000, fall = 2, maxConcurrent = 256] = args.slice(0, 4).map(Number)
const timeoutMs = Math.min(500, Math.floor(intervalMs / 2))
const rsAddr = (i: number) => `10.21.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url))
const WARM_MS = 5000
const MEASURE_MS = 10_000
const BASELINE_MS = 5000
const labMode = process.env.BENCH_LAB === 'veth' ? 'veth' : 'rps'
// in the rps lab the prober has one CPU and receive processing (and the responders) the other
const pin = (cpu: number) => (labMode === 'rps' ? ['taskset', '-c', String(cpu)] : [])

function agent(lab: Lab, ns: string, cpu: number, argv: string[], nodeArgs: string[] = []): BenchAgent {
  // BENCH_NICE, e.g. -10, runs the agents at that niceness: on a shared machine the prober then gets
  // the CPU it asks for, so late/missed checks measure the prober, not the neighbours (CPU time per
  // check does not depend on it)
  const nice = process.env.BENCH_NICE
  return startBenchAgent(lab, ns, [...pin(cpu), ...(nice ? ['nice', '-n', nice] : []), ...nodeArgs, ...argv])
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const lab = new Lab('hb')
const responder = kind !== 'tcp' ? buildResponder() : undefined
try {
  lab.addPair({ name: 'p', ipv4: '10.20.0.1/24' }, { name: 's', ipv4: '10.20.0.254/24' })
  const batch = Array.from({ length: servers }, (_, i) => `addr add ${rsAddr(i)}/32 dev lo`).join('\n')
  sh('ip', ['-n', lab.ns('s'), '-batch', '-'], `${batch}\n`)
  // routed, not on-link: one neighbour entry instead of N (the neighbour table caps at gc_thresh3,
  // a host-wide setting the bench must not touch)
  sh('ip', ['-n', lab.ns('p'), 'route', 'add', '10.21.0.0/16', 'via', '10.20.0.254'])
  if (labMode === 'rps') {
    steerReceive(lab, 'p')
    steerReceive(lab, 's')
  }

  const server = responder
    ? agent(lab, 's', RX_CPU, [responder.path, String(servers), '80'])
    : agent(lab, 's', RX_CPU, [process.execPath, here('./health-scale-server.js'), String(servers), '80'])
  await waitFor(() => server.events.find((e) => e.event === 'ready'), 60_000)
  const serverPid = Number(server.events.find((e) => e.event === 'ready')?.pid)

  // the idle lab's irq/softirq CPU (other engineers' VMs included), subtracted from the run's
  const base0 = cpuTicks()
  await sleep(BASELINE_MS)
  const baseline = irqShare(base0, cpuTicks(), BASELINE_MS / 1000)

  // BENCH_NODE_ARGS, e.g. --cpu-prof or V8 heap flags, reaches the prober
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)
  const probe = agent(
    lab,
    'p',
    PROBER_CPU,
    [
      here('./health-scale-probe.js'),
      String(servers),
      String(intervalMs),
      String(timeoutMs),
      String(fall),
      String(maxConcurrent),
      kind,
    ],
    [process.execPath, ...nodeArgs],
  )
  const loadBefore = loadavg()[0] ?? 0
  await sleep(WARM_MS)
  const from = Date.now()
  const cpu0 = cpuTicks()
  const rx0 = netRx()
  const server0 = pidTicks(serverPid)
  await sleep(MEASURE_MS)
  const cpu1 = cpuTicks()
  const rx1 = netRx()
  const serverCores = ticksToCores(pidTicks(serverPid) - server0, (Date.now() - from) / 1000)
  const irq = irqShare(cpu0, cpu1, (Date.now() - from) / 1000).map((x, i) => x - (baseline[i] ?? 0))
  const samples = probe.events.filter((e) => e.event === 'sample' && Number(e.at) > from)
  const first = samples[0]
  const last = samples[samples.length - 1]
  if (!first || !last) throw new Error('the prober sent no samples')
  const cpu = samples.map((s) => Number(s.cpu))
  const steady = {
    cpuMean: cpu.reduce((a, b) => a + b, 0) / cpu.length,
    cpuMax: Math.max(...cpu),
    rssMiB: Number(last.rss) / 2 ** 20,
    heapMiB: Number(last.heapUsed) / 2 ** 20,
    irqCores: irq,
    netRx: rx1.map((x, i) => x - (rx0[i] ?? 0)),
    serverCores,
    loopP99Ms: Math.max(...samples.map((s) => Number(s.loopP99Ms))),
    checks: Number(last.completed) - Number(first.completed),
    late: Number(last.late) - Number(first.late),
    missed: Number(last.missed) - Number(first.missed),
    timeouts: Number(last.timeouts) - Number(first.timeouts),
    seconds: (Number(last.at) - Number(first.at)) / 1000,
    checkP50Ms: pct(
      samples.map((s) => Number(s.checkP50Ms)),
      50,
    ),
    userShare:
      (Number(last.cpuUser) - Number(first.cpuUser)) /
      (Number(last.cpuUser) - Number(first.cpuUser) + Number(last.cpuSystem) - Number(first.cpuSystem)),
  }
  const downsBefore = probe.events.filter((e) => e.event === 'down').length

  process.kill(serverPid, 'SIGUSR2')
  const killed = (await waitFor(() => server.events.find((e) => e.event === 'killed'), 10_000)) as AgentEvent
  const expect = Number(killed.killed)
  const budget = fall * intervalMs + timeoutMs + 5000
  await waitFor(() => probe.events.filter((e) => e.event === 'down').length - downsBefore >= expect, budget).catch(
    () => {},
  )
  const downs = probe.events.filter((e) => e.event === 'down').slice(downsBefore)
  const lat = downs.map((e) => Number(e.at) - Number(killed.at))
  const result = {
    kind,
    lab: labMode,
    maxConcurrent,
    nodeArgs: process.env.BENCH_NODE_ARGS ?? '',
    nice: process.env.BENCH_NICE ?? '0',
    load: Math.max(loadBefore, loadavg()[0] ?? 0),
    servers,
    intervalMs,
    timeoutMs,
    fall,
    ...steady,
    killed: expect,
    detected: downs.length,
    falseDowns: downsBefore,
    detectP50Ms: pct(lat, 50),
    detectP99Ms: pct(lat, 99),
    detectMaxMs: Math.max(...lat),
  }
  console.log(JSON.stringify(result, null, 2))
  // BENCH_SAMPLES=1 prints the prober's per-second samples too (to see how a run evolved)
  if (process.env.BENCH_SAMPLES) for (const s of probe.events) if (s.event === 'sample') console.log(JSON.stringify(s))
  await probe.stop()

  if (write) {
    const file = join(here('../..'), 'docs', 'benchmarks.md')
    const marker = '<!-- health-scale rows (rps lab) -->'
    const r = result
    const perSec = r.checks / r.seconds
    const pc = (x: number) => `${(x * 100).toFixed(1)} %`
    const irqAll = r.irqCores.reduce((a, b) => a + b, 0)
    const cells = [
      r.kind,
      r.servers,
      `${r.intervalMs} ms`,
      r.fall,
      r.lab,
      r.nodeArgs ? `\`${r.nodeArgs}\`` : '–',
      r.nice,
      r.load.toFixed(1),
      Math.round(perSec),
      pc(r.cpuMean),
      `${(r.userShare * 100).toFixed(0)} %`,
      ((r.cpuMean * 1e6) / perSec).toFixed(0),
      r.irqCores.map(pc).join(' / '),
      ((irqAll * 1e6) / perSec).toFixed(0),
      pc(r.serverCores),
      r.rssMiB.toFixed(0),
      r.heapMiB.toFixed(0),
      r.checkP50Ms,
      r.loopP99Ms.toFixed(0),
      r.late,
      r.missed,
      r.timeouts,
      r.killed,
      r.detected,
      r.falseDowns,
      r.detectP50Ms,
      r.detectP99Ms,
      r.detectMaxMs,
    ]
    const row = `| ${cells.join(' | ')} |`
    // the row goes at the end of the table that follows the marker, whatever sections others add
    const lines = readFileSync(file, 'utf8').split('\n')
    let i = lines.indexOf(marker)
    if (i < 0) throw new Error(`no "${marker}" line in docs/benchmarks.md`)
    while (i < lines.length && !lines[i]?.startsWith('|')) i++
    while (i < lines.length && lines[i]?.startsWith('|')) i++
    lines.splice(i, 0, row)
    writeFileSync(file, lines.join('\n'))
  }
} finally {
  lab.dispose()
  responder?.dispose()
}
