// A sync group in real daemons: when one member of the group goes to FAULT through its own tracked
// interface, the other member (which tracks nothing) follows it into FAULT, so the peer takes over
// both VIPs; when the interface returns, both come back. With crossed priorities (each node
// prefers one member) the group stays BACKUP together, goes MASTER together, and leaves MASTER
// together when one member hears a higher priority; the group notify program sees each change.
import { existsSync, readFileSync } from 'node:fs'
import test from 'ava'
import { Lab, waitFor } from '../helpers/netns.js'
import { addrs, ConfigDir, controlSocket, Director, MAC, PROGRAMS_AS_ROOT, sleep } from './agents/vrrp-harness.js'

const lab = new Lab('vy')
const cfg = new ConfigDir()

function conf(node: string, priority: number, trackDb: boolean): string {
  const inst = (name: string, vrid: number, host: number, track: boolean) =>
    `    - name: ${name}\n      interface: eth0\n      vrid: ${vrid}\n      priority: ${priority}\n` +
    `      vips: [10.78.0.${host}/24]\n${track ? '      track:\n        interfaces: [trk]\n' : ''}`
  return cfg.write(
    `${node}.yaml`,
    `node: ${node}\n${controlSocket(cfg, node)}${PROGRAMS_AS_ROOT}vrrp:\n  version: 3\n  advert_interval: 100ms\n  instances:\n` +
      inst('web', 51, 100, false) +
      inst('db', 52, 101, trackDb) +
      '  sync_groups:\n    - name: g\n      members: [web, db]\n',
  )
}

test.before(() => {
  lab.addSwitch()
  lab.addNode({ name: 'd1', ipv4: '10.78.0.1/24', mac: MAC(1) })
  lab.addNode({ name: 'd2', ipv4: '10.78.0.2/24', mac: MAC(2) })
  lab.addNode({ name: 'x', ipv4: '10.78.0.3/24', mac: MAC(3) })
  lab.exec('d1', 'ip', ['link', 'add', 'trk', 'type', 'veth', 'peer', 'name', 'trkp'])
  lab.exec('d1', 'ip', ['link', 'set', 'trkp', 'up'])
  lab.exec('d1', 'ip', ['link', 'set', 'trk', 'up'])
})
test.after.always(() => {
  lab.dispose()
  cfg.dispose()
})

test.serial('one member FAULT puts the whole sync group in FAULT; the peer takes both VIPs, and back', async (t) => {
  const d1 = new Director(lab, 'd1', conf('d1', 150, true))
  const d2 = new Director(lab, 'd2', conf('d2', 100, false))
  const has = (n: string, host: number) => addrs(lab, n).includes(`10.78.0.${host}/24`)
  await d1.waitState('MASTER', 20_000, 0, 'web')
  await d1.waitState('MASTER', 20_000, 0, 'db')
  const m1 = d1.mark()
  const m2 = d2.mark()
  lab.exec('d1', 'ip', ['link', 'set', 'trkp', 'down'])
  await d1.waitState('FAULT', 10_000, m1, 'db')
  const f = await d1.waitState('FAULT', 10_000, m1, 'web')
  t.is(f.why, 'fault')
  await d2.waitState('MASTER', 10_000, m2, 'web')
  await d2.waitState('MASTER', 10_000, m2, 'db')
  await waitFor(() => has('d2', 100) && has('d2', 101) && !has('d1', 100) && !has('d1', 101), 5000)
  lab.exec('d1', 'ip', ['link', 'set', 'trkp', 'up'])
  await d1.waitState('MASTER', 10_000, m1, 'web')
  await d1.waitState('MASTER', 10_000, m1, 'db')
  await waitFor(() => has('d1', 100) && has('d1', 101) && !has('d2', 100) && !has('d2', 101), 5000)
  d1.kill('SIGTERM')
  d2.kill('SIGTERM')
  t.is((await d1.exited).code, 0)
  t.is((await d2.exited).code, 0)
})

const groupLog = `${cfg.dir}/group.log`

