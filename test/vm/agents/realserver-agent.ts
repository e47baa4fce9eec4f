// Guest-side agent of realserver.test.ts: real servers set up by `lvsd realserver up` instead of
// hand-written commands, looked at by `lvsd realserver check` on each and `lvsctl doctor` from an
// `lvsd run` director programming real IPVS (DR, TUN and NAT services), client traffic through the DR
// and TUN VIPs counted per server, and `down` compared with the state before `up`.
// Usage (in the VM, root namespace, the namespaces built by the test's script):
//   node dist/test/vm/agents/realserver-agent.js
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { report } from '../../../lab/vm/guest.js'

const DIR = '/tmp/lvsd-rs'
const PEER = 'dist/test/vm/agents/ipvs-dr-peer.js'
const SERVERS = { rd1: 'dr', rd2: 'dr', rt1: 'tun', rt2: 'tun' } as const
const VIP = { dr: '10.0.0.3', tun: '10.0.0.4' } as const
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function sh(ns: string, cmd: string, args: string[], env?: Record<string, string>) {
  const r = spawnSync(
    'ip',
    ['netns', 'exec', ns, ...(env ? ['env', ...Object.entries(env).map(([k, v]) => `${k}=${v}`)] : []), cmd, ...args],
    {
      encoding: 'utf8',
      timeout: 120_000,
    },
  )
  return { status: r.status, out: r.stdout ?? '', err: r.stderr ?? '' }
}

async function waitFor<T>(what: () => T | undefined | false, ms: number, every = 200): Promise<T | null> {
  const t0 = Date.now()
  while (Date.now() - t0 < ms) {
    const v = what()
    if (v !== undefined && v !== false) return v
    await sleep(every)
  }
  return null
}

/**
 * Everything `up` may touch in a namespace: every IPv4 conf sysctl of every interface, addresses, links
 * (flags, state). Not the qdisc: the kernel attaches the default one the first time a link goes up and
 * keeps it when it goes down again, which is no setting of the real server's.
 */
function snapshot(ns: string): string {
  const script =
    "grep -r . /proc/sys/net/ipv4/conf/ | sort; ip -o addr show; ip -o link show | sed 's/ qdisc [a-z_]*//'"
  return sh(ns, 'sh', ['-c', script]).out
}

function realserver(ns: string, action: string, json = false) {
  const file = `${DIR}/${ns}.yaml`
  const args = ['bin/lvsd.js', 'realserver', action, '-c', file, '--record', `${DIR}/${ns}.rec`]
  const r = sh(ns, 'node', json ? [...args, '--json'] : args)
  return { status: r.status, out: r.out + r.err, kinds: json ? kindsOf(r.out) : undefined }
}

function kindsOf(out: string): string[] | string {
  try {
    return (JSON.parse(out) as { kind: string; fix: string }[]).map((f) => `${f.kind}: ${f.fix}`)
  } catch {
    return out
  }
}

function doctor() {
  const r = sh('dir', 'node', ['bin/lvsctl.js', '-s', `${DIR}/d.sock`, 'doctor', '--json'])
  try {
    const rep = JSON.parse(r.out) as {
      checked: { server: string; result: string; note?: string }[]
      findings: { server: string; kind: string; fix: string; problem: string }[]
    }
    return {
      status: r.status,
      checked: rep.checked.map((c) => `${c.server} ${c.result}${c.note ? `: ${c.note}` : ''}`),
      findings: rep.findings.map((f) => `${f.server} ${f.kind}`),
      fixes: rep.findings.map((f) => `${f.server} ${f.fix}`),
    }
  } catch {
    return { status: r.status, out: r.out + r.err }
  }
}

const CONFIG = `node: dir
control: { socket: ${DIR}/d.sock }
vrrp:
  instances:
    - { name: front, interface: eth0, vrid: 60, priority: 150, vips: [10.0.0.3/24, 10.0.0.4/24, 10.0.0.5/24] }
virtual_services:
  - name: web-dr
    address: 10.0.0.3
    port: 80
    protocol: tcp
    scheduler: rr
    forwarding: dr
    follow: front
    real_servers: [{ address: 10.0.0.11, port: 80 }, { address: 10.0.0.12, port: 80 }]
  - name: web-tun
    address: 10.0.0.4
    port: 80
    protocol: tcp
    scheduler: rr
    forwarding: tun
    follow: front
    real_servers: [{ address: 10.0.0.21, port: 80 }, { address: 10.0.0.22, port: 80 }]
  - name: app-nat
    address: 10.0.0.5
    port: 80
    protocol: tcp
    scheduler: rr
    forwarding: nat
    follow: front
    real_servers: [{ address: 10.0.1.31, port: 80 }, { address: 10.0.1.32, port: 80 }]
`

