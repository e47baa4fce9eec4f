// Advert interval error under main-thread load, lvsd beside keepalived (root): in one lab, d1 runs
// the VRRP worker while its main thread makes 2,000 TCP connects/s to a listener in namespace srv
// and stalls 80 ms every second (bench/agents/vrrp-loaded.ts); k1 runs an unloaded keepalived
// 2.2.7 master of another VRID at the same interval and priority, on the same machine at the same
// time. Each one's advert intervals are read from kernel capture timestamps on its bridge port;
// error = |interval − 100 ms|. Usage: node dist/bench/vrrp-interval-load.js [seconds=70] [rate=2000] [stallMs=80]
// [warmupS=1] (the load and the measured window start warmupS after the agent became MASTER)
// BENCH_KA_RT=N gives keepalived `vrrp_rt_priority N`; BENCH_NODE_ARGS passes V8/Node flags to the
// lvsd agent (e.g. --single-threaded-gc); BENCH_AGENT_LOG=FILE keeps the agent's output (--trace-gc).
// Beside both, over the same window, a C SCHED_RR 10 thread that only sleeps to 100 ms deadlines
// (bench/agents/rt-sleeper.c, built with cc): the machine's own floor for a real-time sender.
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { waitFor } from '../test/helpers/netns.js'
import { ConfigDir, sleep } from '../test/netns/agents/vrrp-harness.js'
import { buildC } from './agents/build-c.js'
import { Capture, type Frame } from './agents/pcap.js'
import { Keepalived, load, quantile, VrrpLab } from './agents/vrrp-lab.js'

const seconds = Number(process.argv[2] ?? 70)
const rate = Number(process.argv[3] ?? 2000)
const stallMs = Number(process.argv[4] ?? 80)
const warmupS = Number(process.argv[5] ?? 1)
const kaRt = process.env.BENCH_KA_RT ? Number(process.env.BENCH_KA_RT) : undefined
const agent = (name: string) => fileURLToPath(new URL(`./agents/${name}.js`, import.meta.url))
const INTERVAL = 100
/** µs the C sleeper spins after each wake-up: about what lvsd's worker spends on a CPU per advert */
const SLEEPER_BUSY_US = 700

const vl = new VrrpLab(['d1', 'k1', 'srv'])
const cfg = new ConfigDir()

let agentOut = ''
function lines(p: { stdout: NodeJS.ReadableStream | null }): () => Array<Record<string, unknown>> {
  p.stdout?.on('data', (b: Buffer) => (agentOut += b.toString()))
  return () =>
    agentOut
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
}

function errors(frames: Frame[], node: string, from: number, to: number) {
  const ts = frames
    .filter((f) => f.ifindex === vl.port(node) && !f.out && f.vrrp && f.ip?.src === vl.addr(node))
    .map((f) => f.t)
    .filter((t) => t >= from && t <= to)
  return intervalErrors(ts)
}

/** Statistics of |interval − 100 ms| over consecutive times `ts` (ms). */
function intervalErrors(ts: number[]) {
  const gaps = ts.slice(1).map((t, i) => t - ts[i]!)
  const worst = gaps
    .map((g, i) => ({ at: ts[i + 1]!, err: g - INTERVAL }))
    .filter((x) => Math.abs(x.err) > 2)
    .map((x) => `${new Date(x.at).toISOString().slice(11, 23)} ${x.err > 0 ? '+' : ''}${x.err.toFixed(1)}`)
  const err = gaps.map((g) => Math.abs(g - INTERVAL)).sort((a, b) => a - b)
  return {
    n: gaps.length,
    p50: quantile(err, 0.5),
    p99: quantile(err, 0.99),
    p999: quantile(err, 0.999),
    max: err.at(-1) ?? Number.NaN,
    over2: err.filter((e) => e > 2).length,
    minGap: Math.min(...gaps),
    maxGap: Math.max(...gaps),
    worst,
  }
}

const sleeperBin = buildC('rt-sleeper', cfg.dir)

