// The director on the real kernel (VM tier): two `lvsd run` from conf/lb01.yaml and conf/lb02.yaml drive the
// seed's LVS-DR pair. Both keep the table, the sync daemon follows VRRP, a killed real server leaves and
// rejoins within fall/rise, SIGHUP with one changed weight is one netlink request and no VRRP transition,
// SIGHUP with an invalid file keeps the old configuration serving, SIGTERM hands over cleanly. One boot.
import test from 'ava'
import { bootAgent, type Report, seedPairScript } from '../helpers/vm-lab.js'

// lb01 (.1), lb02 (.2), web01 (.7), web02 (.8: both with the VIP on lo, arp_ignore=1, arp_announce=2),
// client (.100), all on br0 in the guest's root namespace; the agent runs in the root namespace.
const SCRIPT = seedPairScript(
  `modprobe ip_vs
node dist/test/vm/agents/director-agent.js`,
)

const boot = bootAgent(SCRIPT, 540_000)

async function report(t: { timeout: (ms: number) => void }): Promise<Report> {
  t.timeout(600_000)
  return (await boot).r
}

// conf/lb01.yaml: http checks every 2 s, timeout 1 s, rise 2, fall 3
const INTERVAL = 2000
const TIMEOUT = 1000
// TCG runs Node ~15x slower: a check that is due may start late, and the agent polls ipvsadm from Node too
const MARGIN = 3000

test('both directors program the seed table (wrr, -g, --set 30 5 60); lb01 is master and runs the master sync daemon', async (t) => {
  const r = await report(t)
  t.log(
    `run ${(await boot).run.durationMs} ms; lb01 MASTER after ${r.masterAfterMs} ms; servers up after ${r.upAfterMs} ms`,
  )
  t.not(r.masterAfterMs, null)
  for (const lb of ['lb01', 'lb02']) {
    t.regex(r.ipvsadm[lb], /TCP {2}10\.0\.0\.3:80 wrr\n/, lb)
    t.regex(r.ipvsadm[lb], / {2}-> 10\.0\.0\.7:80 +Route +1 /, lb)
    t.regex(r.ipvsadm[lb], / {2}-> 10\.0\.0\.8:80 +Route +1 /, lb)
  }
  t.is(r.timeouts.trim(), 'Timeout (tcp tcpfin udp): 30 5 60')
  t.regex(r.daemons.lb01, /^master sync daemon \(mcast=eth0, syncid=51/m)
  t.regex(r.daemons.lb02, /^backup sync daemon \(mcast=eth0, syncid=51/m)
  t.true(r.answers.web01 > 0 && r.answers.web02 > 0, JSON.stringify(r.answers))
})

test('a killed real server is out within fall × interval + timeout and back after rise passes', async (t) => {
  const r = await report(t)
  const { outMs, backMs } = r.health
  t.log(`out after ${outMs} ms, back after ${backMs} ms`)
  t.not(outMs, null)
  // three failures in a row: the first within one interval of the kill, then two more intervals
  t.true(outMs >= 2 * INTERVAL - 500, `fall 3 respected (${outMs} ms)`)
  t.true(outMs <= 3 * INTERVAL + TIMEOUT + MARGIN, `out in time (${outMs} ms)`)
  t.not(backMs, null)
  t.true(backMs >= INTERVAL - 500, `rise 2 respected (${backMs} ms)`)
  t.true(backMs <= 2 * INTERVAL + TIMEOUT + 2 * MARGIN, `back in time (${backMs} ms; includes the server's start)`)
  t.like(r.health.down, { up: false, weight: 0 })
  t.like(r.health.up, { up: true, weight: 1 })
})

test('SIGHUP with one changed weight: exactly one netlink request (SET_DEST) and no VRRP transition', async (t) => {
  const r = await report(t)
  const { events, pass } = r.reload
  t.truthy(r.reload.reloaded)
  const names = events.map((e: Report) => e.name)
  t.deepEqual(
    events.filter((e: Report) => e.name === 'ipvs.op').map((e: Report) => [e.data.op, e.data.cause, e.data.ok]),
    [['edit-dest', 'config', true]],
  )
  t.false(names.includes('vrrp.transition'))
  const reload = events.find((e: Report) => e.name === 'config.reload')
  t.like(reload?.data, { ok: true, changes: { added: [], removed: [], changed: ['server:web/10.0.0.7:80'] } })
  t.like(pass, { ops: 1, failed: 0, requests: 1, read: false })
  t.regex(r.reload.weight, / {2}-> 10\.0\.0\.7:80 +Route +3 /)
})

test('SIGHUP with an invalid file: refused with file:line:col, the old configuration keeps serving', async (t) => {
  const r = await report(t)
  const f = r.refused
  t.log(f.lines)
  t.true(
    f.lines.some((l: string) => /lb01\.yaml:\d+:\d+ vrrp\.instances\[0\]\.priority: /.test(l)),
    JSON.stringify(f.lines),
  )
  t.is(f.hashAfter, f.hashBefore)
  t.is(f.state, 'MASTER')
  t.regex(f.table, / {2}-> 10\.0\.0\.7:80 +Route +3 /)
  t.regex(f.serving, /"failures":0/)
})

test('lvsctl status and /metrics show the running pair', async (t) => {
  const r = await report(t)
  t.log(`\n${r.status}`)
  t.regex(r.status, /web +eth0 +51 +v2 +MASTER/)
  t.regex(r.status, /TCP {2}10\.0\.0\.3:80 wrr/)
  t.regex(r.status, /-> 10\.0\.0\.8:80 .*up/)
  t.regex(r.metrics, /^lvsd_vrrp_state\{vrrp="web",state="MASTER"\} 1$/m)
  t.regex(r.metrics, /^lvsd_real_server_weight\{service="web",server="10\.0\.0\.7:80"\} 3$/m)
  t.regex(r.metrics, /^lvsd_ipvs_service_connections_total\{service="web"\} [1-9]\d*$/m)
  t.log(
    r.metrics
      .split('\n')
      .filter((l: string) => /^lvsd_(vrrp_state|real_server|ipvs_service|health|vrrp_adverts)/.test(l))
      .join('\n'),
  )
})

test('SIGTERM: lb01 exits 0 keeping its table, lb02 takes over and becomes the master sync daemon', async (t) => {
  const r = await report(t)
  const s = r.stop
  t.is(s.code, 0)
  t.true(s.stopped)
  t.regex(s.kept, /TCP {2}10\.0\.0\.3:80 wrr/)
  t.like(s.lb02, { why: 'priority_zero' })
  t.regex(s.syncLb02, /^master sync daemon/m)
  t.regex(s.serving, /"failures":0/)
  // the warnings this scenario causes on purpose, and late adverts: under TCG on a loaded 2-core host the guest's
  // timers slip (the SCHED_RR worker's own figures are measured on the host, docs/benchmarks.md)
  const expected = [
    /^web 10\.0\.0\.8:80: down \(/,
    /^reload refused: /,
    /^reload of .* refused: 1 error/,
    /^\S+: advert [\d.]+ ms late$/,
  ]
  for (const lb of ['lb01', 'lb02'])
    t.deepEqual(
      r.logs[lb].filter((m: string) => !expected.some((e) => e.test(m))),
      [],
      `no other warnings or errors in ${lb}’s log`,
    )
})
