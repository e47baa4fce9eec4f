// `npm run demo`'s scenario in the lab VM (Debian's kernel, real IPVS), asserted on its recorded
// result: the seed's LVS-DR pair from conf/lb01.yaml and conf/lb02.yaml, both real servers answering
// through the VIP, the master frozen and its link cut, the backup serving within the RFC floor plus
// a TCG margin, the long-lived connection kept through the sync daemon, the client's ARP entry
// moved to lb02. One boot.
import test from 'ava'
import { summarize } from '../../lab/demo/analysis.js'
import type { DemoResult } from '../../lab/demo/events.js'
import { runDemoInVm } from '../../lab/demo/in-vm.js'
import { masterDownMs, nodeNamed } from '../../lab/demo/plan.js'
import { formatTimeline } from '../../lab/demo/timeline.js'
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
  // after the takeover, on the wire (the client process is too starved in the VM to count on)
  t.deepEqual(Object.keys(s.synackSendersAfterCut).sort(), ['web01', 'web02'])
  // on the wire: every SYN-ACK the client got came from a real server's MAC, none from a director
  t.deepEqual(Object.keys(s.synackSenders).sort(), ['web01', 'web02'])
  for (const node of ['lb01', 'lb02']) {
    const listing = r.listings[node] ?? ''
    t.regex(listing, /TCP {2}10\.0\.0\.3:80 wrr/, node)
    t.regex(listing, /-> 10\.0\.0\.7:80 +Route +1 /, node)
    t.regex(listing, /-> 10\.0\.0\.8:80 +Route +1 /, node)
  }
})

// The floor: lb02 (priority 100, advert 1 s) declares lb01 dead 3 × 1 s + 156/256 s = 3.609 s after
// lb01's last advert. Two margins, for the two things TCG slows:
// - lb02's own timer: 10–50 ms late over six VM runs (natively 2–5 ms), its SCHED_RR worker in a
//   guest whose two vCPUs the host shares with other VMs; 150 ms is three times the worst.
// - from the takeover to the first SYN-ACK on the client's wire: lb02 adds the VIP and sends its
//   GARP (0.23 s after the transition in the VM), the client's next SYN goes to lb02's MAC (55 ms
//   later, new probes start every 50 ms) and a real server answers: 0.29 s measured on the wire.
//   2 s covers a GARP delayed several times over by a loaded guest. (The client process itself
//   saw the answer up to 1.4 s later still, starved of CPU: that is why the wire is the measure.)
const TIMER_MARGIN_MS = 150
const SERVE_MARGIN_MS = 2000

test('after the freeze lb02 takes over at the RFC floor and serves within it plus the TCG margin', async (t) => {
  const r = await result(t)
  const s = summarize(r)
  const floor = masterDownMs(nodeNamed('lb02').priority as number)
  t.is(s.floorMs, floor)
  const tk = s.takeover
  const served = s.servedOnWire
  t.log(
    `takeover ${tk?.afterKillMs} ms after the freeze, ${tk?.afterLastAdvertMs} ms after lb01's last advert; first SYN to lb02 ${s.firstSynToNewMaster?.afterKillMs} ms, first SYN-ACK ${served?.afterKillMs} ms after it (the client process: ${s.firstServedAfterKill?.afterKillMs} ms); floor ${floor} ms`,
  )
  // the RFC timer itself, from lb01's last advert on the wire (under TCG the freeze lands a few
  // tens of ms after the signal, and one more advert may leave): not early, and not much late
  t.true((tk?.afterLastAdvertMs ?? 0) >= floor - 50, `${tk?.afterLastAdvertMs} ms`)
  t.true((tk?.afterLastAdvertMs ?? Infinity) <= floor + TIMER_MARGIN_MS, `${tk?.afterLastAdvertMs} ms`)
  t.true(s.garpsAfterKill.some((f) => f.from === 'lb02'))
  t.not(served, null)
  t.true((served?.afterKillMs ?? Infinity) <= floor + TIMER_MARGIN_MS + SERVE_MARGIN_MS, `${served?.afterKillMs} ms`)
})

test('the long-lived connection survives the takeover on the same real server (IPVS sync daemon)', async (t) => {
  const r = await result(t)
  const l = summarize(r).long
  t.log(
    `port ${l.port}: synced after ${l.syncedAfterMs} ms; answered ${l.firstReplyAfterTakeover?.afterKillMs} ms after the freeze`,
  )
  t.not(l.syncedAfterMs, null)
  t.is(l.failure, null)
  t.true(l.survived)
  t.true(l.repliesAfterTakeover > 0)
  t.is(l.servers.length, 1, `answered by ${l.servers}`)
})

test("the client's ARP entry for the VIP points at lb02's MAC after the takeover", async (t) => {
  const r = await result(t)
  t.is(r.vipNeighbour.mac, nodeNamed('lb02').mac)
  t.is(r.vipNeighbour.node, 'lb02')
})
