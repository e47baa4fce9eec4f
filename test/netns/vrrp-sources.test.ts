// Who may take part in the election, in multicast mode (issue 14): a stranger on the LAN advertising
// priority 254 takes the VIP by the RFC's rules (keepalived too); with `accept_from` its adverts are
// dropped (counted as `peer`), and with `strict_source` an advert from off the interface's subnet is
// dropped (counted as `source`). Either way the master stays master.
import { join } from 'node:path'
import test from 'ava'
import { parseAddr } from '../../src/net/addr.js'
import { encode } from '../../src/vrrp/packet.js'
import { Lab, waitFor } from '../helpers/netns.js'
import { runAgent } from './agents/addon-harness.js'
import { ConfigDir, controlSocket, Director, lvsctlIn, MAC } from './agents/vrrp-harness.js'

const lab = new Lab('vs')
const cfg = new ConfigDir()
const running: Director[] = []

test.before(() => {
  lab.addSwitch()
  lab.addNode({ name: 'd1', ipv4: '10.76.0.1/24', mac: MAC(1) })
  lab.addNode({ name: 'x', ipv4: '10.76.0.66/24', mac: MAC(66) })
  lab.exec('x', 'ip', ['addr', 'add', '10.99.0.66/24', 'dev', 'eth0'])
})
test.after.always(async () => {
  for (const d of running) if (d.proc.exitCode === null && d.proc.signalCode === null) d.kill('SIGKILL')
  await Promise.all(running.map((d) => d.exited))
  lab.dispose()
  cfg.dispose()
})

// biome-ignore lint/suspicious/noExplicitAny: status JSON, asserted field by field
function instance(): any {
  const r = lvsctlIn(lab, 'd1', join(cfg.dir, 'd1.sock'), ['status', '--json'])
  if (r.status !== 0) throw new Error(r.err)
  return JSON.parse(r.out).instances[0]
}

async function master(extra: string, vrid: number): Promise<Director> {
  const d = new Director(
    lab,
    'd1',
    cfg.write(
      `d1-${vrid}.yaml`,
      `node: d1
${controlSocket(cfg, 'd1')}vrrp:
  version: 3
  advert_interval: 100ms
  instances:
    - name: web
      interface: eth0
      vrid: ${vrid}
      priority: 100
      vips: [10.76.0.100/24]
${extra}`,
    ),
  )
  running.push(d)
  await d.waitSettled('MASTER', 20_000)
  return d
}

/** 30 adverts of priority 254 for `vrid` from the stranger, sourced from `src`. */
function stranger(src: string, vrid: number): void {
  const advert = encode(
    { version: 3, type: 1, vrid, priority: 254, interval: 10, family: 4, addrs: [parseAddr('10.76.0.100')] },
    { src: parseAddr(src), dst: parseAddr('224.0.0.18') },
  )
  runAgent(lab, 'x', 'vrrp-flood', ['eth0', src, '30', advert.toString('hex')])
}

test.serial('with accept_from, a stranger at priority 254 is dropped as peer and the master stays', async (t) => {
  const d = await master('      accept_from: [10.76.0.2/32]\n', 71)
  const mark = d.mark()
  stranger('10.76.0.66', 71)
  const drops = await waitFor(() => {
    const c = instance().counters.drops
    return (c.peer ?? 0) >= 25 ? c : undefined
  }, 10_000)
  t.true(drops.peer >= 25)
  t.is(instance().state, 'MASTER')
  t.is(d.lines.slice(mark).filter((l) => l.to !== undefined).length, 0, 'no transition')
  // 30 drops from one source are one vrrp.drop event (a flood is counted, not streamed)
  const events = lvsctlIn(lab, 'd1', join(cfg.dir, 'd1.sock'), ['events', '--no-follow', '--json'])
    .out.split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l))
    .filter((e) => e.name === 'vrrp.drop' && e.data.reason === 'peer')
  t.deepEqual(
    events.map((e) => e.data),
    [{ instance: 'web', reason: 'peer', from: '10.76.0.66' }],
  )
  d.kill('SIGTERM')
  await d.exited
})

test.serial('with strict_source, an advert from off the subnet is dropped as source; without, it wins', async (t) => {
  const d = await master('      strict_source: true\n', 72)
  const mark = d.mark()
  stranger('10.99.0.66', 72)
  const drops = await waitFor(() => {
    const c = instance().counters.drops
    return (c.source ?? 0) >= 25 ? c : undefined
  }, 10_000)
  t.true(drops.source >= 25)
  t.is(d.lines.slice(mark).filter((l) => l.to !== undefined).length, 0, 'no transition')
  d.kill('SIGTERM')
  await d.exited
  // the same stranger against a master without either option: the RFC lets it take over
  const open = await master('', 73)
  const m2 = open.mark()
  stranger('10.99.0.66', 73)
  const down = await open.waitState('BACKUP', 10_000, m2)
  t.is(down.why, 'higher_priority')
  open.kill('SIGTERM')
  await open.exited
})
