// Bench agent (prober namespace): the whole director as `lvsd run` builds it (LvsDirector, its API with
// the control socket and /metrics, the event log at info) checking N real servers (10.21.x.y:80, TCP,
// services of 250) on a fake IPVS kernel: this host has no IPVS, and the per-check work this measures
// (health results, events, metrics, the weight book, IPVS passes on transitions) is lvsd's, not the
// kernel's. Prints a sample each second with the scheduler's counters.
//   health-daemon-agent.js <servers> <intervalMs> <timeoutMs> <metricsPort>
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startFakeIpvsDirector } from '../test/helpers/fake-ipvs-director.js'
import { sampleEverySecond } from './bench-sample.js'

const [servers = '10000', intervalMs = '1000', timeoutMs = '500', metricsPort = '9478'] = process.argv.slice(2)
const n = Number(servers)
const PER_SERVICE = 250
const rsAddr = (i: number) => `10.21.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`

const dir = mkdtempSync(join(tmpdir(), 'lvsd-health-daemon-'))
const services: string[] = []
for (let s = 0; s * PER_SERVICE < n; s++) {
  const rs: string[] = []
  for (let i = s * PER_SERVICE; i < Math.min(n, (s + 1) * PER_SERVICE); i++)
    rs.push(`      - { address: ${rsAddr(i)}, port: 80 }`)
  services.push(`  - name: svc${s}
    address: 10.30.${Math.floor(s / 250)}.${1 + (s % 250)}
    port: 80
    scheduler: wrr
    checks:
      - { type: tcp, interval: ${intervalMs}ms, timeout: ${timeoutMs}ms, rise: 2, fall: 2 }
    real_servers:
${rs.join('\n')}`)
}
const file = join(dir, 'lvsd.yaml')
writeFileSync(
  file,
  `node: bench
control: { socket: ${join(dir, 'lvsd.sock')} }
metrics: { enabled: true, address: 127.0.0.1, port: ${metricsPort} }
virtual_services:
${services.join('\n')}
`,
)

const { director } = await startFakeIpvsDirector(file, 'bench')
process.stdout.write(`${JSON.stringify({ event: 'ready', pid: process.pid })}\n`)

sampleEverySecond(() => ({ ...director.checks }))
