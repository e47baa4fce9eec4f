// The real-server plan: each wrong state is one finding with its fix, a right host has none, the
// record keeps the first previous value, and the config file reports problems at file:line:col.

import { join } from 'node:path'
import test from 'ava'
import { loadRealserverFile, loadRealserverText } from '../../src/config/realserver.js'
import { formatAddr, parseAddr } from '../../src/net/addr.js'
import {
  blockers,
  type Change,
  findings,
  type HostState,
  mergeRecord,
  type RealserverSpec,
  sysctlKeys,
  sysctlName,
  undoOrder,
} from '../../src/realserver/plan.js'
import { repoRoot } from '../helpers/paths.js'

const dr: RealserverSpec = { method: 'dr', vips: [parseAddr('10.0.0.3'), parseAddr('fd00::3')], interfaces: ['eth0'] }
const tun: RealserverSpec = { method: 'tun', vips: [parseAddr('10.0.0.3')], interfaces: ['eth0'] }

function host(spec: RealserverSpec, over: Partial<HostState> = {}, sysctl: Record<string, string> = {}): HostState {
  const want: Record<string, string> = {}
  for (const k of sysctlKeys(spec)) want[k] = k.endsWith('arp_ignore') ? '1' : k.endsWith('arp_announce') ? '2' : '0'
  return {
    sysctls: new Map(Object.entries({ ...want, ...sysctl })),
    links: [
      { name: 'lo', up: true },
      { name: 'eth0', up: true },
      { name: 'tunl0', up: true },
    ],
    addresses: spec.vips.map((v) => ({
      dev: spec.method === 'dr' ? 'lo' : 'tunl0',
      addr: v,
      prefixLen: v.family === 4 ? 32 : 128,
    })),
    ...over,
  }
}

test('a host set up for DR has no findings', (t) => {
  t.deepEqual(findings(dr, host(dr)), [])
})

test('a missing VIP is one finding whose fix and change add it on lo as a host address', (t) => {
  const h = host(dr, { addresses: [] })
  const f = findings(dr, h)
  t.deepEqual(
    f.map((x) => [x.kind, x.fix]),
    [
      ['vip-missing', 'ip addr add 10.0.0.3/32 dev lo'],
      ['vip-missing', 'ip addr add fd00::3/128 dev lo'],
    ],
  )
  t.deepEqual(f[0]?.change, { kind: 'address', dev: 'lo', address: '10.0.0.3', prefixLen: 32 })
})

test('a VIP on eth0 is reported as answering ARP and blocks up', (t) => {
  const h = host(dr)
  h.addresses.push({ dev: 'eth0', addr: parseAddr('10.0.0.3'), prefixLen: 24 })
  const f = findings(dr, h)
  t.deepEqual(
    f.map((x) => x.kind),
    ['vip-elsewhere'],
  )
  t.regex(f[0]?.problem ?? '', /answers ARP/)
  t.is(f[0]?.fix, 'ip addr del 10.0.0.3/24 dev eth0')
  t.is(blockers(f).length, 1)
})

test('arp_ignore 0 on eth0 is a sysctl finding with the sysctl command that fixes it', (t) => {
  const f = findings(dr, host(dr, {}, { 'net/ipv4/conf/eth0/arp_ignore': '0' }))
  t.deepEqual(
    f.map((x) => [x.kind, x.fix]),
    [['sysctl-wrong', 'sysctl -w net.ipv4.conf.eth0.arp_ignore=1']],
  )
  t.deepEqual(f[0]?.change, { kind: 'sysctl', key: 'net/ipv4/conf/eth0/arp_ignore', from: '0', to: '1' })
})

test('TUN needs rp_filter 0 on all and tunl0 and the tunnel device up; a missing one needs its module', (t) => {
  const f = findings(tun, host(tun, {}, { 'net/ipv4/conf/all/rp_filter': '2', 'net/ipv4/conf/tunl0/rp_filter': '1' }))
  t.deepEqual(
    f.map((x) => x.fix),
    ['sysctl -w net.ipv4.conf.all.rp_filter=0', 'sysctl -w net.ipv4.conf.tunl0.rp_filter=0'],
  )
  const noTunnel = findings(tun, host(tun, { links: [{ name: 'eth0', up: true }], addresses: [] }))
  t.deepEqual(
    noTunnel.map((x) => [x.kind, x.module]),
    [['tunnel-missing', 'ipip']],
  )
  const down = findings(
    tun,
    host(tun, {
      links: [
        { name: 'eth0', up: true },
        { name: 'tunl0', up: false },
      ],
    }),
  )
  t.deepEqual(down[0]?.change, { kind: 'link-up', dev: 'tunl0' })
})

test('IPv6-only DR needs no ARP sysctls', (t) => {
  t.deepEqual(sysctlKeys({ method: 'dr', vips: [parseAddr('fd00::3')], interfaces: ['eth0'] }), [])
})

test('a missing interface blocks up', (t) => {
  const f = findings(dr, host(dr, { links: [{ name: 'lo', up: true }] }))
  t.deepEqual(
    blockers(f).map((x) => x.kind),
    ['interface-missing'],
  )
})

test('the record keeps the value before the first up and is undone in reverse', (t) => {
  const first: Change[] = [{ kind: 'sysctl', key: 'net/ipv4/conf/all/arp_ignore', from: '0', to: '1' }]
  const again = mergeRecord(first, [{ kind: 'sysctl', key: 'net/ipv4/conf/all/arp_ignore', from: '1', to: '1' }])
  t.deepEqual(again, first)
  const addr: Change = { kind: 'address', dev: 'lo', address: '10.0.0.3', prefixLen: 32 }
  t.deepEqual(undoOrder(mergeRecord(first, [addr])), [addr, ...first])
})

test('sysctl names turn dots inside interface names into slashes', (t) => {
  t.is(sysctlName('net/ipv4/conf/eth0.100/arp_ignore'), 'net.ipv4.conf.eth0/100.arp_ignore')
})

test('the realserver config reports unknown keys, bad and repeated VIPs at file:line:col', (t) => {
  const r = loadRealserverText(
    'realserver:\n  method: dr\n  vips: [10.0.0.3, 10.0.0.3]\n  interfaces: [eth0]\n',
    'rs.yaml',
  )
  t.false(r.ok)
  if (!r.ok)
    t.deepEqual(
      r.errors.map((e) => `${e.line}:${e.col} ${e.path}`),
      ['3:20 realserver.vips[1]'],
    )
  const bad = loadRealserverText('realserver:\n  method: nat\n  vips: []\n  interfaces: [eth0]\n', 'rs.yaml')
  t.false(bad.ok)
  if (!bad.ok)
    t.deepEqual(
      bad.errors.map((e) => e.path),
      ['realserver.method', 'realserver.vips'],
    )
  const ok = loadRealserverText('realserver:\n  vips: [10.0.0.3]\n  interfaces: [eth0]\n', 'rs.yaml')
  t.true(ok.ok)
  if (ok.ok) t.is(ok.config.method, 'dr')
})

test('conf/realserver/realserver.yaml, shipped as /etc/lvsd/realserver.yaml, is a valid DR real server of the seed VIP', async (t) => {
  const r = await loadRealserverFile(join(repoRoot, 'conf', 'realserver', 'realserver.yaml'))
  if (!r.ok) return t.fail(r.errors.map((e) => e.message).join('\n'))
  t.is(r.config.method, 'dr')
  t.deepEqual(r.config.vips.map(formatAddr), ['10.0.0.3'])
})
