// lvsd realserver on a real server namespace (needs root): each classic wrong state is found by
// `check` with its fix; `up` makes the host right (a peer's ARP for the VIP goes unanswered, the VIP is
// local); `down` leaves every address and sysctl as it was before, compared with ip(8) and sysctl(8).
// The director's side (the doctor's DR probes over AF_PACKET, from a director namespace on the same
// switch) reports the same wrong states, and nothing once `up` ran and the service listens.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { Lab, waitFor } from '../helpers/netns.js'
import { repoRoot } from '../helpers/paths.js'

const lab = new Lab('rs')
const dir = mkdtempSync(join(tmpdir(), 'lvsd-rs-'))
const VIP = '10.75.0.100'
const VIP6 = 'fd00:75::100'

function config(name: string, method: 'dr' | 'tun', vips: string[]): string {
  const p = join(dir, `${name}.yaml`)
  writeFileSync(p, `realserver:\n  method: ${method}\n  vips: [${vips.join(', ')}]\n  interfaces: [eth0]\n`)
  return p
}

interface Finding {
  kind: string
  problem: string
  fix: string
}

const doctorAgent = join(repoRoot, 'dist', 'test', 'netns', 'agents', 'doctor-probe.js')

/** The doctor's findings for one DR real server of VIP:80, probed from the director namespace. */
function doctor(node: string): Finding[] {
  const ip = `10.75.0.${10 + Number(node.slice(1)) + 1}`
  const r = lab.node('d', doctorAgent, ['eth0', node === 'nobody' ? '10.75.0.250' : ip, VIP, '80'])
  if (r.status !== 0) throw new Error(`doctor agent failed: ${r.stderr}`)
  return JSON.parse(r.stdout) as Finding[]
}

function listen(node: string): void {
  lab.spawn(node, process.execPath, ['-e', "require('net').createServer((s) => s.end()).listen(80)"])
}

