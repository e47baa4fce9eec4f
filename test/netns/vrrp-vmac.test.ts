// Virtual MAC (virtual_mac: true): each lvsd sends from a macvlan vrrp.VRID with 00:00:5e:00:01:VRID;
// the client resolves the VIP to that MAC, and on failover only the switch's forwarding entry moves
// (to the new master's port) while the client's ARP entry stays the same. SIGTERM deletes the macvlan.
import test from 'ava'
import { Lab, waitFor } from '../helpers/netns.js'
import { addrs, arpAnswer, ConfigDir, Director, MAC, vrrpConfig } from './agents/vrrp-harness.js'

const lab = new Lab('vv')
const cfg = new ConfigDir()
const VIP = '10.79.0.100'
const VMAC = '00:00:5e:00:01:33' // VRID 51

function fdbPort(mac: string): string | undefined {
  const j = JSON.parse(lab.exec('sw', 'bridge', ['-j', 'fdb', 'show', 'br', 'br0'])) as Array<{
    mac: string
    ifname: string
    flags?: string[]
    state?: string
  }>
  return j.find((e) => e.mac === mac && e.state !== 'permanent')?.ifname
}
const links = (node: string) =>
  (JSON.parse(lab.exec(node, 'ip', ['-j', 'link', 'show'])) as Array<{ ifname: string; address: string }>).map(
    (l) => `${l.ifname} ${l.address}`,
  )

test.before(() => {
  lab.addSwitch()
  lab.addNode({ name: 'd1', ipv4: '10.79.0.1/24', mac: MAC(1) })
  lab.addNode({ name: 'd2', ipv4: '10.79.0.2/24', mac: MAC(2) })
  lab.addNode({ name: 'c', ipv4: '10.79.0.50/24', mac: MAC(0x50) })
})
test.after.always(() => {
  lab.dispose()
  cfg.dispose()
})

test.serial('the VIP lives on vrrp.51 with the virtual MAC; failover moves only the switch entry', async (t) => {
  const conf = (node: string, priority: number) =>
    cfg.write(`${node}.yaml`, vrrpConfig({ node, priority, vip: `${VIP}/24`, extra: '      virtual_mac: true\n' }))
  const d1 = new Director(lab, 'd1', conf('d1', 150))
  const d2 = new Director(lab, 'd2', conf('d2', 100))
  await d1.waitSettled('MASTER', 20_000)
  await d2.waitSettled('BACKUP', 20_000)
  t.true(links('d1').includes(`vrrp.51 ${VMAC}`))
  t.true(links('d2').includes(`vrrp.51 ${VMAC}`), 'the backup has its macvlan too, without the VIP')
  await waitFor(() => addrs(lab, 'd1', 'vrrp.51').includes(`${VIP}/24`), 5000)
  t.false(addrs(lab, 'd2', 'vrrp.51').includes(`${VIP}/24`))
  t.is(arpAnswer(lab, 'c', VIP), VMAC)
  await waitFor(() => fdbPort(VMAC) === 'p-d1', 5000)

  const m2 = d2.mark()
  d1.kill('SIGTERM')
  t.is((await d1.exited).code, 0)
  await d2.waitState('MASTER', 10_000, m2)
  t.false(
    links('d1').some((l) => l.startsWith('vrrp.51 ')),
    'SIGTERM deleted the macvlan',
  )
  await waitFor(() => addrs(lab, 'd2', 'vrrp.51').includes(`${VIP}/24`), 5000)
  await waitFor(() => fdbPort(VMAC) === 'p-d2', 5000)
  t.is(arpAnswer(lab, 'c', VIP), VMAC, 'the client sees the same MAC')
  d2.kill('SIGTERM')
  t.is((await d2.exited).code, 0)
  const final = d2.lines.find((l) => l.msg === 'counters')?.counters
  t.deepEqual(final?.drops, {})
})
