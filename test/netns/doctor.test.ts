// lvsctl doctor through the control API (needs root): a director namespace serves the API and metrics
// over the real doctor (lvsd run needs IPVS, absent on this host, so the agent doctor-daemon.ts stands
// in for the IPVS side only) for a DR service whose real servers are each in one classic wrong state;
// lvsctl doctor names each one, the metric carries the same findings, and after `lvsd realserver up`
// on each server the doctor finds nothing.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { Lab, waitFor } from '../helpers/netns.js'
import { repoRoot } from '../helpers/paths.js'
import { fetchIn, lvsctlIn } from './agents/vrrp-harness.js'

const lab = new Lab('dc')
const dir = mkdtempSync(join(tmpdir(), 'lvsd-doctor-'))
const VIP = '10.76.0.100'
// r1: no VIP; r2: VIP on eth0 (answers ARP); r3: VIP on lo, arp_ignore 0 (answers ARP); r4: set up right
const servers = ['r1', 'r2', 'r3', 'r4'] as const
const ip = (s: string) => `10.76.0.${10 + Number(s.slice(1))}`
const socket = join(dir, 'd.sock')

interface Report {
  checked: { server: string; result: string }[]
  findings: { service: string; server: string; kind: string; fix: string }[]
}

const conf = `node: d
control: { socket: ${socket} }
metrics: { enabled: true, address: 127.0.0.1, port: 9481 }
vrrp:
  instances:
    - name: web
      interface: eth0
      vrid: 76
      priority: 150
      vips: [${VIP}/24]
virtual_services:
  - name: web
    address: ${VIP}
    port: 80
    protocol: tcp
    forwarding: dr
    follow: web
    real_servers:
${servers.map((s) => `      - { address: ${ip(s)}, port: 80 }`).join('\n')}
`

const lvsctl = (args: string[]) => lvsctlIn(lab, 'd', socket, args)

function realserverUp(s: string): void {
  const file = join(dir, `${s}-rs.yaml`)
  writeFileSync(file, `realserver:\n  method: dr\n  vips: [${VIP}]\n  interfaces: [eth0]\n`)
  const args = ['realserver', 'up', '-c', file, '--record', join(dir, `${s}.rec`)]
  const r = spawnSync('ip', ['netns', 'exec', lab.ns(s), process.execPath, join(repoRoot, 'bin', 'lvsd.js'), ...args], {
    encoding: 'utf8',
    timeout: 30_000,
  })
  if (r.status !== 0) throw new Error(`realserver up on ${s}: ${r.stdout}${r.stderr}`)
}

function kindsByServer(r: Report): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const f of r.findings) {
    const server = f.server.replace(/:80$/, '')
    out[server] = [...(out[server] ?? []), f.kind]
  }
  return out
}

test.before(async () => {
  lab.addSwitch()
  lab.addNode({ name: 'd', ipv4: '10.76.0.1/24' })
  for (const s of servers) lab.addNode({ name: s, ipv4: `${ip(s)}/24` })
  lab.exec('r2', 'ip', ['addr', 'add', `${VIP}/24`, 'dev', 'eth0'])
  lab.exec('r3', 'ip', ['addr', 'add', `${VIP}/32`, 'dev', 'lo'])
  realserverUp('r4')
  for (const s of servers)
    lab.spawn(s, process.execPath, ['-e', "require('net').createServer((c) => c.end()).listen(80)"])
  const file = join(dir, 'd.yaml')
  writeFileSync(file, conf)
  lab.spawn('d', process.execPath, [join(repoRoot, 'dist', 'test', 'netns', 'agents', 'doctor-daemon.js'), file])
  await waitFor(() => lvsctl(['status']).status === 0, 20_000, 100)
  // the listeners are up once each server's port answers (RST before that would read as port-closed)
  await waitFor(
    () => {
      const r = JSON.parse(lvsctl(['doctor', '--json']).out || '{"findings":[]}') as Report
      return r.findings.every((f) => f.kind !== 'port-closed')
    },
    20_000,
    200,
  )
})
test.after.always(() => {
  lab.dispose()
  rmSync(dir, { recursive: true, force: true })
})

test.serial('lvsctl doctor names each wrong real server with its fix and exits 1', (t) => {
  const r = lvsctl(['doctor', '--json'])
  t.is(r.status, 1, r.err)
  const report = JSON.parse(r.out) as Report
  t.deepEqual(
    report.checked.map((c) => c.result),
    ['probed', 'probed', 'probed', 'probed'],
  )
  t.deepEqual(kindsByServer(report), {
    [ip('r1')]: ['vip-not-accepted'],
    [ip('r2')]: ['answers-vip-arp'],
    [ip('r3')]: ['answers-vip-arp'],
  })
  t.true(report.findings.every((f) => f.service === 'web' && /lvsd realserver up/.test(f.fix)))
  const text = lvsctl(['doctor', 'web'])
  t.is(text.status, 1)
  t.regex(text.out, new RegExp(`web ${ip('r1')}:80: vip-not-accepted: .*\\n  fix: on ${ip('r1')}: lvsd realserver up`))
  t.regex(text.out, /4 real servers probed, 3 findings/)
  const unknown = lvsctl(['doctor', 'nosuch'])
  t.is(unknown.status, 1)
  t.regex(unknown.err, /LVSD_API_UNKNOWN_SERVICE/)
})

test.serial('the last full run is the lvsd_doctor_findings metric', (t) => {
  lvsctl(['doctor'])
  const body = fetchIn(lab, 'd', 'http://127.0.0.1:9481/metrics')
  t.regex(body, new RegExp(`lvsd_doctor_findings\\{service="web",server="${ip('r2')}:80",kind="answers-vip-arp"\\} 1`))
  t.regex(body, new RegExp(`lvsd_doctor_findings\\{service="web",server="${ip('r1')}:80",kind="vip-not-accepted"\\} 1`))
  t.notRegex(body, new RegExp(`lvsd_doctor_findings\\{service="web",server="${ip('r4')}:80"`))
  t.regex(body, /lvsd_doctor_last_run_timestamp_seconds \d/)
})

test.serial('after lvsd realserver up on each server the doctor finds nothing and exits 0', async (t) => {
  lab.exec('r2', 'ip', ['addr', 'del', `${VIP}/24`, 'dev', 'eth0'])
  for (const s of ['r1', 'r2', 'r3']) realserverUp(s)
  const r = await waitFor(
    () => {
      const x = lvsctl(['doctor'])
      return x.status === 0 ? x : undefined
    },
    20_000,
    200,
  )
  t.regex(r?.out ?? '', /4 real servers probed, 0 findings/)
  t.notRegex(fetchIn(lab, 'd', 'http://127.0.0.1:9481/metrics'), /lvsd_doctor_findings\{/)
})
