// Run by test/package/vrrp-inbox.test.ts under the Node being tested: a VrrpRuntime with no
// instance and a SCHED_RR worker, asked for its counters N times; prints one JSON line with the
// worker thread's CPU time (from /proc) across each request, then how long stop() took until the
// thread was gone.
import { readFileSync } from 'node:fs'
import { VrrpRuntime } from '../../../src/vrrp/main/runtime.js'

const requests = Number(process.argv[2] ?? 8)
const rt = new VrrpRuntime([], { rtPriority: 10, nft: '/nonexistent/nft' })
const ready = await new Promise<{ realtime: { ok: boolean; tid: number; reason?: string } }>((r) => rt.once('ready', r))
const tid = ready.realtime.tid
/** utime + stime of the worker thread, ms (USER_HZ is 100 on Linux). */
function cpuMs(): number {
  const f = (readFileSync(`/proc/self/task/${tid}/stat`, 'utf8').split(') ')[1] ?? '').split(' ')
  return (Number(f[11]) + Number(f[12])) * 10
}
const perRequest: number[] = []
for (let i = 0; i < requests; i++) {
  const before = cpuMs()
  await rt.counters()
  // time for anything the message set off to run before the worker's CPU is read again
  await new Promise((r) => setTimeout(r, 50))
  perRequest.push(cpuMs() - before)
}
const t0 = performance.now()
const exited = new Promise((r) => rt.once('exit', r))
await rt.stop()
await exited
const stopMs = Math.round(performance.now() - t0)
console.log(
  JSON.stringify({ node: process.version, uv: process.versions.uv, realtime: ready.realtime, perRequest, stopMs }),
)
process.exit(0)
