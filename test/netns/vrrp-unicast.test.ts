// Unicast VRRP between two lvsd: adverts go node to node (not to 224.0.0.18), election and a clean
// handover work as with multicast, and adverts from a host outside the peer list are dropped
// (counted as `peer`) even when it claims a higher priority.
import { spawn } from 'node:child_process'
import test from 'ava'
import { Lab, waitFor } from '../helpers/netns.js'
import { addrs, ConfigDir, Director, MAC, sleep, vrrpConfig } from './agents/vrrp-harness.js'

const lab = new Lab('vu')
const cfg = new ConfigDir()
const VIP = '10.76.0.100'
const unicast = (self: number, peers: number[]) =>
  `      unicast:\n        source: 10.76.0.${self}\n        peers: [${peers.map((p) => `10.76.0.${p}`).join(', ')}]\n`

const hasVip = (node: string) => addrs(lab, node).includes(`${VIP}/24`)

test.before(() => {
  lab.addSwitch()
  lab.addNode({ name: 'd1', ipv4: '10.76.0.1/24', mac: MAC(1) })
  lab.addNode({ name: 'd2', ipv4: '10.76.0.2/24', mac: MAC(2) })
  lab.addNode({ name: 'x', ipv4: '10.76.0.3/24', mac: MAC(3) })
})
test.after.always(() => {
  lab.dispose()
  cfg.dispose()
})

test.serial('unicast peers elect, advertise node to node, ignore a stranger, and hand over on SIGTERM', async (t) => {
  const cap = spawn('ip', ['netns', 'exec', lab.ns('d2'), 'tcpdump', '-l', '-n', '-i', 'eth0', 'ip proto 112'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  let seen = ''
  cap.stdout.on('data', (b: Buffer) => {
    seen += b.toString()
  })
  const conf = (node: string, prio: number, self: number, peers: number[]) =>
    cfg.write(`${node}.yaml`, vrrpConfig({ node, priority: prio, vip: `${VIP}/24`, extra: unicast(self, peers) }))
  const d1 = new Director(lab, 'd1', conf('d1', 150, 1, [2]))
  const d2 = new Director(lab, 'd2', conf('d2', 100, 2, [1]))
  try {
    await d1.waitSettled('MASTER', 20_000)
    await d2.waitSettled('BACKUP', 20_000)
    await waitFor(() => seen.includes('10.76.0.1 > 10.76.0.2: VRRPv3'), 10_000)
    t.false(seen.includes('224.0.0.18'), 'no multicast adverts')
    // a stranger with priority 200 sends to both: neither listens to it
    const x = new Director(lab, 'x', conf('x', 200, 3, [1, 2]))
    await x.waitState('MASTER', 20_000)
    await sleep(1500)
    t.is(d1.state(), 'MASTER')
    t.is(d2.state(), 'BACKUP')
    x.kill('SIGTERM')
    await x.exited
    const m2 = d2.mark()
    d1.kill('SIGTERM')
    const m = await d2.waitState('MASTER', 10_000, m2)
    t.is(m.why, 'priority_zero')
    t.is((await d1.exited).code, 0)
    await waitFor(() => hasVip('d2') && !hasVip('d1'), 5000)
    d2.kill('SIGTERM')
    t.is((await d2.exited).code, 0)
    const c1 = d1.lines.find((l) => l.msg === 'counters')?.counters
    const c2 = d2.lines.find((l) => l.msg === 'counters')?.counters
    t.true((c1?.drops.peer ?? 0) > 0, `d1 dropped the stranger's adverts: ${JSON.stringify(c1?.drops)}`)
    t.true((c2?.drops.peer ?? 0) > 0, `d2 dropped the stranger's adverts: ${JSON.stringify(c2?.drops)}`)
    t.deepEqual(Object.keys(c2?.drops ?? {}), ['peer'], 'nothing else was dropped')
  } finally {
    cap.kill('SIGTERM')
  }
})
