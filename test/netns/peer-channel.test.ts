// The peer channel between two `lvsd run` (VRRP-only configs, so they run on this kernel without IPVS;
// needs root): the channel comes up with no drift; a wrong key, a captured datagram replayed and 10,000
// random datagrams from a third host change nothing and are counted (logged once per source and reason);
// dropping the channel with nftables changes no VRRP state and the backup still names its master (from
// the adverts); a release taken while partitioned converges after the heal; a config that differs (a
// VIP) raises the drift alarm naming the instance, and its revert clears it.
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { TYPE_STATE } from '../../src/peer/codec.js'
import { PeerLink } from '../../src/peer/link.js'
import { Lab, waitFor } from '../helpers/netns.js'
import { repoRoot } from '../helpers/paths.js'
import { ConfigDir, Director, lvsctlIn, MAC, vrrpConfig } from './agents/vrrp-harness.js'

const lab = new Lab('pc')
const cfg = new ConfigDir()
const NET = '10.73.0'
const VIP = `${NET}.100/24`
const PORT = 8849
const NFT = '/usr/sbin/nft'
const key = join(cfg.dir, 'peer.key')
writeFileSync(key, 'the-pair-key-of-the-netns-test-0123456789\n', { mode: 0o600 })

const peerSection = (self: number, other: number, extra = '') =>
  `peer:\n  address: ${NET}.${other}\n  source: ${NET}.${self}\n  key_file: ${key}\n` +
  `  state_file: ${join(cfg.dir, `d${self}-state.json`)}\n  interval: 200ms\n  dead_after: 1s\n${extra}`
const metrics = 'metrics: { enabled: true, address: 127.0.0.1, port: 9478 }\n'
const conf = (n: 1 | 2, vip = VIP) =>
  vrrpConfig({
    node: `d${n}`,
    priority: n === 1 ? 150 : 100,
    vip,
    interval: '200ms',
    extra: peerSection(n, 3 - n) + (n === 1 ? metrics : ''),
  })
const d1conf = cfg.write('d1.yaml', conf(1))
const d2conf = cfg.write('d2.yaml', conf(2))
const socketOf = (c: string) => /socket: (\S+)/.exec(readFileSync(c, 'utf8'))?.[1] as string
let d1: Director
let d2: Director

// biome-ignore lint/suspicious/noExplicitAny: status JSON, asserted field by field
async function status(node: 'd1' | 'd2'): Promise<any> {
  const r = lvsctlIn(lab, node, socketOf(node === 'd1' ? d1conf : d2conf), ['status', '--json'])
  return JSON.parse(r.out)
}
const transitions = (d: Director, from: number) => d.lines.slice(from).filter((l) => l.vrrp && l.to && l.from)
const udpRcvbufErrors = (node: string): number => {
  const lines = lab
    .exec(node, 'cat', ['/proc/net/snmp'])
    .split('\n')
    .filter((l) => l.startsWith('Udp:'))
  const [names, values] = lines.map((l) => l.split(/\s+/))
  return Number(values?.[names?.indexOf('RcvbufErrors') ?? -1] ?? 0)
}

test.before(async () => {
  lab.addSwitch()
  lab.addNode({ name: 'd1', ipv4: `${NET}.1/24`, mac: MAC(1) })
  lab.addNode({ name: 'd2', ipv4: `${NET}.2/24`, mac: MAC(2) })
  lab.addNode({ name: 'x', ipv4: `${NET}.66/24`, mac: MAC(66) })
  d1 = new Director(lab, 'd1', d1conf)
  await d1.waitState('MASTER', 20_000)
  d2 = new Director(lab, 'd2', d2conf)
  await d2.waitSettled('BACKUP', 20_000)
  await waitFor(
    async () => (await status('d1')).peer.channel === 'up' && (await status('d2')).peer.channel === 'up',
    10_000,
  )
})
test.after.always(() => {
  lab.dispose()
  cfg.dispose()
})

test.serial('the channel is up both ways: the peer, its version, the master and a round trip; no drift', async (t) => {
  const s = await status('d2')
  t.like(s.peer, { channel: 'up', node: 'd1', version: s.version, drift: [] })
  t.true(s.peer.rttMs >= 0)
  t.like(s.peer.instances[0], { name: 'web', here: 'BACKUP', peer: 'MASTER', master: { node: 'd1', priority: 150 } })
  t.like(s.instances[0].lastAdvert, { from: `${NET}.1`, priority: 150, advertMs: 200 })
  t.deepEqual((await status('d1')).peer.drift, [])
  const text = lvsctlIn(lab, 'd2', socketOf(d2conf), ['status']).out
  t.regex(text, /^Peer +d1 10\.73\.0\.1:8849 channel up, lvsd /m)
  t.regex(text, /^Master +web: d1 \(10\.73\.0\.1\) priority 150, advert every 200 ms/m)
  t.regex(text, /^Drift +none$/m)
})

