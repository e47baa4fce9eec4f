// Bench agent (prober namespace): TCP or HTTP checks of N real servers through the real Scheduler
// (http: the native HTTP prober with a body regex; http-status: status only, as keepalived's HTTP_GET
// with status_code; http-node: the regex check through Node's http client, the path TLS and digests take);
// prints a sample (CPU share, memory, event-loop delay, check duration, scheduler stats) each second
// and every down transition.
import { realRunner } from '../src/health/check-runs.js'
import { Scheduler } from '../src/health/scheduler.js'
import type { CheckOptions, ServerSpec } from '../src/health/types.js'
import { parseAddr } from '../src/net/addr.js'
import { sampleEverySecond } from './bench-sample.js'
import { pct } from './bench-stats.js'

const [count = '1000', intervalMs = '1000', timeoutMs = '500', fall = '2', maxConcurrent = '256', kind = 'tcp'] =
  process.argv.slice(2)
const check: CheckOptions =
  kind === 'http-status'
    ? { kind: 'http', opts: { path: '/' } }
    : kind.startsWith('http')
      ? { kind: 'http', opts: { path: '/', bodyRegex: '^healthy$' } }
      : { kind: 'tcp', opts: {} }
const rsAddr = (i: number) => `10.21.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`

const specs: ServerSpec[] = Array.from({ length: Number(count) }, (_, i) => ({
  id: rsAddr(i),
  target: { addr: parseAddr(rsAddr(i)), port: 80 },
  checks: [{ id: kind, ...check, intervalMs: Number(intervalMs), timeoutMs: Number(timeoutMs) }],
  policy: { rise: 2, fall: Number(fall), retry: 0, retryDelayMs: 0, initial: 'up', weight: 1, slowStartMs: 0 },
}))

const out = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`)
// how long each check took (its Result.ms), for the sample's p50/p99: a slow handshake holds a
// concurrency slot that long
let checkMs: number[] = []
const sched = new Scheduler({
  runner:
    kind === 'http-node' ? { run: realRunner.run, ...(realRunner.tcp ? { tcp: realRunner.tcp } : {}) } : realRunner,
  maxConcurrent: Number(maxConcurrent),
  onResult: (_server, _check, r) => {
    checkMs.push(r.ms)
  },
  onTransition: (t) => {
    if (t.kind === 'down') out({ event: 'down', server: t.server, at: Date.now() })
  },
})
sched.set(specs)

sampleEverySecond(() => {
  const extra = {
    checkP50Ms: pct(checkMs, 50),
    checkP99Ms: pct(checkMs, 99),
    ...sched.stats(),
  }
  checkMs = []
  return extra
})