try {
  console.log(`load average at start: ${load()}`)
  const sink = vl.lab.spawn('srv', process.execPath, [agent('tcp-sink'), '80'])
  let sinkOut = ''
  sink.stdout?.on('data', (b: Buffer) => (sinkOut += b.toString()))
  await waitFor(() => sinkOut.includes('listening'), 15_000)
  const ka = new Keepalived(
    vl.lab,
    'k1',
    cfg,
    { version: 3, intervalMs: INTERVAL, vrid: 52, vip: '10.91.0.101/24', priority: 150 },
    kaRt,
  )
  await ka.waitState('MASTER', 15_000)
  const cap = new Capture(vl.lab.ns('sw'), join(cfg.dir, 'intervals.pcap'), 'ip proto 112')
  await cap.ready()
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean)
  const lvsd = vl.lab.spawn('d1', process.execPath, [
    ...nodeArgs,
    agent('vrrp-loaded'),
    vl.vip,
    vl.addr('srv'),
    '80',
    String(seconds),
    String(rate),
    String(stallMs),
    String(warmupS),
  ])
  const events = lines(lvsd)
  let stderr = ''
  lvsd.stderr?.on('data', (b: Buffer) => (stderr += b.toString()))
  const ev = (name: string) => events().find((e) => e.event === name)
  await waitFor(() => ev('load'), 30_000 + warmupS * 1000)
  const sleeper = spawn(sleeperBin, [String(seconds), String(INTERVAL), '10', String(SLEEPER_BUSY_US)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let sleeperOut = ''
  sleeper.stdout.on('data', (b: Buffer) => (sleeperOut += b.toString()))
  const sleeperDone = new Promise<void>((resolve) => sleeper.on('exit', () => resolve()))
  const loadsDuring = [load()]
  const tick = setInterval(() => loadsDuring.push(load()), 20_000)
  await waitFor(
    () => {
      if (!ev('done') && lvsd.exitCode !== null) throw new Error(`the loaded agent exited: ${stderr}`)
      return ev('done')
    },
    (seconds + 60) * 1000,
  )
  clearInterval(tick)
  loadsDuring.push(load())
  await sleep(200)
  const frames = await cap.stop()
  const from = ev('load')?.from as number
  const done = ev('done') as Record<string, unknown> & { to: number }
  const l = errors(frames, 'd1', from, done.to)
  const k = errors(frames, 'k1', from, done.to)
  await ka.term()
  await Promise.race([sleeperDone, sleep(15_000)])
  const floor = JSON.parse(sleeperOut || '{"wakeMs":[],"lateMaxMs":null,"realtime":false}') as {
    wakeMs: number[]
    lateMaxMs: number
    realtime: boolean
  }
  // its times are CLOCK_MONOTONIC (as process.hrtime): shifted to wall-clock ms like the capture's
  const monoToWall = Date.now() - Number(process.hrtime.bigint()) / 1e6
  const f = intervalErrors(floor.wakeMs.map((t) => t + monoToWall))

  if (process.env.BENCH_AGENT_LOG) writeFileSync(process.env.BENCH_AGENT_LOG, agentOut + stderr)
  console.log(`ready: ${JSON.stringify(ev('ready'))}`)
  console.log(`lvsd main thread: ${JSON.stringify({ ...done, counters: undefined })}`)
  console.log(`lvsd worker counters: ${JSON.stringify(done.counters)}`)
  console.log(`tcpdump drops: ${cap.dropped()}; load average during: ${loadsDuring.join(' | ')}`)
  console.log(
    `\nAdvert interval error |interval − 100 ms| over ${seconds} s from ${warmupS} s after MASTER, ms (${rate} connects/s + ${stallMs} ms stall/s on lvsd's main thread):\n`,
  )
  console.log(`lvsd intervals off by > 2 ms (capture time, error ms): ${l.worst.join(', ') || 'none'}\n`)
  console.log('| daemon | intervals | p50 | p99 | p99.9 | max | > 2 ms | shortest / longest interval |')
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |')
  const row = (name: string, r: ReturnType<typeof errors>) =>
    console.log(
      `| ${name} | ${r.n} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.p999.toFixed(3)} | ${r.max.toFixed(3)} | ${r.over2} | ${r.minGap.toFixed(1)} / ${r.maxGap.toFixed(1)} |`,
    )
  row(`lvsd (loaded main thread${nodeArgs.length ? `, ${nodeArgs.join(' ')}` : ''})`, l)
  row(`keepalived (unloaded${kaRt ? `, rt ${kaRt}` : ''})`, k)
  row(
    `C sleeper, SCHED_RR 10, ${SLEEPER_BUSY_US} µs busy per wake-up${floor.realtime ? '' : ' (not real-time!)'} (rt-sleeper.c, the floor)`,
    f,
  )
  console.log(
    `\nC sleeper: latest wake-up ${floor.lateMaxMs} ms after its deadline; intervals off by > 2 ms: ${f.worst.join(', ') || 'none'}`,
  )
} finally {
  vl.dispose()
  cfg.dispose()
}
