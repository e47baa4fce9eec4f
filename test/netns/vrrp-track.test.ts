// Tracking and notify in real daemons: a failing track script lowers the master's priority so the
// backup preempts (the new priority is advertised), a tracked file raises the backup's priority,
// and notify programs get keepalived's arguments (type, name, state, priority) in order.
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import test from 'ava'
import { Lab, waitFor } from '../helpers/netns.js'
import { addrs, ConfigDir, Director, MAC, PROGRAMS_AS_ROOT, vrrpConfig } from './agents/vrrp-harness.js'

const lab = new Lab('vt')
const cfg = new ConfigDir()
const VIP = '10.75.0.100'
const okFile = `${cfg.dir}/ok`
const prioFile = `${cfg.dir}/d2-prio`
const notifyLog = `${cfg.dir}/notify.log`
let d1: Director
let d2: Director

const hasVip = (node: string) => addrs(lab, node).includes(`${VIP}/24`)

test.before(async () => {
  lab.addSwitch()
  lab.addNode({ name: 'd1', ipv4: '10.75.0.1/24', mac: MAC(1) })
  lab.addNode({ name: 'd2', ipv4: '10.75.0.2/24', mac: MAC(2) })
  writeFileSync(okFile, '')
  const scripts = `  scripts:\n    - name: ok\n      argv: [/usr/bin/test, -e, ${okFile}]\n      interval: 100ms\n      fall: 2\n      rise: 1\n      weight: -60\n`
  const d1yaml = vrrpConfig({
    node: 'd1',
    top: PROGRAMS_AS_ROOT,
    priority: 150,
    vip: `${VIP}/24`,
    extra:
      `      track:\n        scripts: [ok]\n` +
      `      notify:\n        any: [/bin/sh, -c, 'echo "$@" >> ${notifyLog}', notify]\n`,
  }).replace('  instances:\n', `${scripts}  instances:\n`)
  d1 = new Director(lab, 'd1', cfg.write('d1.yaml', d1yaml))
  d2 = new Director(
    lab,
    'd2',
    cfg.write(
      'd2.yaml',
      vrrpConfig({
        node: 'd2',
        priority: 100,
        vip: `${VIP}/24`,
        extra: `      track:\n        files:\n          - { path: ${prioFile}, weight: 1 }\n`,
      }),
    ),
  )
  await d1.waitSettled('MASTER', 20_000)
  await d2.waitSettled('BACKUP', 20_000)
})
test.after.always(() => {
  lab.dispose()
  cfg.dispose()
})

test.serial(
  'a failing track script lowers the master to 90: the backup (100) preempts; recovery takes it back',
  async (t) => {
    const m1 = d1.mark()
    const m2 = d2.mark()
    rmSync(okFile)
    await d1.waitLine((l) => l.msg === 'track script down', 10_000, m1)
    const m = await d2.waitState('MASTER', 10_000, m2)
    t.is(m.why, 'preempt', 'd2 discarded adverts at the lowered priority and took over')
    const b = await d1.waitState('BACKUP', 10_000, m1)
    t.is(b.why, 'higher_priority')
    t.is(b.priority, 90)
    await waitFor(() => hasVip('d2') && !hasVip('d1'), 5000)
    writeFileSync(okFile, '')
    const back = await d1.waitState('MASTER', 10_000, m1)
    t.is(back.priority, 150)
    await waitFor(() => hasVip('d1') && !hasVip('d2'), 5000)
  },
)

test.serial('a tracked file holding 60 raises the backup to 160: it preempts', async (t) => {
  const m2 = d2.mark()
  writeFileSync(prioFile, '60\n')
  const m = await d2.waitState('MASTER', 10_000, m2)
  t.is(m.priority, 160)
  await waitFor(() => hasVip('d2') && !hasVip('d1'), 5000)
  writeFileSync(prioFile, '0\n')
  await d1.waitState('MASTER', 10_000, d1.mark())
})

test.serial("notify 'any' got type, name, state and priority for every transition, in order", async (t) => {
  d1.kill('SIGTERM')
  d2.kill('SIGTERM')
  t.is((await d1.exited).code, 0)
  t.is((await d2.exited).code, 0)
  const lines = readFileSync(notifyLog, 'utf8').trim().split('\n')
  t.deepEqual(lines, [
    'INSTANCE web BACKUP 150',
    'INSTANCE web MASTER 150',
    'INSTANCE web BACKUP 90',
    'INSTANCE web MASTER 150',
    'INSTANCE web BACKUP 150',
    'INSTANCE web MASTER 150',
    'INSTANCE web STOP 150',
  ])
})
