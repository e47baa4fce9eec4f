// Netns agent: the VRRP worker (VrrpRuntime, as `lvsd run` starts it: SCHED_RR 10) for one IPv4
// VRRPv3 instance at 100 ms, and once it is MASTER a main thread kept busy the way a director's
// is: `rate` TCP connects/s to a listener (each ended by a reset once connected) plus a synchronous
// busy loop of `stallMs` every second. Prints JSON lines: `load` with the wall-clock window the
// bench should read adverts in, then `done` with what the main thread achieved and the worker's
// counters. Usage: vrrp-loaded.js <vip/len> <sinkIp> <sinkPort> <seconds> [rate=2000] [stallMs=80] [warmupS=1]
import { connect } from 'node:net'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { VrrpRuntime } from '../../src/vrrp/main/runtime.js'
import { webInstance } from '../../test/helpers/vrrp-instance.js'

const [vip = '', sinkIp = '', sinkPort = '80', secondsArg = '70', rateArg = '2000', stallArg = '80', warmupArg = '1'] =
  process.argv.slice(2)
const [rate, stallMs, seconds] = [Number(rateArg), Number(stallArg), Number(secondsArg)]
const out = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`)
const MAX_IN_FLIGHT = 2000

const rt = new VrrpRuntime([webInstance(vip, { priority: 150 })], { rtPriority: 10 })
rt.on('ready', (m) => out({ event: 'ready', realtime: m.realtime.ok, reason: m.realtime.reason }))
rt.on('error', (e) => out({ event: 'error', message: e.message }))

let started = 0
let connected = 0
let errors = 0
let skipped = 0
let inFlight = 0
let stalls = 0

/** Opens the connections owed at `rate` since t0: after a stall the backlog goes out at once, as due checks would. */
function connectLoad(t0: number): void {
  const owed = Math.floor(((performance.now() - t0) * rate) / 1000) - started - skipped
  for (let i = 0; i < owed; i++) {
    if (inFlight >= MAX_IN_FLIGHT) {
      skipped++
      continue
    }
    started++
    inFlight++
    const s = connect({ host: sinkIp, port: Number(sinkPort) })
    s.once('connect', () => {
      connected++
      s.resetAndDestroy()
    })
    s.once('error', () => errors++)
    s.once('close', () => inFlight--)
  }
}

function stall(): void {
  stalls++
  const end = performance.now() + stallMs
  while (performance.now() < end) {
    // a synchronous stretch of main-thread work: a large reload, a GC, a burst of check results
  }
}

rt.once('transition', async function onMaster(t) {
  if (t.to !== 'MASTER') {
    rt.once('transition', onMaster)
    return
  }
  // warm-up: the worker's start-up garbage is collected by V8's memory reducer some seconds in
  await new Promise((r) => setTimeout(r, Number(warmupArg) * 1000))
  const lag = monitorEventLoopDelay({ resolution: 1 })
  lag.enable()
  const t0 = performance.now()
  out({ event: 'load', from: Date.now(), rate, stallMs, seconds })
  const timers = [
    rate > 0 ? setInterval(() => connectLoad(t0), 5) : undefined,
    stallMs > 0 ? setInterval(stall, 1000) : undefined,
  ]
  await new Promise((r) => setTimeout(r, seconds * 1000))
  for (const x of timers) clearInterval(x)
  const to = Date.now()
  lag.disable()
  const elapsed = (performance.now() - t0) / 1000
  const counters = (await rt.counters()).web
  out({
    event: 'done',
    to,
    connectsPerS: connected / elapsed,
    started,
    connected,
    errors,
    skipped,
    stalls,
    loopDelayMs: { p50: lag.percentile(50) / 1e6, p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 },
    counters,
  })
  await rt.stop()
  process.exit(0)
})
