// What one wake-up a second costs a thread on this machine, before any VRRP work (root): a C
// program on a timerfd (keepalived's way), Node's main thread and a worker thread on setTimeout,
// a worker on lvsd's DeadlineTimers (the VRRP worker's clock), and each sending one raw VRRP
// datagram per wake-up, and the C program again after touching 60 MiB (in 4 KiB or huge pages), each in a namespace of a VRRP lab on its own, measured from
// /proc/PID/task/*/schedstat over a window after a warm-up. The busiest thread's CPU per wake-up
// is the figure: what an idle VRRP master cannot go below in that design.
// Usage: node dist/bench/wake-floor.js [windowS=30] [warmupS=25] [cases...]
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ConfigDir, sleep } from '../test/netns/agents/vrrp-harness.js'
import { buildC } from './agents/build-c.js'
import { load, VrrpLab } from './agents/vrrp-lab.js'

const windowS = Number(process.argv[2] ?? 30)
const warmupS = Number(process.argv[3] ?? 25)
const ALL = [
  'c',
  'c-send',
  'c-mem60',
  'c-mem60-huge',
  'main-settimeout',
  'worker-settimeout',
  'worker-deadline',
  'worker-deadline-send',
]
/** The C program's arguments for a case: c-send → send; c-mem60-huge → mem=60 huge. */
const cArgs = (c: string): string[] =>
  c
    .split('-')
    .slice(1)
    .map((w) => (w.startsWith('mem') ? `mem=${w.slice(3)}` : w))
const cases = process.argv.length > 4 ? process.argv.slice(4) : ALL

function threads(pid: number): Map<string, { ms: number; runs: number }> {
  const out = new Map<string, { ms: number; runs: number }>()
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const [ns = 0, , runs = 0] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number)
      out.set(tid, { ms: ns / 1e6, runs })
    } catch {} // the thread ended meanwhile
  }
  return out
}

const cfg = new ConfigDir()
const bin = buildC('wake-floor', cfg.dir)
const child = fileURLToPath(new URL('./agents/wake-floor-node.js', import.meta.url))
const vl = new VrrpLab(['d1', 'd2'])
try {
  console.log(`load average at start: ${load()}`)
  console.log('| case | busiest thread, CPU per wake-up (ms) | its wake-ups | whole process, ms/min |')
  console.log('| --- | --- | --- | --- |')
  for (const c of cases) {
    const p = c.startsWith('c') ? vl.lab.spawn('d1', bin, cArgs(c)) : vl.lab.spawn('d1', process.execPath, [child, c])
    try {
      await sleep(warmupS * 1000)
      const pid = p.pid
      if (pid === undefined) throw new Error(`${c}: no pid`)
      const a = threads(pid)
      await sleep(windowS * 1000)
      const b = threads(pid)
      const rows = [...b].map(([tid, v]) => ({
        ms: v.ms - (a.get(tid)?.ms ?? 0),
        runs: v.runs - (a.get(tid)?.runs ?? 0),
      }))
      const busiest = rows.reduce((x, y) => (y.ms > x.ms ? y : x), { ms: 0, runs: 0 })
      const total = rows.reduce((s, r) => s + r.ms, 0)
      console.log(
        `| ${c} | ${(busiest.ms / Math.max(1, busiest.runs)).toFixed(3)} | ${busiest.runs} | ${((total * 60) / windowS).toFixed(1)} |`,
      )
    } finally {
      p.kill('SIGKILL')
    }
  }
  console.log(`load average at end: ${load()}`)
} finally {
  vl.lab.dispose()
  cfg.dispose()
}
