// ipvsadm -Sn / -Ln / --timeout text → virtual_services and ipvs.timeouts; the CLI's exit statuses;
// --pair's comparison of two directors' converted files.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { parse as parseYaml } from 'yaml'
import { loadConfigText } from '../../src/config/load.js'
import { importIpvsadm } from '../../src/import/ipvsadm.js'
import { comparePair } from '../../src/import/pair.js'
import { repoRoot } from '../helpers/paths.js'

const SEED =
  '-A -t 10.0.0.3:80 -s wrr\n-a -t 10.0.0.3:80 -r 10.0.0.7:80 -g -w 1\n-a -t 10.0.0.3:80 -r 10.0.0.8:80 -g -w 1\n'

function services(text: string) {
  const r = importIpvsadm(text, 'table')
  if (r.yaml === undefined) throw new Error(r.errors.join('\n'))
  const loaded = loadConfigText(r.yaml, 'out.yaml')
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.errors))
  return { r, doc: parseYaml(r.yaml) as Record<string, unknown>, config: loaded.config }
}

test('the seed’s hand-built table becomes one DR service with two weighted servers', (t) => {
  const { r, doc } = services(SEED)
  t.is(r.status, 0)
  t.deepEqual(doc.virtual_services, [
    {
      name: 'tcp-10.0.0.3-80',
      address: '10.0.0.3',
      port: 80,
      protocol: 'tcp',
      scheduler: 'wrr',
      forwarding: 'dr',
      real_servers: [
        { address: '10.0.0.7', port: 80, weight: 1 },
        { address: '10.0.0.8', port: 80, weight: 1 },
      ],
    },
  ])
})

test('-Sn: persistence, netmask, flags, ops, fwmark, IPv6, NAT/TUN, thresholds, tunnel options', (t) => {
  const { doc } = services(
    [
      '-A -t 10.0.0.3:443 -s wlc -p 600 -M 255.255.255.0',
      '-a -t 10.0.0.3:443 -r 10.0.0.7:8443 -m -w 5 -x 100 -y 50',
      '-a -t 10.0.0.3:443 -r 10.0.0.8:8443 -m -w 0',
      '-A -u 10.0.0.3:53 -s rr -o',
      '-a -u 10.0.0.3:53 -r 10.0.0.9:53 -g -w 1',
      '-A -f 7 -s mh -b mh-fallback,mh-port',
      '-a -f 7 -r 203.0.113.5:0 -i -w 2 --tun-type gue --tun-port 6080 --tun-csum',
      '-A -t [2001:db8::3]:80 -s sh -b sh-port',
      '-a -t [2001:db8::3]:80 -r [2001:db8::7]:80 -g -w 1',
    ].join('\n'),
  )
  const v = doc.virtual_services as Array<Record<string, unknown>>
  const rs = (i: number) => (v[i]?.real_servers ?? []) as unknown[]
  t.deepEqual(v[0]?.persistence, { timeout: '600s', prefix_length: 24 })
  t.is(v[0]?.forwarding, 'nat')
  t.deepEqual(rs(0)[0], {
    address: '10.0.0.7',
    port: 8443,
    weight: 5,
    upper_threshold: 100,
    lower_threshold: 50,
  })
  t.deepEqual(v[1]?.scheduler_flags, { one_packet: true })
  t.deepEqual(v[2]?.scheduler_flags, { fallback: true, port: true })
  t.deepEqual(rs(2)[0], {
    address: '203.0.113.5',
    weight: 2,
    tunnel: { type: 'gue', port: 6080, checksum: 'csum' },
  })
  t.is(v[3]?.address, '2001:db8::3')
})

test('-Ln text is read as a fallback, and the --timeout line becomes ipvs.timeouts', (t) => {
  const ln = [
    'IP Virtual Server version 1.2.1 (size=4096)',
    'Prot LocalAddress:Port Scheduler Flags',
    '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
    'TCP  10.0.0.3:80 wrr persistent 300 mask 255.255.255.0',
    '  -> 10.0.0.7:80                  Route   1      0          0',
    '  -> 10.0.0.8:80                  Route   2      4          12',
    'UDP  10.0.0.3:53 rr ops',
    '  -> 10.0.0.9:53                  Masq    1      0          0',
    'FWM  9 sh (sh-fallback,sh-port)',
    '  -> 10.0.0.10:0                  Tunnel  3      0          0',
    'Timeout (tcp tcpfin udp): 900 120 300',
  ].join('\n')
  const { doc, config } = services(ln)
  const v = doc.virtual_services as Array<Record<string, unknown>>
  const rs = (i: number) => (v[i]?.real_servers ?? []) as unknown[]
  t.is(v.length, 3)
  t.deepEqual(v[0]?.persistence, { timeout: '300s', prefix_length: 24 })
  t.deepEqual(rs(0)[1], { address: '10.0.0.8', port: 80, weight: 2 })
  t.is(v[1]?.forwarding, 'nat')
  t.is(v[2]?.forwarding, 'tun')
  t.deepEqual(config.ipvs.timeouts, { tcp: 900_000, tcp_fin: 120_000, udp: 300_000 })
})

