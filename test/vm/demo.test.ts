// `npm run demo`'s scenario in the lab VM (Debian's kernel, real IPVS), asserted on its recorded
// result: the seed's LVS-DR pair from conf/lb01.yaml and conf/lb02.yaml, both real servers answering
// through the VIP, the master frozen and its link cut, the backup serving within the RFC floor plus
// a TCG margin, the long-lived connection kept through the sync daemon, the client's ARP entry
// moved to lb02. One boot.
import test from 'ava'
import { summarize } from '../../src/lab/demo/analysis.js'
import type { DemoResult } from '../../src/lab/demo/events.js'
import { runDemoInVm } from '../../src/lab/demo/in-vm.js'
import { masterDownMs, nodeNamed } from '../../src/lab/demo/plan.js'
import { formatTimeline } from '../../src/lab/demo/timeline.js'
import { repoRoot } from '../helpers/paths.js'

const boot = runDemoInVm(repoRoot, 540_000)
boot.catch(() => {})

async function result(t: { timeout: (ms: number) => void }): Promise<DemoResult> {
  t.timeout(600_000)
  return (await boot).result
}

test('the scenario runs to the end: election, settled traffic, the master frozen and cut, takeover', async (t) => {
  const r = await result(t)
  t.log(`\n${formatTimeline(r)}`)
  t.is(r.failure, null, formatTimeline(r))
  t.is(r.where, 'vm')
  t.is(r.master, 'lb01')
  t.is(r.backup, 'lb02')
  t.is(r.kill?.node, 'lb01')
  t.is(summarize(r).takeover?.node, 'lb02')
})

test('both real servers answer new connections through the VIP, forwarded by direct routing', async (t) => {
  const r = await result(t)
  const s = summarize(r)
  t.deepEqual(Object.keys(s.before.answered).sort(), ['web01', 'web02'])
  t.deepEqual(Object.keys(s.after.answered).sort(), ['web01', 'web02'])
  for (const node of ['lb01', 'lb02']) {
    const listing = r.listings[node] ?? ''
    t.regex(listing, /TCP {2}10\.0\.0\.3:80 wrr/, node)
    t.regex(listing, /-> 10\.0\.0\.7:80 +Route +1 /, node)
    t.regex(listing, /-> 10\.0\.0\.8:80 +Route +1 /, node)
  }
})

// The floor: lb02 (priority 100, advert 1 s) declares lb01 dead 3 × 1 s + 156/256 s = 3.609 s after
// lb01's last advert, which came at most one interval before the freeze. The margin covers what
// follows lb02's timer inside a TCG guest whose two vCPUs run five Node processes and tcpdump:
// the worker's wake-up and GARP send, the client's next probe (≤ 50 ms later), and that probe's
// connect + GET through IPVS to a Node real server, which takes tens to a few hundred ms here
// (the result's probe durations show it). 1.5 s is several times the worst observed.
const MARGIN_MS = 1500

test('after the freeze lb02 serves within the RFC floor plus the TCG margin, and not before lb01 is overdue', async (t) => {
  const r = await result(t)
  const s = summarize(r)
  const floor = masterDownMs(nodeNamed('lb02').priority as number)
  t.is(s.floorMs, floor)
  t.log(
    `takeover ${s.takeover?.afterKillMs} ms after the freeze, ${s.takeover?.afterLastAdvertMs} ms after lb01's last advert; served after ${s.firstServedAfterKill?.afterKillMs} ms; floor ${floor} ms`,
  )
  t.not(s.firstServedAfterKill, null)
  t.true((s.firstServedAfterKill?.afterKillMs ?? Infinity) <= floor + MARGIN_MS)
  // the RFC timer itself: lb02 did not give up on lb01 early
  t.true((s.takeover?.afterLastAdvertMs ?? 0) >= floor - 50, `${s.takeover?.afterLastAdvertMs} ms`)
  t.true(s.garpsAfterKill.some((f) => f.from === 'lb02'))
})

test('the long-lived connection survives the takeover on the same real server (IPVS sync daemon)', async (t) => {
  const r = await result(t)
  const l = summarize(r).long
  t.log(
    `port ${l.port}: synced after ${l.syncedAfterMs} ms; first reply ${l.firstReplyAfterKillMs} ms after the freeze`,
  )
  t.not(l.syncedAfterMs, null)
  t.is(l.failure, null)
  t.true(l.survived)
  t.true(l.repliesAfterKill > 0)
  t.is(l.servers.length, 1, `answered by ${l.servers}`)
})

test("the client's ARP entry for the VIP points at lb02's MAC after the takeover", async (t) => {
  const r = await result(t)
  t.is(r.vipNeighbour.mac, nodeNamed('lb02').mac)
  t.is(r.vipNeighbour.node, 'lb02')
})
