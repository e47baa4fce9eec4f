// How long a crashed master's VIP stays on the wire after the daemon is started again, lvsd and
// keepalived side by side (root). Per trial: the daemon alone becomes MASTER, is crashed (lvsd:
// SIGKILL; keepalived: SIGSTOP then SIGKILL), leaving its VIP on eth0; `ip -ts monitor address`
// watches the namespace; the daemon is started again; the figure is the kernel's deletion of the
// VIP minus the moment of the exec. Trials alternate between the two; a third variant removes lvsd's
// record of held VIPs first (src/director/held-vips.ts), which is how lvsd behaved before it had one
// (the VRRP worker's start-up removed the VIP), and a fourth row is Node's own start-up (`node -e ''`,
// exec to exit), the floor for any daemon written in Node.
// Usage: node dist/bench/vrrp-restart-vip.js [trials=7]
import { type ChildProcess, spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { heldVipsFile } from '../src/director/held-vips.js'
import { ConfigDir } from '../test/netns/agents/vrrp-harness.js'
import { type Daemon, type Impl, load, startDaemon, summary, VrrpLab, type VrrpSpec } from './agents/vrrp-lab.js'

const trials = Number(process.argv[2] ?? 7)
const vl = new VrrpLab(['d1'])
const cfg = new ConfigDir()
const spec: VrrpSpec = { version: 3, intervalMs: 100, vrid: 51, vip: vl.vip, priority: 150 }
const VIP = vl.vip

function monitor(): { deletedAt: Promise<number>; proc: ChildProcess } {
  const proc = vl.lab.spawn('d1', 'ip', ['-ts', 'monitor', 'address'])
  const deletedAt = new Promise<number>((resolve) => {
    createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (l) => {
      const m = /^\[([^\]]+)\]\s*Deleted .*inet (\S+)/.exec(l)
      if (m && m[2] === VIP) {
        // microseconds of the local wall clock (UTC here), as Date.now() reads it
        const [date = '', frac = '0'] = (m[1] as string).split('.')
        resolve(Date.parse(`${date}Z`) + Number(`0.${frac}`) * 1000)
      }
    })
  })
  return { deletedAt, proc }
}

type Variant = Impl | 'lvsd-no-record'

async function trial(variant: Variant): Promise<number> {
  const impl: Impl = variant === 'keepalived' ? 'keepalived' : 'lvsd'
  await vl.reset(['d1'])
  const first: Daemon = startDaemon(impl, vl.lab, 'd1', cfg, spec)
  await first.waitState('MASTER', 30_000)
  first.crash()
  await vl.reset([]) // nothing to kill: wait for nothing, keep the VIP
  if (variant === 'lvsd-no-record') rmSync(heldVipsFile(join(cfg.dir, 'd1-lvsd.yaml')), { force: true })
  const mon = monitor()
  await new Promise((r) => setTimeout(r, 300)) // subscribed before the start
  const t0 = Date.now()
  const second = startDaemon(impl, vl.lab, 'd1', cfg, spec)
  const timeout = new Promise<number>((_, rej) =>
    setTimeout(() => rej(new Error(`${impl}: VIP not removed in 10 s`)), 10_000),
  )
  try {
    return (await Promise.race([mon.deletedAt, timeout])) - t0
  } finally {
    mon.proc.kill()
    second.crash()
  }
}

const variants: Variant[] = ['lvsd', 'keepalived', 'lvsd-no-record']
const results: Record<Variant | 'node -e', number[]> = { lvsd: [], keepalived: [], 'lvsd-no-record': [], 'node -e': [] }
try {
  for (let i = 0; i < trials; i++) {
    const order = i % 2 ? [...variants].reverse() : variants
    for (const v of order) {
      const ms = await trial(v)
      results[v].push(ms)
      process.stdout.write(`${v} trial ${i + 1}: ${ms.toFixed(1)} ms (load ${load()})\n`)
    }
    const t0 = performance.now()
    spawnSync(process.execPath, ['-e', ''])
    results['node -e'].push(performance.now() - t0)
  }
  process.stdout.write('\nstale VIP removed after restart, ms from exec: median (min–max)\n')
  for (const v of [...variants, 'node -e'] as const)
    process.stdout.write(`  ${v.padEnd(15)} ${summary(results[v]).text}  n=${results[v].length}\n`)
} finally {
  await vl.reset(['d1'])
  vl.dispose()
  cfg.dispose()
}
