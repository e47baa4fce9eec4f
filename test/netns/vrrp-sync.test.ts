// A sync group in real daemons: when one member of the group goes to FAULT through its own tracked
// interface, the other member (which tracks nothing) follows it into FAULT, so the peer takes over
// both VIPs; when the interface returns, both come back.
import test from 'ava'
import { Lab, waitFor } from '../helpers/netns.js'
import { addrs, ConfigDir, Director, MAC } from './agents/vrrp-harness.js'

const lab = new Lab('vy')
const cfg = new ConfigDir()

function conf(node: string, priority: number, trackDb: boolean): string {
  const inst = (name: string, vrid: number, host: number, track: boolean) =>
    `    - name: ${name}\n      interface: eth0\n      vrid: ${vrid}\n      priority: ${priority}\n` +
    `      vips: [10.78.0.${host}/24]\n${track ? '      track:\n        interfaces: [trk]\n' : ''}`
  return cfg.write(
    `${node}.yaml`,
    `node: ${node}\nvrrp:\n  version: 3\n  advert_interval: 100ms\n  instances:\n` +
      inst('web', 51, 100, false) +
      inst('db', 52, 101, trackDb) +
      '  sync_groups:\n    - name: g\n      members: [web, db]\n',
  )
}

test.before(() => {
  lab.addSwitch()
  lab.addNode({ name: 'd1', ipv4: '10.78.0.1/24', mac: MAC(1) })
  lab.addNode({ name: 'd2', ipv4: '10.78.0.2/24', mac: MAC(2) })
  lab.exec('d1', 'ip', ['link', 'add', 'trk', 'type', 'veth', 'peer', 'name', 'trkp'])
  lab.exec('d1', 'ip', ['link', 'set', 'trkp', 'up'])
  lab.exec('d1', 'ip', ['link', 'set', 'trk', 'up'])
})
test.after.always(() => {
  lab.dispose()
  cfg.dispose()
})

test('one member FAULT puts the whole sync group in FAULT; the peer takes both VIPs, and back', async (t) => {
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
