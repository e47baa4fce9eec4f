// The real-server side on the real kernel (VM tier): four real-server namespaces start in the classic
// wrong states and are set up by `lvsd realserver up` instead of hand-written commands; `lvsd realserver
// check` on each and `lvsctl doctor` from an `lvsd run` director (real IPVS: a DR, a TUN and a NAT
// service) report each wrong state before and nothing after; clients reach both DR servers and both TUN
// servers through the VIPs; `down` puts every sysctl, address and link back as it was. One boot.
import test from 'ava'
import { bootAgent, drLabScript, type Report } from '../helpers/vm-lab.js'

// dir (10.0.0.1 and 10.0.1.1: holds VIPs .3 DR, .4 TUN, .5 NAT); rd1 (.11: no VIP), rd2 (.12: VIP on lo,
// arp_ignore 0: answers ARP for it), rt1 (.21: tunl0 down, no VIP, rp_filter 1), rt2 (.22: VIP on
// tunl0 up, ARP sysctls right, rp_filter left at 1); rn1 (10.0.1.31, default route via dir), rn2
// (10.0.1.32, no route back); cl (.100). Nothing of the seed's hand setup is applied to any of them.
const SCRIPT = drLabScript(
  [
    ['dir', '10.0.0.1', '02:c0:00:00:00:01'],
    ['rd1', '10.0.0.11', '02:c0:00:00:00:11'],
    ['rd2', '10.0.0.12', '02:c0:00:00:00:12'],
    ['rt1', '10.0.0.21', '02:c0:00:00:00:21'],
    ['rt2', '10.0.0.22', '02:c0:00:00:00:22'],
    ['rn1', '10.0.1.31', '02:c0:00:00:00:31'],
    ['rn2', '10.0.1.32', '02:c0:00:00:00:32'],
    ['cl', '10.0.0.100', '02:c0:00:00:00:64'],
  ],
  [],
  '10.0.0.3',
  `ip -n dir addr add 10.0.1.1/24 dev eth0
ip -n rn1 route add default via 10.0.1.1
for r in rt1 rt2; do ip netns exec $r sysctl -qw net.ipv4.conf.all.rp_filter=1 net.ipv4.conf.default.rp_filter=1; done
modprobe ip_vs
modprobe ipip
ip -n rd2 addr add 10.0.0.3/32 dev lo
ip -n rt2 link set tunl0 up
ip -n rt2 addr add 10.0.0.4/32 dev tunl0
ip netns exec rt2 sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \\
  net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2
for r in rd1 rd2 rt1 rt2 rn1 rn2; do ip netns exec $r node dist/test/vm/agents/ipvs-dr-peer.js server $r & done
node dist/test/vm/agents/realserver-agent.js`,
)

const boot = bootAgent(SCRIPT, 540_000)

async function report(t: { timeout: (ms: number) => void }): Promise<Report> {
  t.timeout(600_000)
  return (await boot).r
}

const arpFixes = (dev: string) => [
  `sysctl-wrong: sysctl -w net.ipv4.conf.${dev}.arp_ignore=1`,
  `sysctl-wrong: sysctl -w net.ipv4.conf.${dev}.arp_announce=2`,
]

test('lvsd realserver check names each wrong state with its fix and exits 1 before up', async (t) => {
  const r = await report(t)
  t.log(`run ${(await boot).run.durationMs} ms`)
  for (const ns of ['rd1', 'rd2', 'rt1', 'rt2']) t.is(r.checkBefore[ns].status, 1, ns)
  t.deepEqual(r.checkBefore.rd1.kinds, [
    'vip-missing: ip addr add 10.0.0.3/32 dev lo',
    ...arpFixes('all'),
    ...arpFixes('eth0'),
  ])
  t.deepEqual(r.checkBefore.rd2.kinds, [...arpFixes('all'), ...arpFixes('eth0')])
  t.deepEqual(r.checkBefore.rt1.kinds, [
    'tunnel-down: ip link set tunl0 up',
    'vip-missing: ip addr add 10.0.0.4/32 dev tunl0',
    ...arpFixes('all'),
    ...arpFixes('eth0'),
    'sysctl-wrong: sysctl -w net.ipv4.conf.all.rp_filter=0',
    'sysctl-wrong: sysctl -w net.ipv4.conf.tunl0.rp_filter=0',
  ])
  t.deepEqual(r.checkBefore.rt2.kinds, [
    'sysctl-wrong: sysctl -w net.ipv4.conf.all.rp_filter=0',
    'sysctl-wrong: sysctl -w net.ipv4.conf.tunl0.rp_filter=0',
  ])
})

