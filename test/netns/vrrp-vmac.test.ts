// Virtual MAC (virtual_mac: true): each lvsd sends from a macvlan vrrp.VRID with 00:00:5e:00:01:VRID;
// the client resolves the VIP to that MAC, and on failover only the switch's forwarding entry moves
// (to the new master's port) while the client's ARP entry stays the same. SIGTERM deletes the macvlan.
// IPv6 the same way with vrrp6.VRID and 00:00:5e:00:02:VRID: each director's adverts leave the
// virtual MAC with its own link-local source (so the backup hears the master, not itself), and the
// client's neighbour entry for the VIP keeps the one MAC across failover.
import test from 'ava'
import { Lab, waitFor } from '../helpers/netns.js'
import { addrs, arpAnswer, ConfigDir, Director, MAC, neighMac, poke, vrrpConfig } from './agents/vrrp-harness.js'

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
  lab.addNode({ name: 'd1', ipv4: '10.79.0.1/24', ipv6: 'fd00:79::1/64', mac: MAC(1) })
  lab.addNode({ name: 'd2', ipv4: '10.79.0.2/24', ipv6: 'fd00:79::2/64', mac: MAC(2) })
  lab.addNode({ name: 'c', ipv4: '10.79.0.50/24', ipv6: 'fd00:79::50/64', mac: MAC(0x50) })
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

test.serial(
  'IPv6: the VIP lives on vrrp6.52 with 00:00:5e:00:02:34; adverts carry each director’s own link-local',
  async (t) => {
    const VIP6 = 'fd00:79::100'
    const VMAC6 = '00:00:5e:00:02:34' // VRID 52
    const lladdr = (node: string, dev: string) => addrs(lab, node, dev).filter((a) => a.startsWith('fe80:'))
    await waitFor(() => ['d1', 'd2'].every((n) => lladdr(n, 'eth0').length > 0), 10_000)
    const conf = (node: string, priority: number) =>
      cfg.write(
        `${node}-6.yaml`,
        vrrpConfig({ node, priority, vip: `"${VIP6}/64"`, vrid: 52, extra: '      virtual_mac: true\n' }),
      )
    const d1 = new Director(lab, 'd1', conf('d1', 150))
    await d1.waitState('MASTER', 20_000)
    const d2 = new Director(lab, 'd2', conf('d2', 100))
    await d2.waitSettled('BACKUP', 20_000)
    for (const n of ['d1', 'd2']) {
      t.true(links(n).includes(`vrrp6.52 ${VMAC6}`), `${n} has the IPv6 macvlan`)
      t.deepEqual(lladdr(n, 'vrrp6.52'), lladdr(n, 'eth0'), `${n}'s macvlan carries only its own link-local`)
    }
    await waitFor(() => addrs(lab, 'd1', 'vrrp6.52').includes(`${VIP6}/64`), 5000)
    poke(lab, 'c', VIP6)
    await waitFor(() => neighMac(lab, 'c', VIP6) === VMAC6, 5000)
    await waitFor(() => fdbPort(VMAC6) === 'p-d1', 5000)

    const m2 = d2.mark()
    d1.kill('SIGTERM')
    t.is((await d1.exited).code, 0)
    const m = await d2.waitState('MASTER', 10_000, m2)
    t.is(m.why, 'priority_zero', 'd2 heard d1’s resignation through its macvlan')
    t.false(links('d1').some((l) => l.startsWith('vrrp6.52 ')))
    await waitFor(() => addrs(lab, 'd2', 'vrrp6.52').includes(`${VIP6}/64`), 5000)
    await waitFor(() => fdbPort(VMAC6) === 'p-d2', 5000)
    poke(lab, 'c', VIP6)
    t.is(neighMac(lab, 'c', VIP6), VMAC6, 'the client keeps the one MAC')
    d2.kill('SIGTERM')
    t.is((await d2.exited).code, 0)
    const final = d2.lines.find((l) => l.msg === 'counters')?.counters
    t.deepEqual(final?.drops, {}, 'no advert dropped (none taken for our own)')
    t.true((final?.rx ?? 0) > 0)
  },
)
