// The point of the VRRP worker: a master whose main thread is blocked for seconds keeps sending
// adverts on time from its SCHED_RR worker, so the backup (a real lvsd) never takes over.
import { fileURLToPath } from 'node:url'
import test from 'ava'
import { Lab } from '../helpers/netns.js'
import { ConfigDir, Director, MAC, vrrpConfig } from './agents/vrrp-harness.js'

const agent = fileURLToPath(new URL('./agents/vrrp-stall.js', import.meta.url))
const lab = new Lab('vs')
const cfg = new ConfigDir()

test.before(() => {
  lab.addSwitch()
  lab.addNode({ name: 'd1', ipv4: '10.77.0.1/24', mac: MAC(1) })
  lab.addNode({ name: 'd2', ipv4: '10.77.0.2/24', mac: MAC(2) })
})
test.after.always(() => {
  lab.dispose()
  cfg.dispose()
})

test('a master with its main thread blocked for 3 s keeps advertising: the backup stays BACKUP', async (t) => {
  const d2 = new Director(
    lab,
    'd2',
    cfg.write('d2.yaml', vrrpConfig({ node: 'd2', priority: 100, vip: '10.77.0.100/24' })),
  )
  await d2.waitState('BACKUP', 20_000)
  const r = lab.node('d1', agent, ['10.77.0.100/24', '3000'], 60_000)
  t.is(r.status, 0, r.stderr)
  const events = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { event: string; counters?: { tx: number; lateAdverts: number; maxLateMs: number } })
  t.truthy(events.find((e) => e.event === 'stall'))
  const c = events.find((e) => e.event === 'counters')?.counters
  t.log(`adverts sent ${c?.tx}, late ${c?.lateAdverts}, worst lateness ${c?.maxLateMs.toFixed(2)} ms`)
  t.is(c?.lateAdverts, 0, 'no advert was half an interval late')
  t.true((c?.tx ?? 0) >= 30, 'about 35 adverts in 3.5 s')
  await d2.waitLine((l) => l.why === 'priority_zero', 10_000)
  // d2, alone at first, was master until d1 came; then backup through the whole stall, until d1 resigned
  t.deepEqual(
    d2.lines.filter((l) => l.to !== undefined).map((l) => `${l.from}>${l.to}:${l.why}`),
    [
      'INIT>BACKUP:startup',
      'BACKUP>MASTER:master_down',
      'MASTER>BACKUP:higher_priority',
      'BACKUP>MASTER:priority_zero',
    ],
  )
  d2.kill('SIGTERM')
  t.is((await d2.exited).code, 0)
})
