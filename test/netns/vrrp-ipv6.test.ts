// An IPv6 VRRPv3 instance between two lvsd: adverts from the link-local address to ff02::12 with
// hop limit 255, the VIP added without DAD, the client's neighbour entry moved by the unsolicited
// NA on takeover, and a VIP deleted under a master put back at once.
import test from 'ava'
import { Lab, waitFor } from '../helpers/netns.js'
import { addrs, ConfigDir, Director, MAC, neighMac, poke, sleep, vrrpConfig } from './agents/vrrp-harness.js'

const lab = new Lab('v6')
const cfg = new ConfigDir()
const VIP = 'fd00:73::100'
let d1: Director
let d2: Director

const hasVip = (node: string) => addrs(lab, node).includes(`${VIP}/64`)

test.before(async () => {
  lab.addSwitch()
  lab.addNode({ name: 'd1', ipv6: 'fd00:73::1/64', mac: MAC(1) })
  lab.addNode({ name: 'd2', ipv6: 'fd00:73::2/64', mac: MAC(2) })
  lab.addNode({ name: 'c', ipv6: 'fd00:73::50/64', mac: MAC(0x50) })
  // link-local addresses come with the link; wait until each node has one (the advert source)
  await waitFor(() => ['d1', 'd2', 'c'].every((n) => addrs(lab, n).some((a) => a.startsWith('fe80:'))), 10_000)
  d1 = new Director(lab, 'd1', cfg.write('d1.yaml', vrrpConfig({ node: 'd1', priority: 150, vip: `${VIP}/64` })))
  d2 = new Director(lab, 'd2', cfg.write('d2.yaml', vrrpConfig({ node: 'd2', priority: 100, vip: `${VIP}/64` })))
})
test.after.always(() => {
  lab.dispose()
  cfg.dispose()
})

test.serial('IPv6 election: the higher priority is MASTER, the client reaches the VIP at its MAC', async (t) => {
  await d1.waitState('MASTER', 20_000)
  await d2.waitSettled('BACKUP', 20_000)
  await waitFor(() => hasVip('d1'), 5000)
  t.false(hasVip('d2'))
  poke(lab, 'c', VIP)
  await waitFor(() => neighMac(lab, 'c', VIP) === MAC(1), 5000)
  t.is(neighMac(lab, 'c', VIP), MAC(1))
})

test.serial(
  'after a link flap (the kernel drops its IPv6 addresses) the backup hears the master again and stays BACKUP',
  async (t) => {
    const m2 = d2.mark()
    lab.exec('d2', 'ip', ['link', 'set', 'eth0', 'down'])
    await d2.waitState('FAULT', 10_000, m2)
    lab.exec('d2', 'ip', ['link', 'set', 'eth0', 'up'])
    await d2.waitState('BACKUP', 10_000, m2)
    // a backup deaf after the flap would take over 361 ms later; give it ten times that
    await sleep(3600)
    t.is(d2.state(), 'BACKUP')
    t.is(d1.state(), 'MASTER')
    t.true(hasVip('d1'))
  },
)

test.serial(
  "after the master's link flaps, its IPv6 VIP (dropped by the kernel) is back once it preempts",
  async (t) => {
    const m1 = d1.mark()
    const m2 = d2.mark()
    lab.exec('d1', 'ip', ['link', 'set', 'eth0', 'down'])
    await d1.waitState('FAULT', 10_000, m1)
    await d2.waitState('MASTER', 10_000, m2)
    await waitFor(() => hasVip('d2') && !hasVip('d1'), 5000)
    lab.exec('d1', 'ip', ['link', 'set', 'eth0', 'up'])
    const m = await d1.waitState('MASTER', 10_000, m1)
    t.is(m.why, 'preempt')
    await waitFor(() => hasVip('d1') && !hasVip('d2'), 5000)
    poke(lab, 'c', VIP)
    await waitFor(() => neighMac(lab, 'c', VIP) === MAC(1), 10_000)
  },
)

test.serial('SIGKILL of the master: the unsolicited NA moves the client neighbour entry to the backup', async (t) => {
  await sleep(1200)
  const m2 = d2.mark()
  d1.kill('SIGKILL')
  const m = await d2.waitState('MASTER', 10_000, m2)
  t.is(m.why, 'master_down')
  await waitFor(() => hasVip('d2'), 5000)
  await waitFor(() => neighMac(lab, 'c', VIP) === MAC(2), 10_000)
  t.is(neighMac(lab, 'c', VIP), MAC(2))
})

test.serial('a VIP deleted under the master is added again', async (t) => {
  const m2 = d2.mark()
  lab.exec('d2', 'ip', ['addr', 'del', `${VIP}/64`, 'dev', 'eth0'])
  await d2.waitLine((l) => l.msg === 'VIP removed from the interface while master: adding it again', 5000, m2)
  await waitFor(() => hasVip('d2'), 5000)
  t.is(d2.state(), 'MASTER')
  d2.kill('SIGTERM')
  t.is((await d2.exited).code, 0)
  t.false(hasVip('d2'))
  const final = d2.lines.find((l) => l.msg === 'counters')
  t.deepEqual(final?.counters?.drops, {}, 'no advert was dropped')
  t.true((final?.counters?.na ?? 0) >= 5, 'the takeover sent a burst of NAs')
})
