// What the demo concludes from a recorded run (takeover, gaps, survival, who answered) and how it
// prints it; the run below is built by hand around a kill at t = 10 000 ms.
import test from 'ava'
import { longestGap, summarize } from '../../lab/demo/analysis.js'
import type { DemoResult, Frame } from '../../lab/demo/events.js'
import { formatTimeline, garpBursts } from '../../lab/demo/timeline.js'

const T0 = 1_000_000
const KILL = T0 + 10_000
const advert = (t: number, from: 'lb01' | 'lb02'): Frame => ({
  t,
  kind: 'advert',
  srcMac: from === 'lb01' ? '02:c0:00:00:00:01' : '02:c0:00:00:00:02',
  from,
  priority: from === 'lb01' ? 150 : 100,
})
const garp = (t: number): Frame => ({ ...advert(t, 'lb02'), kind: 'garp', priority: null })
const syn = (t: number, to: 'lb01' | 'lb02'): Frame => ({
  t,
  kind: 'syn',
  srcMac: '02:c0:00:00:00:64',
  from: 'client',
  priority: null,
  to,
})
const synack = (t: number, n: 7 | 8): Frame => ({
  t,
  kind: 'synack',
  srcMac: `02:c0:00:00:00:0${n}`,
  from: `web0${n - 6}`,
  priority: null,
})

function run(): DemoResult {
  const probes: DemoResult['probes'] = []
  // every 50 ms from T0+5 s to T0+16 s; answered except between the kill and the takeover (+3.2 s)
  for (let t = T0 + 5000, seq = 0; t < T0 + 16_000; t += 50, seq++) {
    const down = t > KILL - 20 && t < KILL + 3200
    probes.push({
      k: 'probe',
      seq,
      t,
      ms: down ? 900 : 4,
      server: down ? null : seq % 2 ? 'web01' : 'web02',
      err: down ? 'timeout' : null,
    })
  }
  const wire: Frame[] = []
  for (const p of probes) {
    const to = p.t < KILL + 3150 ? 'lb01' : 'lb02'
    wire.push(syn(p.t, to))
    if (p.server) wire.push(synack(p.t + 2, p.server === 'web01' ? 7 : 8))
  }
  const long: DemoResult['long'] = [{ k: 'long', ev: 'established', t: T0 + 5500, port: 40000 }]
  for (let t = T0 + 5600; t < T0 + 16_000; t += 100)
    if (t < KILL || t > KILL + 3300) long.push({ k: 'long', ev: 'reply', t, server: 'web02' })
  return {
    ok: true,
    where: 'vm',
    kernel: '6.1.0-56-amd64',
    prefix: 'lvsdemo0000-',
    ipvs: true,
    failure: null,
    startedAt: T0,
    probeIntervalMs: 50,
    transitions: [
      { t: T0 + 1000, node: 'lb01', instance: 'web', from: 'INIT', to: 'BACKUP', why: 'startup' },
      { t: T0 + 1100, node: 'lb02', instance: 'web', from: 'INIT', to: 'BACKUP', why: 'startup' },
      { t: T0 + 4400, node: 'lb01', instance: 'web', from: 'BACKUP', to: 'MASTER', why: 'master_down' },
      { t: KILL + 3100, node: 'lb02', instance: 'web', from: 'BACKUP', to: 'MASTER', why: 'master_down' },
    ],
    frames: [
      advert(T0 + 4400, 'lb01'),
      advert(KILL - 500, 'lb01'),
      advert(KILL + 3101, 'lb02'),
      ...[0, 1, 2, 3, 4].map((i) => garp(KILL + 3102 + i)),
      ...wire,
    ].sort((a, b) => a.t - b.t),
    probes,
    long,
    settledAt: T0 + 7000,
    master: 'lb01',
    backup: 'lb02',
    longSyncedAt: T0 + 7000,
    longPort: 40000,
    kill: { t: KILL, cutAt: KILL + 30, node: 'lb01', how: 'SIGSTOP + link cut' },
    vipNeighbour: { mac: '02:c0:00:00:00:02', node: 'lb02', state: 'REACHABLE' },
    listings: {},
    status: {},
    after: null,
    logs: {},
  }
}

test('the takeover is measured from the kill and from the last advert, against the backup RFC floor', (t) => {
  const s = summarize(run())
  t.deepEqual(s.takeover, { node: 'lb02', t: KILL + 3100, afterKillMs: 3100, afterLastAdvertMs: 3600 })
  t.is(Math.round(s.floorMs ?? 0), 3609)
  t.is(s.lastAdvertOfKilled, KILL - 500)
  t.is(s.garpsAfterKill.length, 5)
  t.is(s.election.filter((x) => x.to === 'MASTER').length, 1)
})

