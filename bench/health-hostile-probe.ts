// Bench agent (prober namespace): G well-behaved TCP real servers (10.21.x.y:80) and H hostile ones
// (10.22.x.y, each one of the hostile kinds below, round robin) checked together through the real
// Scheduler. Prints each second the cadence of the good servers' checks (gap between two results of
// one server minus the interval), the event-loop delay, memory and CPU, and how the hostile checks
// ended (reason counts, longest).
//   health-hostile-probe.js <good> <hostile> <intervalMs> <timeoutMs> <maxConcurrent> [tcp|http]
import { Scheduler } from '../src/health/scheduler.js'
import type { CheckOptions, ServerSpec } from '../src/health/types.js'
import { parseAddr } from '../src/net/addr.js'
import { sampleEverySecond } from './bench-sample.js'
import { pct } from './bench-stats.js'

const [good = '1000', hostile = '1000', intervalMs = '1000', timeoutMs = '500', maxConcurrent = '256', goodKind] =
  process.argv.slice(2)
const goodAddr = (i: number) => `10.21.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`
const hostileAddr = (i: number) => `10.22.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`

/**
 * The attacks of test/netns/agents/health-hostile-server.ts (ports 8081-8085, any address) and
 * health-dns-server.ts. The DNS server answers from the address it is bound to (a UDP socket on
 * 0.0.0.0 would answer from the route's source, which a checker's connected socket drops): every DNS
 * check asks that one address.
 */
const DNS_SERVER = '10.20.0.254'
const HOSTILE: Array<{ name: string; port: number; addr?: string; check: CheckOptions }> = [
  { name: 'http-1mb-header', port: 8081, check: { kind: 'http', opts: { path: '/' } } },
  { name: 'http-endless-body', port: 8082, check: { kind: 'http', opts: { path: '/', bodyRegex: 'ok' } } },
  { name: 'http-drip', port: 8083, check: { kind: 'http', opts: { path: '/' } } },
  { name: 'smtp-banner-flood', port: 8084, check: { kind: 'smtp', opts: {} } },
  { name: 'tls-no-handshake', port: 8085, check: { kind: 'http', opts: { tls: true } } },
  {
    name: 'dns-compression-bomb',
    port: 53,
    addr: DNS_SERVER,
    check: { kind: 'dns', opts: { type: 'A', name: 'www.example.test', answer: '10.62.0.53' } },
  },
]

const goodCheck: CheckOptions = goodKind === 'http' ? { kind: 'http', opts: { path: '/' } } : { kind: 'tcp', opts: {} }
const policy = { rise: 2, fall: 2, retry: 0, retryDelayMs: 0, initial: 'up' as const, weight: 1, slowStartMs: 0 }
const interval = Number(intervalMs)
const specs: ServerSpec[] = [
  ...Array.from({ length: Number(good) }, (_, i) => ({
    id: `good/${goodAddr(i)}`,
    target: { addr: parseAddr(goodAddr(i)), port: 80 },
    checks: [{ id: goodKind ?? 'tcp', ...goodCheck, intervalMs: interval, timeoutMs: Number(timeoutMs) }],
    policy,
  })),
  ...Array.from({ length: Number(hostile) }, (_, i) => {
    const h = HOSTILE[i % HOSTILE.length] as (typeof HOSTILE)[number]
    return {
      id: `hostile/${h.name}/${hostileAddr(i)}`,
      target: { addr: parseAddr(h.addr ?? hostileAddr(i)), port: h.port },
      checks: [{ id: h.name, ...h.check, intervalMs: interval, timeoutMs: Number(timeoutMs) }],
      policy,
    }
  }),
]

const lastGood = new Map<string, number>()
let gapErrMs: number[] = []
let goodFailed = 0
let hostileEnds = new Map<string, number>()
let hostileMaxMs = 0
let hostileOk = 0
const sched = new Scheduler({
  maxConcurrent: Number(maxConcurrent),
  onResult: (server, _check, r) => {
    const now = performance.now()
    if (server.startsWith('good/')) {
      const prev = lastGood.get(server)
      if (prev !== undefined) gapErrMs.push(now - prev - interval)
      lastGood.set(server, now)
      if (!r.ok) goodFailed++
      return
    }
    if (r.ok) hostileOk++
    const key = `${server.split('/')[1]}:${r.ok ? 'ok' : r.code}`
    hostileEnds.set(key, (hostileEnds.get(key) ?? 0) + 1)
    hostileMaxMs = Math.max(hostileMaxMs, r.ms)
  },
  onTransition: () => {},
})
sched.set(specs)

sampleEverySecond(() => {
  const extra = {
    goodResults: gapErrMs.length,
    goodFailed,
    gapErrP50Ms: pct(gapErrMs, 50),
    gapErrP99Ms: pct(gapErrMs, 99),
    gapErrMaxMs: gapErrMs.length ? Math.max(...gapErrMs) : 0,
    hostileOk,
    hostileMaxMs,
    hostileEnds: Object.fromEntries(hostileEnds),
    ...sched.stats(),
  }
  gapErrMs = []
  goodFailed = 0
  hostileOk = 0
  hostileMaxMs = 0
  hostileEnds = new Map()
  return extra
})
