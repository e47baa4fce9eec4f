// Failover timing and steady-state cost of two lvsd daemons in a netns lab (root): N trials of
// SIGKILL and of SIGTERM of the master at a random phase of the advert cycle, the backup's takeover
// measured against the master's last advert (tcpdump timestamps in the backup's namespace), then
// CPU time of master and backup over a quiet period. Usage: node dist/bench/vrrp-failover.js [trials] [quietSeconds]
import { spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { Lab, waitFor } from '../test/helpers/netns.js'
import { ConfigDir, Director, MAC, sleep, vrrpConfig } from '../test/netns/agents/vrrp-harness.js'

const trials = Number(process.argv[2] ?? 7)
const quietS = Number(process.argv[3] ?? 30)
const VIP = '10.90.0.100/24'

const lab = new Lab('bf')
const cfg = new ConfigDir()
const d1conf = cfg.write('d1.yaml', vrrpConfig({ node: 'd1', priority: 150, vip: VIP }))
const d2conf = cfg.write('d2.yaml', vrrpConfig({ node: 'd2', priority: 100, vip: VIP }))

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b)
  const med = s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
  return `${med.toFixed(1)} (${s[0]?.toFixed(1)}–${s.at(-1)?.toFixed(1)}) ms, n=${s.length}`
}

/** utime + stime of every process in a namespace, ms (clock ticks of 10 ms). */
function cpuMs(node: string): number {
  const out = spawnSync('ip', ['netns', 'pids', lab.ns(node)], { encoding: 'utf8' }).stdout
  let ticks = 0
  for (const p of out.split(/\s+/).filter(Boolean)) {
    let stat: string
    try {
      stat = readFileSync(`/proc/${p}/stat`, 'utf8')
    } catch {
      continue // exited meanwhile
    }
    const f = stat.split(') ')[1]?.split(' ') ?? []
    ticks += Number(f[11]) + Number(f[12])
  }
  return ticks * 10
}

async function trial(kind: 'SIGKILL' | 'SIGTERM'): Promise<number> {
  let d2 = new Director(lab, 'd2', d2conf)
  let d1 = new Director(lab, 'd1', d1conf)
  await d1.waitState('MASTER', 30_000)
  await d2.waitState('BACKUP', 30_000)
  const cap = spawn(
    'ip',
    ['netns', 'exec', lab.ns('d2'), 'tcpdump', '-l', '-n', '-tt', '--immediate-mode', '-i', 'eth0', 'ip proto 112'],
    {
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  )
  let seen = ''
  cap.stdout.on('data', (b: Buffer) => {
    seen += b.toString()
  })
  await waitFor(() => seen.includes('10.90.0.1 >'), 10_000)
  await sleep(500 + Math.random() * 100) // random phase of the 100 ms cycle
  const mark = d2.mark()
  d1.kill(kind)
  const m = await d2.waitState('MASTER', 15_000, mark)
  cap.kill('SIGTERM')
  // SIGKILL: the master's last advert; SIGTERM: its priority-0 advert
  const last = seen
    .split('\n')
    .filter((l) => l.includes('10.90.0.1 > 224.0.0.18') && l.includes('prio 0,') === (kind === 'SIGTERM'))
    .map((l) => Number(l.split(' ')[0]) * 1000)
    .filter((x) => x < (m.at as number))
    .at(-1) as number
  for (const d of [d1, d2]) d.kill('SIGKILL')
  await Promise.all([d1.exited, d2.exited])
  // a SIGKILLed d1 left its VIP: the next run's start-up removes it
  d1 = d2 = undefined as unknown as Director
  return (m.at as number) - last
}

try {
  lab.addSwitch()
  lab.addNode({ name: 'd1', ipv4: '10.90.0.1/24', mac: MAC(1) })
  lab.addNode({ name: 'd2', ipv4: '10.90.0.2/24', mac: MAC(2) })
  console.log(
    `load average at start: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  )
  for (const kind of ['SIGKILL', 'SIGTERM'] as const) {
    const xs: number[] = []
    for (let i = 0; i < trials; i++) xs.push(await trial(kind))
    const what = kind === 'SIGKILL' ? 'after the last advert (RFC 361 ms)' : 'after the priority-0 advert (RFC 61 ms)'
    console.log(`${kind}: backup MASTER ${what}: ${stats(xs)}`)
  }
  const d2 = new Director(lab, 'd2', d2conf)
  const d1 = new Director(lab, 'd1', d1conf)
  await d1.waitState('MASTER', 30_000)
  await sleep(2000)
  const [m0, b0] = [cpuMs('d1'), cpuMs('d2')]
  await sleep(quietS * 1000)
  const [m1, b1] = [cpuMs('d1'), cpuMs('d2')]
  const perMin = (x: number) => ((x * 60) / quietS).toFixed(0)
  console.log(
    `CPU over ${quietS} s at 100 ms adverts: master ${perMin(m1 - m0)} ms/min, backup ${perMin(b1 - b0)} ms/min`,
  )
  d1.kill('SIGTERM')
  d2.kill('SIGTERM')
  await Promise.all([d1.exited, d2.exited])
  console.log(
    `load average at end: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  )
} finally {
  lab.dispose()
  cfg.dispose()
}
