// Real LVS-DR traffic in the lab VM (recipe B.5), programmed by lvsd's reconciler: wrr proportions through the
// VIP, OutPkts 0 on the director, lvsctl ipvs printing exactly what ipvsadm prints, a long-lived connection
// synced to the second director, a destination deleted with ipvsadm restored by the drift loop, an unowned
// service left alone, and sync daemon role switches. One boot.
import test from 'ava'
import { bootAgent, drLabScript, type Report } from '../helpers/vm-lab.js'

// d1 (10.0.0.1, holds the VIP 10.0.0.3), d2 (10.0.0.2), rs1 (.11), rs2 (.12: VIP on lo, arp_ignore=1,
// arp_announce=2), cl (.100), all on br0 in the guest's root namespace.
const SCRIPT = drLabScript(
  [
    ['d1', '10.0.0.1', '02:c0:00:00:00:01'],
    ['d2', '10.0.0.2', '02:c0:00:00:00:02'],
    ['rs1', '10.0.0.11', '02:c0:00:00:00:11'],
    ['rs2', '10.0.0.12', '02:c0:00:00:00:12'],
    ['cl', '10.0.0.100', '02:c0:00:00:00:64'],
  ],
  ['rs1', 'rs2'],
  '10.0.0.3',
  `ip -n d1 addr add 10.0.0.3/32 dev eth0
for r in rs1 rs2; do ip netns exec $r node dist/test/vm/agents/ipvs-dr-peer.js server $r & done
ip netns exec d1 node dist/test/vm/agents/ipvs-dr-agent.js director1`,
)

const boot = bootAgent(SCRIPT, 480_000)

async function report(t: { timeout: (ms: number) => void }): Promise<Report> {
  t.timeout(600_000)
  return (await boot).r
}

test('both directors get the seed table through the reconciler; d1 runs the master and d2 the backup sync daemon', async (t) => {
  const r = await report(t)
  t.like(r.apply, { cause: 'config', ops: 3, failed: 0 })
  t.like(r.d2.pass, { ops: 3, failed: 0 })
  t.deepEqual(r.syncActions, [{ action: 'start', state: 'master' }])
  t.deepEqual(r.d2.actions, [{ action: 'start', state: 'backup' }])
  t.like(r.d2.daemons[0], { state: 'backup', ifname: 'eth0', syncId: 51 })
  t.log(`run: ${(await boot).run.durationMs} ms wall; servers up after ${r.serversUpMs} ms`)
})

test('30 new connections through the VIP are answered by both real servers in wrr proportion 1:2', async (t) => {
  const r = await report(t)
  t.log(JSON.stringify(r.burst))
  t.is(r.burst.failures, 0)
  t.deepEqual(r.burst.counts, { rs1: 10, rs2: 20 })
})

test('after 2.5 s the director counts the inbound packets and OutPkts 0 (replies bypass it in DR)', async (t) => {
  const r = await report(t)
  t.is(r.stats.conns, 30)
  t.true(r.stats.inPkts >= 30 * 4, `${r.stats.inPkts} inbound packets`)
  t.is(r.stats.outPkts, 0)
})

test('lvsctl ipvs prints what ipvsadm prints: -Ln, --stats, --rate, --timeout, --daemon on both directors, -Lnc', async (t) => {
  const r = await report(t)
  for (const k of [
    'cmpList',
    'cmpStats',
    'cmpRate',
    'cmpTimeout',
    'cmpDaemon',
    'cmpDaemonD2',
    'cmpConnsD2',
    'cmpConnsD1',
  ]) {
    const c = r[k]
    t.is(c.status, 0, k)
    t.is(c.lvsctl, c.ipvsadm, `${k} (after ${c.tries} rounds)`)
  }
  t.regex(r.cmpList.ipvsadm, /TCP {2}10\.0\.0\.3:80 wrr\n {2}-> 10\.0\.0\.11:80 +Route {3}1 /)
  t.regex(r.cmpTimeout.ipvsadm, /^Timeout \(tcp tcpfin udp\): 30 5 60$/m)
  t.regex(r.cmpDaemonD2.ipvsadm, /^backup sync daemon \(mcast=eth0, syncid=51/m)
  t.regex(r.cmpConnsD2.ipvsadm, /ESTABLISHED 10\.0\.0\.100:\d+ +10\.0\.0\.3:80 +10\.0\.0\.1[12]:80/)
  t.log(r.cmpStats.ipvsadm)
})

test('a long-lived connection (a line every 100 ms) appears ESTABLISHED on director2 through the sync daemon', async (t) => {
  const r = await report(t)
  t.log(`synced after ${r.sync.syncedMs} ms (port ${r.sync.port}); long-lived: ${JSON.stringify(r.long)}`)
  t.not(r.sync.syncedMs, null, r.sync.d2conns)
  t.true(r.sync.syncedMs < 10_000)
  t.deepEqual(r.long.errors, [])
  t.true(r.long.replies >= 100, `${r.long.replies} replies in 25 s`)
})

test('a destination deleted with ipvsadm is restored by the drift loop within its bound; the unowned service stays', async (t) => {
  const r = await report(t)
  const d = r.drift
  t.log(`deleted at ${d.deletedAt} ms, restored after ${d.restoredMs} ms; events ${JSON.stringify(d.events)}`)
  t.log(`passes after the delete: ${JSON.stringify(d.passes)}`)
  t.deepEqual(d.unowned, [0, 0])
  t.is(d.del, 0)
  // bound: the 1 s interval + one pass (a read of 2 services and an add) + timer slack under TCG, where
  // blocking child processes of the agent (ipvsadm) and shared cores delay the timer
  t.not(d.restoredMs, null)
  t.true(d.restoredMs <= 4000, `${d.restoredMs} ms`)
  t.deepEqual(
    d.events.map((e: Report) => `${e.cause} ${e.target} ${e.ok}`),
    ['drift tcp 10.0.0.3:80 -> 10.0.0.12:80 true'],
  )
  t.is(d.counters.driftRepairs, 1)
  t.is(d.counters.configOps, 3)
  t.is(d.weight, 2)
  t.regex(d.unownedAfter, /TCP {2}10\.0\.0\.3:8080 rr\n {2}-> 10\.0\.0\.11:8080 +Route {3}1 /)
})

test('sync daemon roles switch on the real kernel the keepalived way and repeat as no-ops', async (t) => {
  const r = await report(t)
  t.deepEqual(r.roles.toBackup, [
    { action: 'stop', state: 'master' },
    { action: 'start', state: 'backup' },
  ])
  t.deepEqual(r.roles.afterBackup, ['backup'])
  t.deepEqual(r.roles.toMaster, [
    { action: 'stop', state: 'backup' },
    { action: 'start', state: 'master' },
  ])
  t.deepEqual(r.roles.again, [])
  t.deepEqual(r.roles.afterMaster, ['master'])
})
