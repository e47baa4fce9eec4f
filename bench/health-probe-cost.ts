// Cost of one TCP probe by layer (root): the same N probes through the raw batched prober
// (src/sys/tcp-probe.ts, which reuses the socket of a probe that passed), through the TCP check
// (src/health/tcp.ts), and through a plain net.Socket with resetAndDestroy (what the check did
// before), in rounds of `batch` at a time. Reports CPU µs per probe of the probing process (user +
// system). By default the lab is health-scale's rps lab (bench/health-lab-cpu.ts): the prober pinned
// to one CPU, receive processing steered to the other, so the system part is the prober's own. With
// BENCH_LAB=veth it also includes the server's half of the handshake, which the kernel then does in
// the sender's softirq.
//   node dist/bench/health-probe-cost.js [probes=20000] [batch=200]
import { spawnSync } from 'node:child_process'
import net from 'node:net'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Lab, sh, waitFor } from '../test/helpers/netns.js'
import { PROBER_CPU, RX_CPU, steerReceive } from './health-lab-cpu.js'

const [probes = 20000, batch = 200] = process.argv.slice(2).map(Number)
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url))
const SERVERS = Number(process.env.SERVERS ?? 1000)
const rsAddr = (i: number) => `10.21.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`

if (process.argv[2] === 'agent') {
  const { TcpProbes } = await import('../src/sys/tcp-probe.js')
  const { sockaddrIn } = await import('../src/sys/sockaddr.js')
  const { check } = await import('../src/health/tcp.js')
  const { parseAddr } = await import('../src/net/addr.js')
  const [, n = '20000', b = '200'] = process.argv.slice(2)
  const total = Number(n)
  const per = Number(b)
  const raw = new TcpProbes()
  const sockaddrs = Array.from({ length: SERVERS }, (_, i) => ({ to: sockaddrIn(parseAddr(rsAddr(i)).bytes, 80) }))
  const targets = Array.from({ length: SERVERS }, (_, i) => ({ addr: parseAddr(rsAddr(i)), port: 80 }))
  const full = sockaddrs.map((s) => ({ ...s, fullHandshake: true }))
  const ways: Record<string, (i: number) => Promise<boolean>> = {
    raw: (i) => new Promise((r) => raw.start(sockaddrs[i % SERVERS] as { to: Buffer }, (e) => r(e === 0))),
    'raw, final ACK': (i) => new Promise((r) => raw.start(full[i % SERVERS] as { to: Buffer }, (e) => r(e === 0))),
    check: (i) =>
      check(targets[i % SERVERS] as (typeof targets)[0], {}, new AbortController().signal).then((r) => r.ok),
    'net.Socket': (i) =>
      new Promise<boolean>((resolve) => {
        const s = net.connect({ host: rsAddr(i % SERVERS), port: 80 })
        s.once('connect', () => {
          s.resetAndDestroy()
          resolve(true)
        })
        s.once('error', () => resolve(false))
      }),
  }
  // each way twice, interleaved, so drift in the machine's load shows up as a difference between rounds
  for (const [name, one] of [...Object.entries(ways), ...Object.entries(ways)]) {
    const cpu0 = process.cpuUsage()
    const t0 = performance.now()
    let ok = 0
    for (let done = 0; done < total; done += per) {
      const rs = await Promise.all(Array.from({ length: per }, (_, k) => one(done + k)))
      ok += rs.filter(Boolean).length
    }
    const cpu = process.cpuUsage(cpu0)
    const wall = performance.now() - t0
    console.log(
      JSON.stringify({
        way: name,
        probes: total,
        ok,
        userUs: +(cpu.user / total).toFixed(1),
        systemUs: +(cpu.system / total).toFixed(1),
        wallUs: +((wall * 1000) / total).toFixed(1),
      }),
    )
  }
  raw.close()
  process.exit(0)
}

const lab = new Lab('hpc')
try {
  lab.addPair({ name: 'p', ipv4: '10.20.0.1/24' }, { name: 's', ipv4: '10.20.0.254/24' })
  const addrs = Array.from({ length: SERVERS }, (_, i) => `addr add ${rsAddr(i)}/32 dev lo`).join('\n')
  sh('ip', ['-n', lab.ns('s'), '-batch', '-'], `${addrs}\n`)
  sh('ip', ['-n', lab.ns('p'), 'route', 'add', '10.21.0.0/16', 'via', '10.20.0.254'])
  const rps = process.env.BENCH_LAB !== 'veth'
  if (rps) {
    steerReceive(lab, 'p')
    steerReceive(lab, 's')
  }
  const pin = (cpu: number) => (rps ? ['taskset', '-c', String(cpu)] : [])
  const server = lab.spawn('s', pin(RX_CPU)[0] ?? process.execPath, [
    ...pin(RX_CPU).slice(1),
    ...(rps ? [process.execPath] : []),
    here('./health-scale-server.js'),
    String(SERVERS),
  ])
  let ready = false
  server.stdout?.on('data', (d: Buffer) => {
    if (d.toString().includes('ready')) ready = true
  })
  await waitFor(() => ready, 60_000)
  const r = spawnSync(
    'ip',
    [
      'netns',
      'exec',
      lab.ns('p'),
      ...pin(PROBER_CPU),
      process.execPath,
      here('./health-probe-cost.js'),
      'agent',
      String(probes),
      String(batch),
    ],
    { encoding: 'utf8', timeout: 600_000 },
  )
  console.log(JSON.stringify({ lab: rps ? 'rps' : 'veth', load: loadavg()[0] }))
  process.stdout.write(r.stdout)
  process.stderr.write(r.stderr)
} finally {
  lab.dispose()
}