test.serial(
  'a wrong key, a replayed datagram and 10,000 random datagrams change nothing and are counted',
  async (t) => {
    // one genuine datagram from d1 to d2, captured on d2's side
    const cap = spawnSync(
      'ip',
      [
        'netns',
        'exec',
        lab.ns('d2'),
        'tcpdump',
        '-i',
        'eth0',
        '-c',
        '1',
        '-U',
        '-w',
        '-',
        `udp and src host ${NET}.1 and dst port ${PORT}`,
      ],
      { timeout: 15_000 },
    )
    const pcap = cap.stdout as Buffer
    const ihl = ((pcap[24 + 16 + 14] ?? 0) & 0x0f) * 4
    const genuine = pcap.subarray(24 + 16 + 14 + ihl + 8)
    t.true(genuine.length > 40, `captured ${pcap.length} bytes`)
    const forged = new PeerLink({
      node: 'd1',
      key: Buffer.from('not-the-key-0123456789abcdef'),
      boot: Date.now(),
      nonce: 1,
    }).seal(
      {
        version: 'x',
        ask: false,
        ops: { 'release:web@d2': { v: true, ver: Date.now() + 1e9, node: 'd1' } },
        health: {},
        fingerprints: {},
        instances: {},
        sync: 'none',
        conns: {},
      },
      Date.now(),
      0,
    )
    t.is(forged.readUInt8(4), TYPE_STATE)
    const before = (await status('d2')).peer
    const mark = d2.mark()
    const rcvErr0 = udpRcvbufErrors('d2')
    const sender = join(repoRoot, 'dist/test/netns/agents/peer-sender.js')
    const one = lab.node('x', sender, [
      `${NET}.2`,
      String(PORT),
      'hex',
      forged.toString('hex'),
      genuine.toString('hex'),
    ])
    t.is(one.status, 0, one.stderr)
    const many = lab.node('x', sender, [`${NET}.2`, String(PORT), 'random', '10000', '7'], 120_000)
    t.is(many.status, 0, many.stderr)
    const lost = udpRcvbufErrors('d2') - rcvErr0
    const total = (d: Record<string, number>) => Object.values(d).reduce((a, b) => a + b, 0)
    const after = await waitFor(
      async () => {
        const p = (await status('d2')).peer
        return total(p.drops) - total(before.drops) >= 10_002 - lost ? p : undefined
      },
      30_000,
      200,
    )
    t.log(`drops ${JSON.stringify(after.drops)}, lost in the socket buffer ${lost}`)
    t.is(total(after.drops) - total(before.drops), 10_002 - lost)
    t.is(after.drops.auth - before.drops.auth >= 1, true)
    t.is(after.drops.replay - before.drops.replay, 1)
    t.like(after, { channel: 'up', node: 'd1', drift: [] })
    t.deepEqual(after.operator, before.operator, 'the forged release was not acted on')
    const s2 = await status('d2')
    t.like(s2.instances[0], { state: 'BACKUP', released: false })
    t.deepEqual(transitions(d2, mark), [])
    // logged once per source and reason, not per datagram (the log is read as it arrives: wait for it)
    await d2.waitLine((l) => l.event === 'peer.drop' && l.reason === 'replay', 10_000, mark)
    await new Promise((r) => setTimeout(r, 500))
    const logged = d2.lines.slice(mark).filter((l) => l.event === 'peer.drop')
    t.true(logged.length >= 3 && logged.length <= 6, `${logged.length} drop lines`)
    t.true(logged.every((l) => l.source === `${NET}.66`))
  },
)

