// Link events in the VRRP worker: the master's switch port going down (a vanished host) hands the
// VIP to the backup and the client follows; a tracked interface going down puts the instance in
// FAULT (priority 0 sent, VIP removed) and its return lets it preempt again.
import test from 'ava'
import { Lab, waitFor } from '../helpers/netns.js'
import { addrs, arpAnswer, ConfigDir, Director, MAC, sleep, vrrpConfig } from './agents/vrrp-harness.js'

const lab = new Lab('vl')
const cfg = new ConfigDir()
const VIP = '10.72.0.100'
let d1: Director
let d2: Director

const hasVip = (node: string) => addrs(lab, node).includes(`${VIP}/24`)

test.before(async () => {
  lab.addSwitch()
  lab.addNode({ name: 'd1', ipv4: '10.72.0.1/24', mac: MAC(1) })
  lab.addNode({ name: 'd2', ipv4: '10.72.0.2/24', mac: MAC(2) })
  lab.addNode({ name: 'c', ipv4: '10.72.0.50/24', mac: MAC(0x50) })
  // a veth pair inside d1 (no dummy module here): trk is the tracked end
  lab.exec('d1', 'ip', ['link', 'add', 'trk', 'type', 'veth', 'peer', 'name', 'trkp'])
  lab.exec('d1', 'ip', ['link', 'set', 'trkp', 'up'])
  lab.exec('d1', 'ip', ['link', 'set', 'trk', 'up'])
  const track = '      track:\n        interfaces: [trk]\n'
  d1 = new Director(
    lab,
    'd1',
    cfg.write('d1.yaml', vrrpConfig({ node: 'd1', priority: 150, vip: `${VIP}/24`, extra: track })),
  )
  d2 = new Director(lab, 'd2', cfg.write('d2.yaml', vrrpConfig({ node: 'd2', priority: 100, vip: `${VIP}/24` })))
  await d1.waitSettled('MASTER', 20_000)
  await d2.waitSettled('BACKUP', 20_000)
})
test.after.always(() => {
  lab.dispose()
  cfg.dispose()
})

test.serial("the master's switch port goes down: the backup takes over and answers the client", async (t) => {
  const m1 = d1.mark()
  const m2 = d2.mark()
  lab.exec('sw', 'ip', ['link', 'set', 'p-d1', 'down'])
  const f = await d1.waitState('FAULT', 10_000, m1)
  t.is(f.why, 'fault')
  const m = await d2.waitState('MASTER', 10_000, m2)
  t.is(m.why, 'master_down')
  await waitFor(() => !hasVip('d1') && hasVip('d2'), 5000)
  t.is(arpAnswer(lab, 'c', VIP), MAC(2))
  lab.exec('sw', 'ip', ['link', 'set', 'p-d1', 'up'])
  const back = await d1.waitState('BACKUP', 10_000, m1)
  t.is(back.why, 'fault_cleared')
  const pre = await d1.waitState('MASTER', 10_000, m1)
  t.is(pre.why, 'preempt')
  await waitFor(() => hasVip('d1') && !hasVip('d2'), 5000)
  t.is(arpAnswer(lab, 'c', VIP), MAC(1))
})

test.serial(
  'a tracked interface going down is FAULT: priority 0 hands over at once; back up, it preempts',
  async (t) => {
    await sleep(500)
    const m1 = d1.mark()
    const m2 = d2.mark()
    // the far end going down takes trk's carrier away (IFF_LOWER_UP), as a cable pull would
    lab.exec('d1', 'ip', ['link', 'set', 'trkp', 'down'])
    const f = await d1.waitState('FAULT', 10_000, m1)
    const m = await d2.waitState('MASTER', 10_000, m2)
    // d1 resigned with priority 0, so d2 waited only Skew_Time (61 ms), not Master_Down (361 ms)
    t.is(m.why, 'priority_zero')
    t.log(`FAULT → d2 MASTER in ${((m.at as number) - (f.at as number)).toFixed(1)} ms`)
    await waitFor(() => !hasVip('d1') && hasVip('d2'), 5000)
    await sleep(1000)
    t.is(d1.state(), 'FAULT', 'FAULT holds while the tracked interface is down')
    lab.exec('d1', 'ip', ['link', 'set', 'trkp', 'up'])
    await d1.waitState('MASTER', 10_000, m1)
    await waitFor(() => hasVip('d1') && !hasVip('d2'), 5000)
    d1.kill('SIGTERM')
    d2.kill('SIGTERM')
    t.is((await d1.exited).code, 0)
    t.is((await d2.exited).code, 0)
  },
)

test.serial('an instance whose interface has no address yet waits, and starts once the address appears', async (t) => {
  lab.addNode({ name: 'd3', mac: MAC(3) })
  const d3 = new Director(
    lab,
    'd3',
    cfg.write('d3.yaml', vrrpConfig({ node: 'd3', priority: 100, vrid: 52, vip: '10.72.0.200/24' })),
  )
  try {
    await d3.waitLine((l) => l.msg === 'instance waits for its interface and source address', 20_000)
    t.is(d3.state(), undefined)
    lab.exec('d3', 'ip', ['addr', 'add', '10.72.0.3/24', 'dev', 'eth0'])
    const m = await d3.waitState('MASTER', 10_000)
    t.is(m.why, 'master_down')
    t.true(addrs(lab, 'd3').includes('10.72.0.200/24'))
    d3.kill('SIGTERM')
    t.is((await d3.exited).code, 0)
  } finally {
    d3.kill('SIGKILL')
  }
})
