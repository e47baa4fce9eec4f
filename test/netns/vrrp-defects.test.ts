// VRRP defects found by attacking a running pair (issue 19), each against real `lvsd run` daemons in
// namespaces: unicast with a TTL below 255 elects one master (it gave two for good), a flood of spoofed
// lower-priority adverts is answered at most once per interval (it was amplified 5×), and v2 adverts of
// another VRID on the LAN are counted as `vrid`, not as version errors.
import { join } from 'node:path'
import test from 'ava'
import { parseAddr } from '../../src/net/addr.js'
import { encode } from '../../src/vrrp/packet.js'
import { Lab, waitFor } from '../helpers/netns.js'
import { runAgent } from './agents/addon-harness.js'
import { ConfigDir, controlSocket, Director, lvsctlIn, MAC } from './agents/vrrp-harness.js'

const lab = new Lab('vd')
const cfg = new ConfigDir()
const directors: Director[] = []

test.before(() => {
  lab.addSwitch()
  lab.addNode({ name: 'd1', ipv4: '10.73.0.1/24', mac: MAC(1) })
  lab.addNode({ name: 'd2', ipv4: '10.73.0.2/24', mac: MAC(2) })
  lab.addNode({ name: 'x', ipv4: '10.73.0.66/24', mac: MAC(66) })
})
test.after.always(async () => {
  for (const d of directors) d.kill('SIGKILL')
  await Promise.all(directors.map((d) => d.exited))
  lab.dispose()
  cfg.dispose()
})

function start(node: string, yaml: string): Director {
  const d = new Director(lab, node, cfg.write(`${node}.yaml`, yaml))
  directors.push(d)
  return d
}

async function stop(...ds: Director[]): Promise<void> {
  for (const d of ds) if (d.proc.exitCode === null && d.proc.signalCode === null) d.kill('SIGTERM')
  await Promise.all(ds.map((d) => d.exited))
}

// biome-ignore lint/suspicious/noExplicitAny: status JSON, asserted field by field
function status(node: string): any {
  const r = lvsctlIn(lab, node, join(cfg.dir, `${node}.sock`), ['status', '--json'])
  if (r.status !== 0) throw new Error(`lvsctl status on ${node}: ${r.err}`)
  return JSON.parse(r.out)
}

const instance = (o: { vrid: number; priority: number; version?: 2 | 3; interval?: string; extra?: string }) => `
vrrp:
  version: ${o.version ?? 3}
  advert_interval: ${o.interval ?? '100ms'}
  instances:
    - name: web
      interface: eth0
      vrid: ${o.vrid}
      priority: ${o.priority}
      vips: [10.73.0.100/24]
${o.extra ?? ''}`

test.serial('unicast with ttl 64: the two nodes hear each other and elect exactly one master', async (t) => {
  const uni = (peer: string) => `      unicast: { peers: [${peer}], ttl: 64 }\n`
  const d1 = start(
    'd1',
    `node: d1\n${controlSocket(cfg, 'd1')}${instance({ vrid: 61, priority: 150, extra: uni('10.73.0.2') })}`,
  )
  const d2 = start(
    'd2',
    `node: d2\n${controlSocket(cfg, 'd2')}${instance({ vrid: 61, priority: 100, extra: uni('10.73.0.1') })}`,
  )
  try {
    await d1.waitSettled('MASTER', 20_000)
    await d2.waitSettled('BACKUP', 20_000)
    const s2 = status('d2').instances[0]
    t.true(s2.counters.advertsReceived > 0, 'the backup accepts the master’s TTL-64 adverts')
    t.is(s2.counters.drops.ttl ?? 0, 0)
    t.is(status('d1').instances[0].state, 'MASTER')
  } finally {
    await stop(d1, d2)
  }
})

test.serial('a flood of spoofed lower-priority adverts is answered at most once per second and counted', async (t) => {
  const d1 = start('d1', `node: d1\n${controlSocket(cfg, 'd1')}${instance({ vrid: 62, priority: 200 })}`)
  try {
    await d1.waitSettled('MASTER', 20_000)
    const before = status('d1').instances[0].counters
    const src = parseAddr('10.73.0.66')
    const dst = parseAddr('224.0.0.18')
    const spoof = encode(
      { version: 3, type: 1, vrid: 62, priority: 100, interval: 10, family: 4, addrs: [parseAddr('10.73.0.100')] },
      { src, dst },
    )
    const t0 = Date.now()
    const [sent] = runAgent(lab, 'x', 'vrrp-flood', ['eth0', '10.73.0.66', '20000', spoof.toString('hex')])
    t.is(sent?.count, 20000)
    // the counts settle once the worker has read what the socket kept (a loaded machine drops some)
    let last = -1
    const after = await waitFor(
      () => {
        const c = status('d1').instances[0].counters
        const heard = c.lowerPrioAnswered + c.lowerPrioSuppressed
        if (heard === last) return c
        last = heard
        return undefined
      },
      20_000,
      500,
    )
    const seconds = (Date.now() - t0) / 1000
    const answered = after.lowerPrioAnswered - before.lowerPrioAnswered
    const suppressed = after.lowerPrioSuppressed - before.lowerPrioSuppressed
    t.true(answered >= 1, 'a split brain is still answered')
    t.true(answered <= Math.ceil(seconds) + 1, `${answered} answers in ${seconds.toFixed(1)} s`)
    t.true(suppressed >= 1000, `${suppressed} suppressed: the flood was heard`)
    t.is(status('d1').instances[0].state, 'MASTER')
    // adverts stay near the 10/s cadence plus the few answers (it was one per spoofed advert)
    const extra = after.advertsSent - before.advertsSent
    t.true(extra <= seconds * 10 + answered + 20, `${extra} adverts sent in ${seconds.toFixed(1)} s`)
  } finally {
    await stop(d1)
  }
})

test.serial('VRRPv2 adverts of another VRID at a v3 instance are counted as vrid, not version', async (t) => {
  const d1 = start('d1', `node: d1\n${controlSocket(cfg, 'd1')}${instance({ vrid: 63, priority: 200 })}`)
  try {
    await d1.waitSettled('MASTER', 20_000)
    const other = encode({
      version: 2,
      type: 1,
      vrid: 99,
      priority: 100,
      interval: 1,
      family: 4,
      addrs: [parseAddr('10.73.0.200')],
      auth: { type: 0, data: new Uint8Array(8) },
    })
    runAgent(lab, 'x', 'vrrp-flood', ['eth0', '10.73.0.66', '50', other.toString('hex')])
    const drops = await waitFor(() => {
      const d = status('d1').instances[0].counters.drops
      return (d.vrid ?? 0) >= 40 ? d : undefined
    }, 10_000)
    t.is(drops.version ?? 0, 0)
  } finally {
    await stop(d1)
  }
})