test.serial(
  'dropping the channel (nftables) causes no VRRP transition; a release while partitioned converges after the heal',
  async (t) => {
    const m1 = d1.mark()
    const m2 = d2.mark()
    const rules = `table inet lvsd_peer_test { chain in { type filter hook input priority 0; udp dport ${PORT} drop; }; chain out { type filter hook output priority 0; udp dport ${PORT} drop; }; }`
    // the absolute path: under npx, node_modules/.bin has an unrelated `nft` (node-file-trace)
    lab.exec('d2', NFT, ['-f', cfg.write('drop.nft', `${rules}\n`)])
    await waitFor(
      async () => (await status('d1')).peer.channel === 'down' && (await status('d2')).peer.channel === 'down',
      10_000,
      100,
    )
    await d1.waitLine((l) => l.event === 'peer.channel' && l.state === 'down', 5000, m1)
    // the channel is down, the adverts are not: d2 still names its master, from the wire
    const seen = (await status('d2')).peer.instances[0]
    t.like(seen, { here: 'BACKUP', master: { node: 'd1', address: `${NET}.1`, priority: 150, advertMs: 200 } })
    t.is(seen.peer, undefined, 'nothing from the channel')
    t.true(Date.now() - seen.master.lastHeard < 1000, `last advert ${Date.now() - seen.master.lastHeard} ms ago`)
    // two seconds more of partition: VRRP goes on untouched
    await new Promise((r) => setTimeout(r, 2000))
    t.deepEqual(transitions(d1, m1), [])
    t.deepEqual(transitions(d2, m2), [])
    t.is(d1.state(), 'MASTER')
    // an action on d2 while d1 cannot hear it
    t.is(lvsctlIn(lab, 'd2', socketOf(d2conf), ['release', 'web']).status, 0)
    t.is((await status('d1')).peer.operator['release:web@d2'], undefined)
    lab.exec('d2', NFT, ['delete', 'table', 'inet', 'lvsd_peer_test'])
    t.log('healed')
    const healed = await waitFor(
      async () => {
        const [a, b] = [await status('d1'), await status('d2')]
        return a.peer.channel === 'up' && JSON.stringify(a.peer.operator) === JSON.stringify(b.peer.operator)
          ? a
          : undefined
      },
      10_000,
      100,
    )
    t.like(healed.peer.operator['release:web@d2'], { v: true, node: 'd2' })
    t.deepEqual(transitions(d1, m1), [], 'd1 never moved')
    t.is(lvsctlIn(lab, 'd2', socketOf(d2conf), ['resume', 'web']).status, 0)
    await waitFor(async () => (await status('d1')).peer.operator['release:web@d2']?.v === false, 5000, 100)
    await d2.waitState('BACKUP', 10_000, m2)
  },
)

test.serial(
  'a config that differs raises the drift alarm naming the instance; reverting it clears the alarm',
  async (t) => {
    const m1 = d1.mark()
    writeFileSync(d2conf, conf(2, `${VIP}, ${NET}.101/24`))
    t.is(lvsctlIn(lab, 'd2', socketOf(d2conf), ['reload']).status, 0)
    const line = await d1.waitLine(
      (l) => l.event === 'peer.drift' && Array.isArray(l.differs) && l.differs.length > 0,
      10_000,
      m1,
    )
    t.deepEqual(line.differs, [{ key: 'instance:web', kind: 'differs' }])
    t.is(line.level, 40, 'a warning')
    t.deepEqual((await status('d1')).peer.drift, [{ key: 'instance:web', kind: 'differs' }])
    t.regex(lvsctlIn(lab, 'd1', socketOf(d1conf), ['status']).out, /^Drift +instance:web differs$/m)
    const m = lab.node('d1', join(repoRoot, 'dist/test/netns/agents/peer-metrics.js'), [])
    t.regex(m.stdout, /^lvsd_peer_config_drift 1$/m)
    t.regex(m.stdout, /^lvsd_peer_config_drift_key\{key="instance:web",kind="differs"\} 1$/m)
    // once per change: the periodic messages do not repeat the warning
    await new Promise((r) => setTimeout(r, 1000))
    t.is(d1.lines.slice(m1).filter((l) => l.event === 'peer.drift').length, 1)
    writeFileSync(d2conf, conf(2))
    t.is(lvsctlIn(lab, 'd2', socketOf(d2conf), ['reload']).status, 0)
    const clear = await d1.waitLine(
      (l) => l.event === 'peer.drift' && Array.isArray(l.differs) && l.differs.length === 0,
      10_000,
      m1,
    )
    t.is(clear.level, 30)
    t.regex(
      lab.node('d1', join(repoRoot, 'dist/test/netns/agents/peer-metrics.js'), []).stdout,
      /^lvsd_peer_config_drift 0$/m,
    )
  },
)
