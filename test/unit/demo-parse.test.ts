// The demo's readers of what its processes print: tcpdump lines, lvsd's JSON log lines, the
// kernel's /proc/net/ip_vs* files and ipvsadm --daemon, and the per-node config copies.
import test from 'ava'
import { parseCaptureLine } from '../../lab/demo/capture.js'
import { withControlSocket } from '../../lab/demo/configs.js'
import { parseTransition } from '../../lab/demo/directors.js'
import { listsConnection, listsVipService, syncRoles } from '../../lab/demo/kernel-state.js'
import { masterDownMs } from '../../lab/demo/plan.js'

const VIP = '10.0.0.3'

test('a VRRPv2 advert line gives its time in ms, sender node and priority', (t) => {
  const line =
    '1795692418.085658 02:c0:00:00:00:01 > 01:00:5e:00:00:12, ethertype IPv4 (0x0800), length 54: 10.0.0.1 > 224.0.0.18: VRRPv2, Advertisement, vrid 51, prio 150, authtype none, intvl 1s, length 20, addrs: 10.0.0.3'
  t.deepEqual(parseCaptureLine(line, VIP), {
    t: 1795692418086,
    kind: 'advert',
    srcMac: '02:c0:00:00:00:01',
    from: 'lb01',
    priority: 150,
  })
})

test('gratuitous ARPs for the VIP are recognised in request and reply form; other ARP is not', (t) => {
  const head = '1795692421.5 02:c0:00:00:00:02 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: '
  t.like(parseCaptureLine(`${head}Request who-has 10.0.0.3 tell 10.0.0.3, length 28`, VIP), {
    kind: 'garp',
    from: 'lb02',
    t: 1795692421500,
  })
  t.like(parseCaptureLine(`${head}Request who-has 10.0.0.3 (ff:ff:ff:ff:ff:ff) tell 10.0.0.3, length 28`, VIP), {
    kind: 'garp',
  })
  t.like(parseCaptureLine(`${head}Reply 10.0.0.3 is-at 02:c0:00:00:00:02, length 28`, VIP), { kind: 'garp' })
  t.is(parseCaptureLine(`${head}Request who-has 10.0.0.3 tell 10.0.0.100, length 28`, VIP), null)
  t.is(parseCaptureLine(`${head}Request who-has 10.0.0.30 tell 10.0.0.30, length 28`, VIP), null)
  t.is(parseCaptureLine('tcpdump: listening on eth0, link-type EN10MB', VIP), null)
})

test('the client SYN names the director it went to and the SYN-ACK names the real server that sent it', (t) => {
  const syn =
    '1795692421.250000 02:c0:00:00:00:64 > 02:c0:00:00:00:02, ethertype IPv4 (0x0800), length 74: 10.0.0.100.46694 > 10.0.0.3.80: Flags [S], seq 1, win 64240, options [mss 1460], length 0'
  const synack =
    '1795692421.251000 02:c0:00:00:00:08 > 02:c0:00:00:00:64, ethertype IPv4 (0x0800), length 74: 10.0.0.3.80 > 10.0.0.100.46694: Flags [S.], seq 2, ack 2, win 65160, length 0'
  t.deepEqual(parseCaptureLine(syn, VIP), {
    t: 1795692421250,
    kind: 'syn',
    srcMac: '02:c0:00:00:00:64',
    from: 'client',
    priority: null,
    to: 'lb02',
  })
  t.like(parseCaptureLine(synack, VIP), { kind: 'synack', from: 'web02', t: 1795692421251 })
  // an ACK or a SYN of another address is not a handshake with the VIP
  t.is(parseCaptureLine(syn.replace('Flags [S]', 'Flags [.]'), VIP), null)
  t.is(parseCaptureLine(syn.replace('10.0.0.3.80', '10.0.0.7.80'), VIP), null)
})

test('a transition log line, plain or as a logged event, gives the worker stamp of the transition', (t) => {
  const base = { level: 30, time: '2026-11-26T11:26:58.089Z', node: 'lb01', vrrp: 'web', from: 'BACKUP', to: 'MASTER' }
  const line = JSON.stringify({ ...base, why: 'master_down', at: 1795692418085.658 })
  t.deepEqual(parseTransition(line, 'lb01'), {
    t: 1795692418085.658,
    node: 'lb01',
    instance: 'web',
    from: 'BACKUP',
    to: 'MASTER',
    why: 'master_down',
  })
  t.like(
    parseTransition(JSON.stringify({ ...base, event: 'vrrp.transition', seq: 4, at: 1795692418085.6582 }), 'lb01'),
    {
      t: 1795692418085.658,
    },
  )
  t.is(parseTransition(JSON.stringify({ ...base, event: 'daemon.state' }), 'lb01'), null)
  // a stamp in other units falls back to the log line's time
  t.is(parseTransition(JSON.stringify({ ...base, why: 'x', at: 12.5 }), 'lb01')?.t, Date.parse(base.time))
  t.is(parseTransition('not json', 'lb01'), null)
  t.is(parseTransition(JSON.stringify({ msg: 'lvsd ready' }), 'lb01'), null)
})

test('the kernel files are read for the VIP service, the synced connection and the sync daemon roles', (t) => {
  const ipvs = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
TCP  0A000003:0050 wrr 
  -> 0A000008:0050      Route   1      0          0         
`
  t.true(listsVipService(ipvs))
  t.false(listsVipService(ipvs.replace('0A000003:0050', '0A000003:1F90')))
  const conns = `Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData
TCP 0A000064 A1B2 0A000003 0050 0A000007 0050 ESTABLISHED     899
TCP 0A000064 A1B3 0A000003 0050 0A000008 0050 FIN_WAIT          3
`
  t.true(listsConnection(conns, '10.0.0.100', 0xa1b2))
  t.false(listsConnection(conns, '10.0.0.100', 0xa1b3))
  t.false(listsConnection(conns, '10.0.0.101', 0xa1b2))
  t.deepEqual(syncRoles('master sync daemon (mcast=eth0, syncid=51, maxlen=1472)\n'), ['master'])
  t.deepEqual(syncRoles(''), [])
})

test('config copies get their own control socket, keep the comments, and drop IPVS only when asked', (t) => {
  const text = `# lb01\nnode: lb01 # the name\ncontrol:\n  socket: /run/lvsd/lvsd.sock\n  group: lvsd\nvirtual_services: []\nipvs: {}\n`
  const out = withControlSocket(text, '/tmp/x/lb01.sock')
  t.regex(out, /^# lb01$/m)
  t.regex(out, /node: lb01 # the name/)
  t.regex(out, /socket: \/tmp\/x\/lb01\.sock/)
  t.notRegex(out, /group:/)
  t.regex(out, /virtual_services/)
  t.regex(withControlSocket('node: a\n', '/s'), /control:\n {2}socket: \/s/)
  const vrrpOnly = withControlSocket(text, '/s', true)
  t.notRegex(vrrpOnly, /virtual_services|ipvs:/)
})

test('the RFC Master_Down_Interval of the demo backup (priority 100, 1 s adverts) is 3.609 s', (t) => {
  t.is(masterDownMs(100), 3000 + (156 * 1000) / 256)
  t.is(Math.round(masterDownMs(100)), 3609)
  t.is(masterDownMs(150, 100), 300 + (106 * 100) / 256)
})