test('lvsctl doctor from the director finds each wrong state: no VIP, ARP answered, no decapsulation, no route back', async (t) => {
  const r = await report(t)
  t.log(`lvsd MASTER with the table after ${r.readyMs} ms\n${r.table}`)
  t.not(r.readyMs, null, r.lvsdErr)
  t.regex(r.table, /-> 10\.0\.0\.21:80 +Tunnel /)
  t.regex(r.table, /-> 10\.0\.0\.11:80 +Route /)
  t.regex(r.table, /-> 10\.0\.1\.31:80 +Masq /)
  const d = r.doctorBefore
  t.log(d.fixes)
  t.is(d.status, 1, JSON.stringify(d))
  t.deepEqual(d.checked, [
    '10.0.0.11:80 probed',
    '10.0.0.12:80 probed',
    '10.0.0.21:80 probed',
    '10.0.0.22:80 probed',
    '10.0.1.31:80 probed',
    '10.0.1.32:80 probed',
  ])
  t.deepEqual(d.findings, [
    '10.0.0.11:80 vip-not-accepted',
    '10.0.0.12:80 answers-vip-arp',
    '10.0.0.21:80 no-decap',
    '10.0.0.22:80 no-decap',
    '10.0.1.32:80 no-route-back',
  ])
  t.true(
    d.fixes.includes(
      "10.0.1.32:80 on 10.0.1.32: ip route replace default via 10.0.1.1 (the director's address, or the VRRP VIP the directors share on that side)",
    ),
  )
})

test('lvsd realserver up makes exactly the missing changes, a second up changes nothing, then check and doctor are clean', async (t) => {
  const r = await report(t)
  for (const ns of ['rd1', 'rd2', 'rt1', 'rt2']) t.is(r.up[ns].status, 0, `${ns}: ${r.up[ns].out}`)
  t.is(r.upAgain.status, 0)
  t.regex(r.upAgain.out, /nothing to change/)
  t.true(r.upAgain.recordSame)
  const ids = (ns: string) =>
    r.records[ns].map((c: Report) =>
      c.kind === 'sysctl' ? `${c.key} ${c.from}>${c.to}` : `${c.kind} ${c.dev} ${c.address ?? ''}`.trim(),
    )
  t.deepEqual(ids('rt1'), [
    'link-up tunl0',
    'address tunl0 10.0.0.4',
    'net/ipv4/conf/all/arp_ignore 0>1',
    'net/ipv4/conf/all/arp_announce 0>2',
    'net/ipv4/conf/eth0/arp_ignore 0>1',
    'net/ipv4/conf/eth0/arp_announce 0>2',
    'net/ipv4/conf/all/rp_filter 1>0',
    'net/ipv4/conf/tunl0/rp_filter 1>0',
  ])
  t.deepEqual(ids('rt2'), ['net/ipv4/conf/all/rp_filter 1>0', 'net/ipv4/conf/tunl0/rp_filter 1>0'])
  t.deepEqual(ids('rd1')[0], 'address lo 10.0.0.3')
  t.false(
    ids('rd2').some((c: string) => c.startsWith('address')),
    'the VIP already on lo is left alone',
  )
  for (const ns of ['rd1', 'rd2', 'rt1', 'rt2']) {
    t.is(r.checkAfter[ns].status, 0, ns)
    t.deepEqual(r.checkAfter[ns].kinds, [], ns)
  }
  t.is(r.doctorAfter.status, 1, 'rn2 still has no route back')
  t.deepEqual(r.doctorAfter.findings, ['10.0.1.32:80 no-route-back'])
})

test('real IPVS carries client connections through the DR VIP to both DR servers and through the TUN VIP to both TUN servers', async (t) => {
  const r = await report(t)
  t.log(r.stats)
  t.deepEqual(r.burstDr, { counts: { rd1: 10, rd2: 10 }, failures: 0 })
  t.deepEqual(r.burstTun, { counts: { rt1: 10, rt2: 10 }, failures: 0 })
})

test('lvsd realserver down restores every sysctl, address and link as before up; the wrong states are back', async (t) => {
  const r = await report(t)
  for (const ns of ['rd1', 'rd2', 'rt1', 'rt2']) {
    t.is(r.down[ns].status, 0, ns)
    t.deepEqual(r.restored[ns], { same: true, lines: r.restored[ns].lines, gone: [], added: [] }, ns)
    t.true(r.restored[ns].lines > 100, `${ns}: ${r.restored[ns].lines} lines compared`)
    t.is(r.checkDown[ns], 1, ns)
  }
  t.is(r.lvsdExit, 0, r.lvsdErr)
})
