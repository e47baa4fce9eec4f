// preempt_on_quorum (root, netns): the higher-priority director, back from a link fault while its
// own checks see no live real server, stays BACKUP behind the lower one instead of taking the VIP
// into an empty table; once its checks pass again it preempts. Without the setting it preempted at
// once (vrrp-link.test.ts), and clients were reset until its checks came back (the Vagrant
// link-down drill: 4.5 s at the return). The directors are whole (VRRP worker, real TCP checks,
// quorum) on a fake IPVS kernel: this host has none; the VM drill's link-down runs it on real IPVS.
import { join } from 'node:path'
import test from 'ava'
import { Lab, waitFor } from '../helpers/netns.js'
import { repoRoot } from '../helpers/paths.js'
import { startAgent } from './agents/addon-harness.js'
import { addrs, ConfigDir, Director, MAC, sleep, vrrpConfig } from './agents/vrrp-harness.js'

const lab = new Lab('vq')
const cfg = new ConfigDir()
const VIP = '10.73.0.100'
const RS = '10.73.0.10'
let d1: Director
let d2: Director

const hasVip = (node: string) => addrs(lab, node).includes(`${VIP}/24`)
// the instance line, then a service that follows it with fast TCP checks of the one real server
const extra = `      preempt_on_quorum: true
virtual_services:
  - name: web
    address: ${VIP}
    port: 80
    protocol: tcp
    forwarding: dr
    follow: web
    checks:
      - { type: tcp, interval: 200ms, timeout: 150ms, rise: 2, fall: 2 }
    real_servers:
      - { address: ${RS}, port: 80 }
`

test.before(async () => {
  lab.addSwitch()
  lab.addNode({ name: 'd1', ipv4: '10.73.0.1/24', mac: MAC(1) })
  lab.addNode({ name: 'd2', ipv4: '10.73.0.2/24', mac: MAC(2) })
  lab.addNode({ name: 'rs', ipv4: `${RS}/24`, mac: MAC(0x10) })
  const server = startAgent(lab, 'rs', 'health-server', ['0.0.0.0', '80', ''])
  await server.next('ready')
  const start = (node: string, priority: number) => {
    const file = cfg.write(`${node}.yaml`, vrrpConfig({ node, priority, vip: `${VIP}/24`, extra }))
    return new Director(lab, node, file, [join(repoRoot, 'dist/test/netns/agents/director-fake-ipvs.js'), file])
  }
  d1 = start('d1', 150)
  d2 = start('d2', 100)
  await d1.waitSettled('MASTER', 20_000)
  await d2.waitSettled('BACKUP', 20_000)
})
test.after.always(() => {
  lab.dispose()
  cfg.dispose()
})

const logged = (d: Director, msg: string, from: number) => d.lines.slice(from).some((l) => l.msg === msg)

test.serial(
  'back from a link fault with no live real server, d1 waits behind d2; its checks pass, it preempts',
  async (t) => {
    // d1 alone loses sight of the real server (a route that drops), as a director whose link is down does
    lab.exec('d1', 'ip', ['route', 'add', 'blackhole', `${RS}/32`])
    const from1 = d1.lines.length
    await waitFor(() => logged(d1, 'preemption held: a service of this instance has no quorum here', from1), 10_000)
    const m1 = d1.mark()
    const m2 = d2.mark()
    lab.exec('sw', 'ip', ['link', 'set', 'p-d1', 'down'])
    await d1.waitState('FAULT', 10_000, m1)
    await d2.waitState('MASTER', 10_000, m2)
    lab.exec('sw', 'ip', ['link', 'set', 'p-d1', 'up'])
    const back = await d1.waitState('BACKUP', 10_000, m1)
    t.is(back.why, 'fault_cleared')
    // many Master_Down intervals (361 ms) with d2's lower adverts: d1 would have preempted by now
    await sleep(3000)
    t.is(d1.state(), 'BACKUP', 'held: d1 did not preempt')
    t.is(d2.state(), 'MASTER')
    t.true(hasVip('d2') && !hasVip('d1'))
    // the real server is in sight again: rise (2) checks later quorum is back, and d1 preempts
    const from2 = d1.lines.length
    lab.exec('d1', 'ip', ['route', 'del', 'blackhole', `${RS}/32`])
    const pre = await d1.waitState('MASTER', 10_000, m1)
    t.is(pre.why, 'preempt')
    t.true(logged(d1, 'preemption allowed again', from2))
    await waitFor(() => hasVip('d1') && !hasVip('d2'), 5000)
    d1.kill('SIGTERM')
    d2.kill('SIGTERM')
    t.is((await d1.exited).code, 0)
    t.is((await d2.exited).code, 0)
  },
)
