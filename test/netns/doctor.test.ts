// lvsctl doctor through the control API (needs root): a director namespace serves the API and metrics
// over the real doctor (lvsd run needs IPVS, absent on this host, so the agent doctor-daemon.ts stands
// in for the IPVS side only) for DR services, IPv4 and IPv6, TCP and UDP, whose real servers are each
// in one classic wrong state; lvsctl doctor names each one, the metric carries the same findings, and
// after `lvsd realserver up` on each server the doctor finds nothing.
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
const VIP6 = 'fd00:76::100'
// IPv4: r1 no VIP; r2 VIP on eth0 (answers ARP); r3 VIP on lo, arp_ignore 0 (answers ARP); r4 set up right.
// IPv6, the same servers: r1 no VIP (the SYN goes unanswered); r2 VIP on eth0 (answers an NS for it);
// r3 VIP on lo, no sysctl (Linux answers no NS for an address on lo: clean); r4 set up right.
const servers = ['r1', 'r2', 'r3', 'r4'] as const
const ip = (s: string) => `10.76.0.${10 + Number(s.slice(1))}`
const ip6 = (s: string) => `fd00:76::${10 + Number(s.slice(1))}`
const socket = join(dir, 'd.sock')

interface Report {
  checked: { service: string; server: string; result: string; note?: string }[]
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
    - name: web6
      interface: eth0
      vrid: 77
      priority: 150
      version: 3
      vips: ['${VIP6}/64']
virtual_services:
  - name: web
    address: ${VIP}
    port: 80
    protocol: tcp
    forwarding: dr
    follow: web
    real_servers:
${servers.map((s) => `      - { address: ${ip(s)}, port: 80 }`).join('\n')}
  - name: web6
    address: ${VIP6}
    port: 80
    protocol: tcp
    forwarding: dr
    follow: web6
    real_servers:
${servers.map((s) => `      - { address: '${ip6(s)}', port: 80 }`).join('\n')}
  - name: dns
    address: ${VIP}
    port: 53
    protocol: udp
    forwarding: dr
    follow: web
    real_servers:
      - { address: ${ip('r2')}, port: 53 }
      - { address: ${ip('r4')}, port: 53 }
  - name: dns6
    address: ${VIP6}
    port: 53
    protocol: udp
    forwarding: dr
    follow: web6
    real_servers:
      - { address: '${ip6('r1')}', port: 53 }
      - { address: '${ip6('r2')}', port: 53 }
`

const lvsctl = (args: string[]) => lvsctlIn(lab, 'd', socket, args)

function realserverUp(s: string): void {
  const file = join(dir, `${s}-rs.yaml`)
  writeFileSync(file, `realserver:\n  method: dr\n  vips: [${VIP}, '${VIP6}']\n  interfaces: [eth0]\n`)
  const args = ['realserver', 'up', '-c', file, '--record', join(dir, `${s}.rec`)]
  const r = spawnSync('ip', ['netns', 'exec', lab.ns(s), process.execPath, join(repoRoot, 'bin', 'lvsd.js'), ...args], {
    encoding: 'utf8',
    timeout: 30_000,
  })
  if (r.status !== 0) throw new Error(`realserver up on ${s}: ${r.stdout}${r.stderr}`)
}

/** "service server" → its finding kinds. */
function kindsByServer(r: Report): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const f of r.findings) {
    const key = `${f.service} ${f.server}`
    out[key] = [...(out[key] ?? []), f.kind]
  }
  return out
}

test.before(async () => {
  lab.addSwitch()
  lab.addNode({ name: 'd', ipv4: '10.76.0.1/24', ipv6: 'fd00:76::1/64' })
  for (const s of servers) lab.addNode({ name: s, ipv4: `${ip(s)}/24`, ipv6: `${ip6(s)}/64` })
  lab.exec('r2', 'ip', ['addr', 'add', `${VIP}/24`, 'dev', 'eth0'])
  lab.exec('r2', 'ip', ['addr', 'add', `${VIP6}/64`, 'dev', 'eth0', 'nodad'])
  lab.exec('r3', 'ip', ['addr', 'add', `${VIP}/32`, 'dev', 'lo'])
  lab.exec('r3', 'ip', ['addr', 'add', `${VIP6}/128`, 'dev', 'lo'])
  // every eth0 has carrier and IPv6 configured before the first NS: a veth's carrier reaches addrconf late
  await lab.ipv6Ready(['d', ...servers])
  realserverUp('r4')
  for (const s of servers)
    lab.spawn(s, process.execPath, ['-e', "require('net').createServer((c) => c.end()).listen(80)"])
  const file = join(dir, 'd.yaml')
  writeFileSync(file, conf)
  lab.spawn('d', process.execPath, [join(repoRoot, 'dist', 'test', 'netns', 'agents', 'doctor-daemon.js'), file])
  await waitFor(() => lvsctl(['status']).status === 0, 20_000, 100)
  // a SYN before a listener is up reads as port-closed: wait until every server listens on port 80
  await waitFor(() => servers.every((s) => lab.exec(s, 'ss', ['-Hltn', 'sport = :80']).trim() !== ''), 20_000, 50)
})
test.after.always(() => {
  lab.dispose()
  rmSync(dir, { recursive: true, force: true })
})

test.serial('lvsctl doctor names each wrong real server, IPv4 and IPv6, TCP and UDP, with its fix and exits 1', (t) => {
  const r = lvsctl(['doctor', '--json'])
  t.is(r.status, 1, r.err)
  const report = JSON.parse(r.out) as Report
  t.deepEqual(
    report.checked.map((c) => `${c.service} ${c.server} ${c.result}`),
    [
      ...servers.map((s) => `web ${ip(s)}:80 probed`),
      ...servers.map((s) => `web6 [${ip6(s)}]:80 probed`),
      `dns ${ip('r2')}:53 probed`,
      `dns ${ip('r4')}:53 probed`,
      `dns6 [${ip6('r1')}]:53 probed`,
      `dns6 [${ip6('r2')}]:53 probed`,
    ],
  )
  t.deepEqual(kindsByServer(report), {
    [`web ${ip('r1')}:80`]: ['vip-not-accepted'],
    [`web ${ip('r2')}:80`]: ['answers-vip-arp'],
    [`web ${ip('r3')}:80`]: ['answers-vip-arp'],
    [`web6 [${ip6('r1')}]:80`]: ['vip-not-accepted'],
    [`web6 [${ip6('r2')}]:80`]: ['answers-vip-ns'],
    // r3's VIP on lo with no sysctl at all: Linux answers no NS for it, unlike ARP (docs/realserver.md)
    [`dns ${ip('r2')}:53`]: ['answers-vip-arp'],
    // UDP: r1 has no VIP, but only the L2 checks apply, and it passes them
    [`dns6 [${ip6('r2')}]:53`]: ['answers-vip-ns'],
  })
  t.true(
    report.checked
      .filter((c) => c.service.startsWith('dns'))
      .every((c) => /^UDP: probed at L2 only/.test(c.note ?? '')),
  )
  t.true(report.checked.filter((c) => c.service.startsWith('web')).every((c) => c.note === undefined))
  t.true(report.findings.every((f) => /lvsd realserver (up|check)/.test(f.fix)))
  const text = lvsctl(['doctor', 'web'])
  t.is(text.status, 1)
  t.regex(text.out, new RegExp(`web ${ip('r1')}:80: vip-not-accepted: .*\\n  fix: on ${ip('r1')}: lvsd realserver up`))
  t.regex(text.out, /4 real servers probed, 3 findings/)
  const text6 = lvsctl(['doctor', 'web6'])
  t.regex(
    text6.out,
    new RegExp(`web6 \\[${ip6('r2')}\\]:80: answers-vip-ns: ${ip6('r2')} answers a Neighbor Solicitation for the VIP`),
  )
  t.regex(text6.out, /4 real servers probed, 2 findings/)
  const udp = lvsctl(['doctor', 'dns'])
  t.regex(udp.out, new RegExp(`dns ${ip('r4')}:53: partly probed: UDP: probed at L2 only`))
  const unknown = lvsctl(['doctor', 'nosuch'])
  t.is(unknown.status, 1)
  t.regex(unknown.err, /LVSD_API_UNKNOWN_SERVICE/)
})

test.serial('the last full run is the lvsd_doctor_findings metric', (t) => {
  lvsctl(['doctor'])
  const body = fetchIn(lab, 'd', 'http://127.0.0.1:9481/metrics')
  t.regex(body, new RegExp(`lvsd_doctor_findings\\{service="web",server="${ip('r2')}:80",kind="answers-vip-arp"\\} 1`))
  t.regex(body, new RegExp(`lvsd_doctor_findings\\{service="web",server="${ip('r1')}:80",kind="vip-not-accepted"\\} 1`))
  t.regex(
    body,
    new RegExp(`lvsd_doctor_findings\\{service="web6",server="\\[${ip6('r2')}\\]:80",kind="answers-vip-ns"\\} 1`),
  )
  t.regex(body, new RegExp(`lvsd_doctor_findings\\{service="dns",server="${ip('r2')}:53",kind="answers-vip-arp"\\} 1`))
  t.notRegex(body, new RegExp(`lvsd_doctor_findings\\{service="web",server="${ip('r4')}:80"`))
  t.regex(body, /lvsd_doctor_last_run_timestamp_seconds \d/)
})

test.serial('after lvsd realserver up on each server the doctor finds nothing and exits 0', async (t) => {
  lab.exec('r2', 'ip', ['addr', 'del', `${VIP}/24`, 'dev', 'eth0'])
  lab.exec('r2', 'ip', ['addr', 'del', `${VIP6}/64`, 'dev', 'eth0'])
  for (const s of ['r1', 'r2', 'r3']) realserverUp(s)
  const r = await waitFor(
    () => {
      const x = lvsctl(['doctor'])
      return x.status === 0 ? x : undefined
    },
    20_000,
    200,
  )
  t.regex(r?.out ?? '', /12 real servers probed, 0 findings/)
  t.notRegex(fetchIn(lab, 'd', 'http://127.0.0.1:9481/metrics'), /lvsd_doctor_findings\{/)
})