/** web (VRID 61) and db (VRID 62) in group g; d1 prefers web, d2 prefers db. */
function crossed(node: string, web: number, db: number, notify: boolean): string {
  const inst = (name: string, vrid: number, priority: number, host: number) =>
    `    - name: ${name}\n      interface: eth0\n      vrid: ${vrid}\n      priority: ${priority}\n` +
    `      vips: [10.78.0.${host}/24]\n`
  return cfg.write(
    `${node}-crossed.yaml`,
    `node: ${node}\n${controlSocket(cfg, node)}${PROGRAMS_AS_ROOT}vrrp:\n  version: 3\n  advert_interval: 100ms\n  instances:\n` +
      inst('web', 61, web, 110) +
      inst('db', 62, db, 111) +
      '  sync_groups:\n    - name: g\n      members: [web, db]\n' +
      (notify ? `      notify:\n        any: [/bin/sh, -c, 'echo "$@" >> ${groupLog}', notify]\n` : ''),
  )
}
const groupLines = () => (existsSync(groupLog) ? readFileSync(groupLog, 'utf8').trim().split('\n') : [])

test.serial(
  'crossed priorities: the group stays BACKUP together, goes MASTER together, and leaves MASTER together',
  async (t) => {
    const has = (n: string, host: number) => addrs(lab, n).includes(`10.78.0.${host}/24`)
    const d1 = new Director(lab, 'd1', crossed('d1', 150, 100, false))
    await d1.waitState('MASTER', 20_000, 0, 'web')
    await d1.waitState('MASTER', 20_000, 0, 'db')
    const d2 = new Director(lab, 'd2', crossed('d2', 100, 150, true))
    await d2.waitSettled('BACKUP', 20_000, 1000, 'web')
    // d2's db outranks d1's (150 > 100) but its partner web still hears a live master: it stays
    await sleep(2000)
    t.is(d2.state('db'), 'BACKUP')
    t.false(
      d2.lines.some((l) => l.vrrp === 'db' && l.to === 'MASTER'),
      'd2 db never became MASTER alone',
    )
    t.true(has('d1', 110) && has('d1', 111) && !has('d2', 111))
    await waitFor(() => groupLines().includes('GROUP g BACKUP 0'), 5000)

    // the whole of d1 dies: web's Master_Down fires on d2 and takes db along
    const m2 = d2.mark()
    d1.kill('SIGKILL')
    const web = await d2.waitState('MASTER', 10_000, m2, 'web')
    const db = await d2.waitState('MASTER', 10_000, m2, 'db')
    t.is(web.why, 'master_down')
    t.is(db.why, 'sync', 'db went MASTER because its partner did')
    t.true(Math.abs((db.at as number) - (web.at as number)) < 50, 'together')
    await waitFor(() => has('d2', 110) && has('d2', 111), 5000)
    await waitFor(() => groupLines().includes('GROUP g MASTER 0'), 5000)

    // a third router wins web (254): d2's web steps down, and db, which hears no better db, follows
    const m3 = d2.mark()
    const x = new Director(
      lab,
      'x',
      cfg.write(
        'x.yaml',
        `node: x\n${controlSocket(cfg, 'x')}vrrp:\n  version: 3\n  advert_interval: 100ms\n  instances:\n` +
          '    - { name: web, interface: eth0, vrid: 61, priority: 254, vips: [10.78.0.110/24] }\n',
      ),
    )
    const down = await d2.waitState('BACKUP', 20_000, m3, 'web')
    t.is(down.why, 'higher_priority')
    const dbDown = await d2.waitState('BACKUP', 5000, m3, 'db')
    t.is(dbDown.why, 'sync', 'db left MASTER because its partner did')
    await waitFor(() => !has('d2', 110) && !has('d2', 111), 5000)
    await waitFor(() => groupLines().at(-1) === 'GROUP g BACKUP 0', 5000)
    t.deepEqual(groupLines(), ['GROUP g BACKUP 0', 'GROUP g MASTER 0', 'GROUP g BACKUP 0'])
    x.kill('SIGTERM')
    d2.kill('SIGTERM')
    t.is((await x.exited).code, 0)
    t.is((await d2.exited).code, 0)
  },
)
