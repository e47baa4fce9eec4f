// Netns agent: runs health checks from inside the prober namespace and prints JSON lines.
//   once <check-json> <target-json> <timeoutMs>   one check, one {event:'result'} line, exit
//   watch <servers-json>                          a Scheduler; {event:'result'} per finished check
//                                                 and {event:'transition'} per transition, until killed
// Addresses travel as strings and are parsed here.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { runCheck } from '../../../src/health/checkers.js'
import { Scheduler } from '../../../src/health/scheduler.js'
import type { CheckOptions, CheckSpec, Policy, ServerSpec, Target } from '../../../src/health/types.js'
import { parseAddr } from '../../../src/net/addr.js'

interface WireTarget {
  addr: string
  port: number
  connectAddr?: string
  sourceAddr?: string
  bindInterface?: string
}

function target(w: WireTarget): Target {
  return {
    addr: parseAddr(w.addr),
    port: w.port,
    ...(w.connectAddr ? { connectAddr: parseAddr(w.connectAddr) } : {}),
    ...(w.sourceAddr ? { sourceAddr: parseAddr(w.sourceAddr) } : {}),
    ...(w.bindInterface ? { bindInterface: w.bindInterface } : {}),
  }
}

const out = (o: object) => process.stdout.write(`${JSON.stringify({ ...o, at: Math.round(performance.now()) })}\n`)
const [mode, a = '{}', b = '{}', c = '1000'] = process.argv.slice(2)

if (mode === 'once') {
  const spec = JSON.parse(a) as CheckOptions
  // byte options travel as arrays of numbers
  if (spec.kind === 'udp' && Array.isArray(spec.opts.payload)) spec.opts.payload = Uint8Array.from(spec.opts.payload)
  // how long the check blocked this thread (a hostile reply must not stall the daemon's main loop)
  const lag = monitorEventLoopDelay({ resolution: 5 })
  lag.enable()
  const r = await runCheck(spec, target(JSON.parse(b) as WireTarget), AbortSignal.timeout(Number(c)))
  lag.disable()
  out({
    event: 'result',
    ...r,
    maxLagMs: Math.round(lag.max / 1e6),
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
  })
} else if (mode === 'watch') {
  const wire = JSON.parse(a) as Array<{ id: string; target: WireTarget; checks: CheckSpec[]; policy: Policy }>
  const servers: ServerSpec[] = wire.map((s) => ({ ...s, target: target(s.target) }))
  const sched = new Scheduler({
    onResult: (server, check, r) => out({ event: 'result', server, check, ...r }),
    onTransition: (t) => out({ event: 'transition', ...t }),
  })
  sched.set(servers)
  setInterval(() => out({ event: 'stats', ...sched.stats() }), 1000)
} else {
  console.error(`unknown mode ${mode}`)
  process.exit(2)
}