function realserver(node: string, args: string[]) {
  const r = spawnSync(
    'ip',
    ['netns', 'exec', lab.ns(node), process.execPath, join(repoRoot, 'bin', 'lvsd.js'), 'realserver', ...args],
    { encoding: 'utf8', timeout: 30_000 },
  )
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

function check(node: string, cfg: string): { status: number | null; findings: Finding[] } {
  const r = realserver(node, ['check', '-c', cfg, '--json', '--record', join(dir, `${node}.rec`)])
  return { status: r.status, findings: JSON.parse(r.stdout) as Finding[] }
}

/** Everything up/down may touch, as the standard tools print it. */
function snapshot(node: string): string {
  const addrs = lab.exec(node, 'ip', ['-o', 'addr', 'show']).replace(/valid_lft.*$/gm, '')
  const sysctls = lab.exec(node, 'sysctl', [
    '-a',
    '--pattern',
    'net\\.ipv4\\.conf\\.(all|eth0|lo|tunl0)\\.(arp_ignore|arp_announce|rp_filter)',
  ])
  return `${addrs}\n${sysctls}`
}

/** Does anything on the segment answer ARP for the VIP? (from the peer, like a director would ask) */
function arpAnswered(ip: string): boolean {
  return (
    lab
      .exec('peer', 'sh', ['-c', `arping -q -c 3 -W 0.2 -i eth0 ${ip} >/dev/null 2>&1 && echo yes || echo no`])
      .trim() === 'yes'
  )
}

let n = 0
function server(): string {
  const name = `r${n++}`
  lab.addNode({ name, ipv4: `10.75.0.${10 + n}/24`, ipv6: `fd00:75::${10 + n}/64` })
  return name
}

test.before(() => {
  lab.addSwitch()
  lab.addNode({ name: 'peer', ipv4: '10.75.0.2/24' })
  lab.addNode({ name: 'd', ipv4: '10.75.0.1/24' })
})
test.after.always(() => {
  lab.dispose()
  rmSync(dir, { recursive: true, force: true })
})

test.serial('a server without the VIP: check names vip-missing with the ip command, exits 1', (t) => {
  const s = server()
  const c = check(s, config(s, 'dr', [VIP, VIP6]))
  t.is(c.status, 1)
  const missing = c.findings.filter((f) => f.kind === 'vip-missing').map((f) => f.fix)
  t.deepEqual(missing, [`ip addr add ${VIP}/32 dev lo`, `ip addr add ${VIP6}/128 dev lo`])
  t.deepEqual(
    doctor(s).map((f) => f.kind),
    ['vip-not-accepted'],
    'the director sees the SYN to the VIP go unanswered',
  )
})

test.serial('the doctor reports a real server that is not on the segment', (t) => {
  t.deepEqual(
    doctor('nobody').map((f) => f.kind),
    ['not-on-segment'],
  )
})

test.serial(
  'a server with the VIP on eth0 answers ARP for it: check reports it, up refuses and changes nothing',
  (t) => {
    const s = server()
    const cfg = config(s, 'dr', [VIP])
    lab.exec(s, 'ip', ['addr', 'add', `${VIP}/24`, 'dev', 'eth0'])
    t.true(arpAnswered(VIP), 'the wrong state is real: the server answers ARP for the VIP')
    const c = check(s, cfg)
    t.is(c.status, 1)
    const elsewhere = c.findings.find((f) => f.kind === 'vip-elsewhere')
    t.is(elsewhere?.fix, `ip addr del ${VIP}/24 dev eth0`)
    t.true(
      doctor(s).some((f) => f.kind === 'answers-vip-arp'),
      'the director sees it answer ARP for the VIP',
    )
    const before = snapshot(s)
    const up = realserver(s, ['up', '-c', cfg, '--record', join(dir, `${s}.rec`)])
    t.is(up.status, 1)
    t.regex(up.stderr, /LVSD_REALSERVER_REFUSED/)
    t.is(snapshot(s), before)
    lab.exec(s, 'ip', ['addr', 'del', `${VIP}/24`, 'dev', 'eth0'])
  },
)

test.serial('a server with the VIP on lo but arp_ignore 0 answers ARP for it; after up it does not', async (t) => {
  const s = server()
  const cfg = config(s, 'dr', [VIP])
  lab.exec(s, 'ip', ['addr', 'add', `${VIP}/32`, 'dev', 'lo'])
  t.true(arpAnswered(VIP), 'with arp_ignore 0 Linux answers ARP on eth0 for an address on lo')
  const c = check(s, cfg)
  t.is(c.status, 1)
  t.true(c.findings.some((f) => f.kind === 'sysctl-wrong' && f.fix === 'sysctl -w net.ipv4.conf.all.arp_ignore=1'))
  t.true(c.findings.some((f) => f.kind === 'sysctl-wrong' && f.fix === 'sysctl -w net.ipv4.conf.eth0.arp_ignore=1'))
  t.deepEqual(
    doctor(s).map((f) => f.kind),
    ['answers-vip-arp', 'port-closed'],
    'ARP answered for the VIP; the SYN is accepted (RST: VIP local, nothing listening yet)',
  )
  t.is(realserver(s, ['up', '-c', cfg, '--record', join(dir, `${s}.rec`)]).status, 0)
  t.false(arpAnswered(VIP), 'after up nobody answers ARP for the VIP')
  t.is(check(s, cfg).status, 0)
  listen(s)
  const clean = await waitFor(() => {
    const f = doctor(s)
    return f.length === 0 ? f : undefined
  }, 15_000)
  t.deepEqual(clean, [], 'after up, with the service listening, the doctor finds nothing')
})

test.serial('TUN without the rp_filter change: check reports rp_filter on all and tunl0 (and a missing tunl0)', (t) => {
  const s = server()
  lab.sysctl(s, 'net.ipv4.conf.all.rp_filter', 1)
  const c = check(s, config(s, 'tun', [VIP]))
  t.is(c.status, 1)
  t.true(c.findings.some((f) => f.fix === 'sysctl -w net.ipv4.conf.all.rp_filter=0'))
  // this host's kernel has no ipip: tunl0 never appears here, and check says how to get it
  const hasTunl0 = spawnSync('ip', ['-n', lab.ns(s), 'link', 'show', 'tunl0']).status === 0
  if (!hasTunl0) t.true(c.findings.some((f) => f.kind === 'tunnel-missing' && f.fix === 'modprobe ipip'))
  else t.true(c.findings.some((f) => f.fix === 'sysctl -w net.ipv4.conf.tunl0.rp_filter=0'))
})

test.serial('up twice then down: the VIPs are local while up, and down restores every address and sysctl', (t) => {
  const s = server()
  const cfg = config(s, 'dr', [VIP, VIP6])
  const rec = join(dir, `${s}.rec`)
  lab.sysctl(s, 'net.ipv4.conf.eth0.arp_announce', 1) // a non-default previous value must come back too
  const before = snapshot(s)
  t.is(realserver(s, ['up', '-c', cfg, '--record', rec]).status, 0)
  const afterFirst = snapshot(s)
  const again = realserver(s, ['up', '-c', cfg, '--record', rec])
  t.is(again.status, 0)
  t.regex(again.stdout, /nothing to change/)
  t.is(snapshot(s), afterFirst, 'a second up changes nothing')
  t.is(check(s, cfg).status, 0)
  t.is(lab.exec(s, 'ip', ['-o', 'route', 'get', VIP]).split(' ')[0], 'local')
  t.is(lab.exec(s, 'sysctl', ['-n', 'net.ipv4.conf.all.arp_ignore']).trim(), '1')
  t.is(realserver(s, ['down', '-c', cfg, '--record', rec]).status, 0)
  t.is(snapshot(s), before)
  t.is(lab.exec(s, 'sysctl', ['-n', 'net.ipv4.conf.eth0.arp_announce']).trim(), '1')
  const second = realserver(s, ['down', '-c', cfg, '--record', rec])
  t.is(second.status, 0, 'down with nothing recorded is harmless')
  t.is(snapshot(s), before)
})