test('names instead of numbers (ipvsadm -S without -n) and garbage are errors with line:col', (t) => {
  const r = importIpvsadm('-A -t lb.example.com:http -s wrr\n', 'x')
  t.is(r.status, 2)
  t.regex(r.errors[0] ?? '', /^x:1:\d+: .*ipvsadm -Sn/)
  t.is(importIpvsadm('hello\n', 'x').status, 2)
  t.is(importIpvsadm('-a -t 10.0.0.3:80 -r 10.0.0.7:80 -g -w 1\n', 'x').status, 2, 'a server before its service')
  t.is(importIpvsadm('', 'x').status, 2)
})

test('a DR server on another port is imported on the service port, with a note', (t) => {
  const { r, doc } = services('-A -t 10.0.0.3:80 -s rr\n-a -t 10.0.0.3:80 -r 10.0.0.7:8080 -g -w 1\n')
  t.is(r.status, 1)
  t.is(r.notes.length, 1)
  const svc = (doc.virtual_services as Array<{ real_servers: Array<{ port: number }> }>)[0]
  t.is(svc?.real_servers[0]?.port, 80)
})

const lvsd = join(repoRoot, 'bin', 'lvsd.js')

test('CLI: exit 0 clean, 1 with notes, 2 refused, 64 bad usage; -o writes a file lvsd check accepts', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-import-'))
  try {
    const run = (args: string[], input?: string) => spawnSync('node', [lvsd, ...args], { input, encoding: 'utf8' })
    const corpus = join(repoRoot, 'test', 'import', 'keepalived')
    const out = join(dir, 'lb01.yaml')
    t.is(
      run(['import', 'keepalived', join(corpus, '01-seed-lb01', 'keepalived.conf'), '-i', 'lb01', '-o', out]).status,
      0,
    )
    t.is(spawnSync('node', [lvsd, 'check', out]).status, 0)
    const notes = run(['import', 'keepalived', join(corpus, '43-auth-ah', 'keepalived.conf')])
    t.is(notes.status, 1)
    t.regex(notes.stderr, /keepalived\.conf:7: auth_type AH: /)
    const bad = run(['import', 'keepalived', join(corpus, '62-nbsp', 'keepalived.conf')])
    t.is(bad.status, 2)
    t.regex(bad.stderr, /keepalived\.conf:4:13: no-break space/)
    t.is(bad.stdout, '')
    t.is(run(['import', 'ipvsadm', '-'], SEED).status, 0)
    t.is(run(['import']).status, 64)
    t.is(run(['import', 'keepalived']).status, 64)
  } finally {
    rmSync(dir, { recursive: true })
  }
})

test('--pair: the seed pair differs only where a pair should; a mismatched VRID and VIP are reported', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-pair-'))
  try {
    const corpus = join(repoRoot, 'test', 'import', 'keepalived')
    const a = join(corpus, '01-seed-lb01', 'keepalived.conf')
    const b = join(corpus, '02-seed-lb02', 'keepalived.conf')
    const ok = spawnSync('node', [lvsd, 'import', '--pair', a, b, '-o', dir], { encoding: 'utf8' })
    t.is(ok.status, 0, ok.stderr)
    t.regex(ok.stderr, /differ only where a pair should/)
    for (const n of ['lb01', 'lb02']) execFileSync('node', [lvsd, 'check', join(dir, `${n}.yaml`)])
    const broken = join(dir, 'broken.conf')
    writeFileSync(
      broken,
      readFileSync(b, 'utf8')
        .replace('virtual_router_id 51', 'virtual_router_id 52')
        .replace('10.0.0.3/24 dev', '10.0.0.4/24 dev'),
    )
    const bad = spawnSync('node', [lvsd, 'import', '--pair', a, broken, '-o', dir], { encoding: 'utf8' })
    t.is(bad.status, 1)
    t.regex(bad.stderr, /pair: vrrp\.instances\[VI_1\]\.vrid: 51 vs 52/)
    t.regex(bad.stderr, /pair: vrrp\.instances\[VI_1\]\.vips/)
  } finally {
    rmSync(dir, { recursive: true })
  }
})

test('comparePair: unicast sources must be each other’s peers; equal priorities are reported', (t) => {
  const inst = (prio: number, src: string, peer: string) => ({
    node: `n${prio}`,
    vrrp: { instances: [{ name: 'v', priority: prio, unicast: { source: src, peers: [peer] } }] },
  })
  t.deepEqual(comparePair(inst(150, '10.0.0.1', '10.0.0.2'), inst(100, '10.0.0.2', '10.0.0.1')), [])
  const d = comparePair(inst(100, '10.0.0.1', '10.0.0.2'), inst(100, '10.0.0.3', '10.0.0.1'))
  t.true(d.some((x) => /priority: both 100/.test(x)))
  t.true(d.some((x) => /source 10\.0\.0\.3 is not a peer of the first/.test(x)))
})
