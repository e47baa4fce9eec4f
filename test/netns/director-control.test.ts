// The control API of a running `lvsd run` pair (VRRP-only configs, so it runs on this kernel without IPVS):
// lvsctl status on both, release of the master's instance for maintenance (the backup takes over at once on
// the priority-0 advert) and resume (the preferred node preempts back), a reload of an unchanged file that
// changes nothing and causes no transition, a refused reload, the event stream and /metrics.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { Lab, waitFor } from '../helpers/netns.js'
import { repoRoot } from '../helpers/paths.js'
import { addrs, ConfigDir, Director, MAC, sleep, vrrpConfig } from './agents/vrrp-harness.js'

const lab = new Lab('dc')
const cfg = new ConfigDir()
const VIP = '10.72.0.100'
const metrics = (port: number) => `metrics: { enabled: true, address: 127.0.0.1, port: ${port} }\n`
const d1conf = cfg.write('d1.yaml', vrrpConfig({ node: 'd1', priority: 150, vip: `${VIP}/24`, extra: metrics(9478) }))
const d2conf = cfg.write('d2.yaml', vrrpConfig({ node: 'd2', priority: 100, vip: `${VIP}/24` }))
const socketOf = (conf: string) => /socket: (\S+)/.exec(readText(conf))?.[1] as string
function readText(path: string): string {
  return readFileSync(path, 'utf8')
}
let d1: Director
let d2: Director

function lvsctl(node: string, conf: string, args: string[]): { status: number | null; out: string; err: string } {
  const r = spawnSync(
    'ip',
    ['netns', 'exec', lab.ns(node), process.execPath, join(repoRoot, 'bin/lvsctl.js'), '-s', socketOf(conf), ...args],
    { encoding: 'utf8', timeout: 30_000 },
  )
  return { status: r.status, out: r.stdout, err: r.stderr }
}
// biome-ignore lint/suspicious/noExplicitAny: JSON replies, asserted field by field
const json = (s: string): any => JSON.parse(s)
const hasVip = (node: string) => addrs(lab, node).includes(`${VIP}/24`)

test.before(async () => {
  lab.addSwitch()
  lab.addNode({ name: 'd1', ipv4: '10.72.0.1/24', mac: MAC(1) })
  lab.addNode({ name: 'd2', ipv4: '10.72.0.2/24', mac: MAC(2) })
  d1 = new Director(lab, 'd1', d1conf)
  await d1.waitState('MASTER', 20_000)
  d2 = new Director(lab, 'd2', d2conf)
  await d2.waitSettled('BACKUP', 20_000)
})
test.after.always(() => {
  lab.dispose()
  cfg.dispose()
})

test.serial('lvsctl status shows each node’s state, priority and advert counters', (t) => {
  const s1 = lvsctl('d1', d1conf, ['status', '--json'])
  t.is(s1.status, 0, s1.err)
  const i1 = json(s1.out).instances[0]
  t.like(i1, { name: 'web', state: 'MASTER', priority: 150, effectivePriority: 150, released: false })
  t.true(i1.counters.advertsSent > 0)
  t.like(json(lvsctl('d2', d2conf, ['status', '--json']).out).instances[0], { state: 'BACKUP', priority: 100 })
  const text = lvsctl('d1', d1conf, ['status']).out
  t.regex(text, /^web +eth0 +51 +v3 +MASTER +150 /m)
})

test.serial('release hands the VIP to the backup at once; resume takes it back by preemption', async (t) => {
  const m2 = d2.mark()
  const r = lvsctl('d1', d1conf, ['release', 'web'])
  t.is(r.status, 0, r.err)
  const took = await d2.waitState('MASTER', 10_000, m2)
  t.is(took.why, 'priority_zero')
  await waitFor(() => hasVip('d2') && !hasVip('d1'), 5000)
  const st = json(lvsctl('d1', d1conf, ['status', '--json']).out).instances[0]
  t.like(st, { released: true, effectivePriority: 0 })
  t.not(st.state, 'MASTER')
  const m1 = d1.mark()
  t.is(lvsctl('d1', d1conf, ['resume', 'web']).status, 0)
  const back = await d1.waitState('MASTER', 15_000, m1)
  t.is(back.why, 'preempt')
  await waitFor(() => hasVip('d1') && !hasVip('d2'), 5000)
  const events = lvsctl('d1', d1conf, ['events', '--no-follow', '--json'])
    .out.split('\n')
    .filter((l) => l.startsWith('{'))
    .map(json)
  const ops = events
    .filter((e) => e.name === 'operator.action')
    .map((e) => `${e.data.action} ${e.data.target} ${e.data.ok}`)
  t.deepEqual(ops, ['release web true', 'resume web true'])
})

test.serial(
  'reload of an unchanged file changes nothing and causes no transition; an invalid one is refused',
  async (t) => {
    await d1.waitSettled('MASTER', 10_000)
    const m1 = d1.mark()
    const m2 = d2.mark()
    const r = lvsctl('d1', d1conf, ['reload', '--json'])
    t.is(r.status, 0, r.err)
    t.like(json(r.out), { ok: true, changes: { added: [], removed: [], changed: [] } })
    await sleep(1500)
    t.is(d1.lines.slice(m1).filter((l) => l.to !== undefined).length, 0)
    t.is(d2.lines.slice(m2).filter((l) => l.to !== undefined).length, 0)

    const good = readText(d1conf)
    cfg.write('d1.yaml', good.replace('priority: 150', 'priority: 0'))
    const bad = lvsctl('d1', d1conf, ['reload'])
    cfg.write('d1.yaml', good)
    t.not(bad.status, 0)
    t.regex(bad.err + bad.out, /d1\.yaml:\d+:\d+ vrrp\.instances\[0\]\.priority/)
    t.like(json(lvsctl('d1', d1conf, ['status', '--json']).out).instances[0], { state: 'MASTER', priority: 150 })
  },
)

test.serial('/metrics serves the VRRP state and advert counters', (t) => {
  const r = spawnSync(
    'ip',
    [
      'netns',
      'exec',
      lab.ns('d1'),
      process.execPath,
      '-e',
      "fetch('http://127.0.0.1:9478/metrics').then(r=>r.text()).then(t=>process.stdout.write(t))",
    ],
    { encoding: 'utf8', timeout: 30_000 },
  )
  t.regex(r.stdout, /^lvsd_vrrp_state\{vrrp="web",state="MASTER"\} 1$/m)
  t.regex(r.stdout, /^lvsd_vrrp_adverts_sent_total\{vrrp="web"\} [1-9]\d*$/m)
  t.regex(r.stdout, /^lvsd_vrrp_transitions_total\{vrrp="web",from="BACKUP",to="MASTER",why="preempt"\} 1$/m)
})

test.serial('SIGTERM: both exit 0', async (t) => {
  d2.kill('SIGTERM')
  d1.kill('SIGTERM')
  t.like(await d1.exited, { code: 0 })
  t.like(await d2.exited, { code: 0 })
})