test('on the wire the client follows the GARP, the first SYN-ACK after the cut is the backup serving, and only real servers answer', (t) => {
  const r = run()
  const s = summarize(r)
  t.deepEqual(s.firstSynToNewMaster, { t: KILL + 3150, afterKillMs: 3150 })
  t.deepEqual(s.servedOnWire, { t: KILL + 3202, server: 'web02', afterKillMs: 3202 })
  t.deepEqual(Object.keys(s.synackSenders).sort(), ['web01', 'web02'])
  t.deepEqual(Object.keys(s.synackSendersAfterCut).sort(), ['web01', 'web02'])
  t.is(
    Object.values(s.synackSendersAfterCut).reduce((a, b) => a + b, 0),
    r.probes.filter((p) => p.server && p.t > KILL + 30).length,
  )
  // SYN-ACKs come 2 ms after their SYN: the last before the outage answers the probe at KILL-50
  t.deepEqual(s.longestGap, { ms: 3250, from: KILL - 48, to: KILL + 3202 })
})

test('the client gap spans the unanswered probes and both servers answer before and after', (t) => {
  const s = summarize(run())
  // last answer: probe at KILL-50 done at KILL-46; first after: probe at KILL+3200 done at +3204
  t.deepEqual(s.clientGap, { ms: 3250, from: KILL - 46, to: KILL + 3204 })
  t.deepEqual(s.firstServedAfterKill, { t: KILL + 3204, server: 'web02', afterKillMs: 3204 })
  t.deepEqual(Object.keys(s.before.answered).sort(), ['web01', 'web02'])
  t.deepEqual(Object.keys(s.after.answered).sort(), ['web01', 'web02'])
  t.is(s.after.failed, 0)
})

test('the long connection survived when it never failed and answered after the takeover', (t) => {
  const s = summarize(run())
  t.true(s.long.survived)
  t.is(s.long.syncedAfterMs, 1500)
  t.deepEqual(s.long.firstReplyAfterTakeover, { t: KILL + 3400, afterKillMs: 3400 })
  t.deepEqual(s.long.servers, ['web02'])
  const broken = run()
  broken.long.push({ k: 'long', ev: 'error', t: KILL + 3300, err: 'ECONNRESET' })
  t.false(summarize(broken).long.survived)
  t.is(summarize(broken).long.failure, 'ECONNRESET')
  // replies between the freeze and the takeover answer lines sent before it: they prove nothing
  const noTakeover = run()
  noTakeover.transitions.pop()
  t.false(summarize(noTakeover).long.survived)
  t.is(summarize(noTakeover).long.repliesAfterTakeover, 0)
})

test('GARPs group into bursts and the timeline names the takeover, GARP, gap and the neighbour entry', (t) => {
  const r = run()
  t.deepEqual(garpBursts(r.frames), [{ t: KILL + 3102, from: 'lb02', mac: '02:c0:00:00:00:02', count: 5 }])
  const text = formatTimeline(r)
  t.regex(text, / {2}\+4\.400s {2}lb01: VRRP web BACKUP -> MASTER \(master_down\)/)
  t.regex(text, /client sees 5 gratuitous ARPs for 10\.0\.0\.3 from lb02 \(02:c0:00:00:00:02\)/)
  t.regex(
    text,
    /takeover: +lb02 MASTER 3\.100 s after the kill, 3\.600 s after lb01's last advert; RFC Master_Down_Interval for priority 100: 3\.609 s/,
  )
  t.regex(text, /longest gap: +3\.250 s between SYN-ACKs \(\+9\.952s to \+13\.202s\); the client process: 3\.250 s/)
  t.regex(
    text,
    /backup served: +3\.202 s after the kill \(SYN-ACK on the wire; the client process saw one at 3\.204 s\)/,
  )
  t.regex(text, /direct routing: +SYN-ACKs to the client from web01 \d+, web02 \d+$/m)
  t.regex(text, /long connection: port 40000 to web02, on lb02 1\.500 s after opening: survived/)
  t.regex(text, /client's ARP: +10\.0\.0\.3 at 02:c0:00:00:00:02 \(lb02\) REACHABLE/)
  t.notRegex(text, /FAILED/)
})

test('the new master’s lvsctl status and a few non-zero metric families follow the timeline', (t) => {
  const r = run()
  r.after = {
    node: 'lb02',
    status: 'Instance  Interface\nweb       eth0\n',
    metrics: [
      '# HELP lvsd_vrrp_state 1 for the current state.',
      'lvsd_vrrp_state{vrrp="web",state="MASTER"} 1',
      'lvsd_vrrp_state{vrrp="web",state="BACKUP"} 0',
      'lvsd_real_server_weight{service="web",server="10.0.0.7:80"} 1',
      'lvsd_config_reloads_total{result="ok"} 3',
    ].join('\n'),
  }
  const text = formatTimeline(r)
  t.regex(text, /lvsctl status on lb02 after the takeover:\n {2}Instance {2}Interface\n {2}web {7}eth0\n/)
  t.regex(text, /\n {2}lvsd_vrrp_state\{vrrp="web",state="MASTER"\} 1\n {2}lvsd_real_server_weight\{[^}]*\} 1\n/)
  t.notRegex(text, /state="BACKUP"\} 0|# HELP|reloads_total/)
})

test('longestGap needs two points', (t) => {
  t.is(longestGap([5]), null)
  t.deepEqual(longestGap([30, 10, 15]), { ms: 15, from: 15, to: 30 })
})