async function main(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {}
  mkdirSync(DIR, { recursive: true })
  for (const [ns, method] of Object.entries(SERVERS))
    writeFileSync(
      `${DIR}/${ns}.yaml`,
      `realserver:\n  method: ${method}\n  vips: [${VIP[method]}]\n  interfaces: [eth0]\n`,
    )
  writeFileSync(`${DIR}/d.yaml`, CONFIG)
  const before = Object.fromEntries(Object.keys(SERVERS).map((ns) => [ns, snapshot(ns)]))
  out.checkBefore = Object.fromEntries(Object.keys(SERVERS).map((ns) => [ns, realserver(ns, 'check', true)]))

  const lvsd: ChildProcess = spawn(
    'ip',
    ['netns', 'exec', 'dir', 'node', 'bin/lvsd.js', 'run', '-c', `${DIR}/d.yaml`],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  let lvsdErr = ''
  lvsd.stderr?.on('data', (d) => (lvsdErr += d.toString()))
  const t0 = Date.now()
  // the VIPs on dir's eth0 (MASTER) and the three services in the kernel table
  out.readyMs = await waitFor(() => {
    const addrs = sh('dir', 'ip', ['-o', 'addr', 'show', 'dev', 'eth0']).out
    const table = sh('dir', 'ipvsadm', ['-Ln']).out
    const ok =
      ['10.0.0.3/', '10.0.0.4/', '10.0.0.5/'].every((v) => addrs.includes(v)) && (table.match(/->/g) ?? []).length >= 6
    return ok && Date.now() - t0
  }, 120_000)
  out.table = sh('dir', 'ipvsadm', ['-Ln']).out
  out.doctorBefore = doctor()

  out.up = Object.fromEntries(Object.keys(SERVERS).map((ns) => [ns, realserver(ns, 'up')]))
  const rec = readFileSync(`${DIR}/rd1.rec`, 'utf8')
  out.upAgain = { ...realserver('rd1', 'up'), recordSame: readFileSync(`${DIR}/rd1.rec`, 'utf8') === rec }
  out.records = Object.fromEntries(
    Object.keys(SERVERS).map((ns) => [
      ns,
      (JSON.parse(readFileSync(`${DIR}/${ns}.rec`, 'utf8')) as { changes: unknown[] }).changes,
    ]),
  )
  out.checkAfter = Object.fromEntries(Object.keys(SERVERS).map((ns) => [ns, realserver(ns, 'check', true)]))
  out.doctorAfter = doctor()

  const burst = (vip: string) => {
    const r = sh('cl', 'node', [PEER, 'burst', '20'], { VIP: vip })
    try {
      return JSON.parse(r.out.trim().split('\n').pop() ?? '') as unknown
    } catch {
      return { out: r.out + r.err }
    }
  }
  out.burstDr = burst(VIP.dr)
  out.burstTun = burst(VIP.tun)
  out.stats = sh('dir', 'ipvsadm', ['-Ln', '--stats']).out

  out.down = Object.fromEntries(Object.keys(SERVERS).map((ns) => [ns, realserver(ns, 'down')]))
  const after = Object.fromEntries(Object.keys(SERVERS).map((ns) => [ns, snapshot(ns)]))
  out.restored = Object.fromEntries(
    Object.keys(SERVERS).map((ns) => {
      const a = (before[ns] ?? '').split('\n')
      const b = (after[ns] ?? '').split('\n')
      return [
        ns,
        {
          same: before[ns] === after[ns],
          lines: a.length,
          gone: a.filter((l) => !b.includes(l)),
          added: b.filter((l) => !a.includes(l)),
        },
      ]
    }),
  )
  out.checkDown = Object.fromEntries(Object.keys(SERVERS).map((ns) => [ns, realserver(ns, 'check').status]))

  lvsd.kill('SIGTERM')
  out.lvsdExit = await new Promise((r) => lvsd.once('exit', (code) => r(code)))
  out.lvsdErr = lvsdErr.slice(-2000)
  return out
}

main().then(
  (r) => {
    report(r)
    process.exit(0)
  },
  (e) => {
    report({ fatal: String((e as Error).stack) })
    process.exit(1)
  },
)
