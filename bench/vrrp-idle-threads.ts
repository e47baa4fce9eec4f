// Where an idle VRRP-only master's CPU goes, per thread (root): one `lvsd run` master in a netns
// lab, 10 s after it became MASTER, then each thread's CPU (schedstat) and scheduling count over a
// window. The main thread, the SCHED_RR VRRP worker and V8's helper threads show apart.
// Usage: node dist/bench/vrrp-idle-threads.js [intervalMs=1000] [windowS=30] [node flags...]
import { readdirSync } from 'node:fs'
import { ConfigDir, sleep } from '../test/netns/agents/vrrp-harness.js'
import { Lvsd, schedstat, threadKind, VrrpLab } from './agents/vrrp-lab.js'

const intervalMs = Number(process.argv[2] ?? 1000)
const windowS = Number(process.argv[3] ?? 30)
const flags = process.argv.slice(4)

interface ThreadUse {
  ms: number
  runs: number
}

function threads(pids: number[]): Map<string, ThreadUse> {
  const out = new Map<string, ThreadUse>()
  for (const pid of pids) threadsOf(pid, out)
  return out
}

function threadsOf(pid: number, out: Map<string, ThreadUse>): void {
  for (const tid of readdirSync(`/proc/${pid}/task`).map(Number)) {
    try {
      out.set(`${tid} ${threadKind(pid, tid)}`, schedstat(pid, tid))
    } catch {} // the thread ended meanwhile
  }
}

const vl = new VrrpLab(['d1', 'd2'])
const cfg = new ConfigDir()
const d = new Lvsd(
  vl.lab,
  'd1',
  cfg,
  { version: intervalMs >= 1000 ? 2 : 3, intervalMs, vrid: 51, vip: `${vl.net}.100/24`, priority: 150 },
  flags,
)
try {
  await d.waitState('MASTER', 20_000)
  await sleep(10_000)
  // lvsd and its pacer helper (lvsd-pacer), each thread apart
  const pids = d.pids()
  if (pids.length === 0) throw new Error('no lvsd process in the namespace')
  const a = threads(pids)
  await sleep(windowS * 1000)
  const b = threads(pids)
  console.log(`lvsd master, ${intervalMs} ms adverts, ${windowS} s, flags [${flags.join(' ')}]`)
  for (const [k, v] of b) {
    const ms = v.ms - (a.get(k)?.ms ?? 0)
    const runs = v.runs - (a.get(k)?.runs ?? 0)
    if (runs > 0) console.log(`  ${k.padEnd(16)} ${ms.toFixed(1).padStart(7)} ms  ${String(runs).padStart(5)} runs`)
  }
} finally {
  await d.term()
  vl.lab.dispose()
  cfg.dispose()
}
