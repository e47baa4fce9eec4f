// The shipped examples validate; defaults, inheritance and summaries come out as documented; the
// loader's contract (file name as given, LvsdError only for unreadable files, disk checks).
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import test from 'ava'
import { formatIssue, loadConfigFile, loadConfigText, summarize } from '../../src/config/load.js'
import type { Config } from '../../src/config/types.js'
import { isLvsdError } from '../../src/errors.js'
import { formatAddr, formatPrefix } from '../../src/net/addr.js'

const conf = fileURLToPath(new URL('../../../conf/', import.meta.url))
const examples = readdirSync(conf).filter((f) => f.endsWith('.yaml'))

function load(text: string): Config {
  const r = loadConfigText(text, 'test.yaml')
  if (!r.ok) throw new Error(r.errors.map(formatIssue).join('\n'))
  return r.config
}

test('conf/ ships the five examples', (t) => {
  for (const f of ['lb01.yaml', 'lb02.yaml', 'nat-service.yaml', 'tun-service.yaml', 'ipv6-service.yaml']) {
    t.true(examples.includes(f), f)
  }
})

for (const f of examples) {
  test(`conf/${f} is accepted without warnings and points editors at the schema`, async (t) => {
    const r = await loadConfigFile(join(conf, f))
    if (!r.ok) return t.fail(r.errors.map(formatIssue).join('\n'))
    t.deepEqual(r.warnings.map(formatIssue), [])
    const { readFileSync } = await import('node:fs')
    t.is(readFileSync(join(conf, f), 'utf8').split('\n')[0], '# yaml-language-server: $schema=./lvsd.schema.json')
  })
}

test('lb01 and lb02 are the seed LVS-DR pair: same VRID and service, priorities 150 and 100', async (t) => {
  const [a, b] = await Promise.all([loadConfigFile(join(conf, 'lb01.yaml')), loadConfigFile(join(conf, 'lb02.yaml'))])
  if (!a.ok || !b.ok) return t.fail('an example did not load')
  const [i1, i2] = [a.config.vrrp.instances[0]!, b.config.vrrp.instances[0]!]
  t.deepEqual([i1.vrid, i2.vrid, i1.priority, i2.priority], [51, 51, 150, 100])
  t.is(formatPrefix(i1.vips[0]!.address), '10.0.0.3/24')
  const s = a.config.virtual_services[0]!
  t.deepEqual([s.scheduler, s.forwarding, s.protocol, s.port], ['wrr', 'dr', 'tcp', 80])
  t.deepEqual(
    s.real_servers.map((r) => `${formatAddr(r.address)}:${r.port}/${r.weight}`),
    ['10.0.0.7:80/1', '10.0.0.8:80/1'],
  )
  t.deepEqual(a.config.ipvs.timeouts, { tcp: 30_000, tcp_fin: 5_000, udp: 60_000 })
  t.is(a.config.ipvs.sync?.sync_id, 51)
  t.is(formatAddr(a.config.ipvs.sync!.group), '224.0.0.81')
})

test('defaults follow the documented table', (t) => {
  const c = load(
    'node: n\nvrrp:\n  instances: [{ name: i, interface: eth0, vrid: 1, vips: [10.0.0.1/24] }]\n' +
      'virtual_services: [{ name: s, address: 10.0.0.1, port: 80, checks: [{ type: tcp }], real_servers: [{ address: 10.0.0.7 }] }]\n',
  )
  const i = c.vrrp.instances[0]!
  const s = c.virtual_services[0]!
  const check = s.real_servers[0]!.checks[0]!
  const rows: Array<[string, unknown, unknown]> = [
    ['priority', i.priority, 100],
    ['version', i.version, 2],
    ['advert_interval', i.advert_interval, 1000],
    ['preempt', i.preempt, true],
    ['garp', i.garp, { repeat: 5, delay: 5000, interval: 0, refresh: 0, refresh_repeat: 1 }],
    ['unicast', i.unicast, undefined],
    ['scheduler', s.scheduler, 'wlc'],
    ['forwarding', s.forwarding, 'dr'],
    ['protocol', s.protocol, 'tcp'],
    ['rs weight', s.real_servers[0]!.weight, 1],
    ['rs port = service port', s.real_servers[0]!.port, 80],
    ['check interval/timeout/rise/fall', [check.interval, check.timeout, check.rise, check.fall], [2000, 1000, 2, 3]],
    ['control socket', c.control.socket, '/run/lvsd/lvsd.sock'],
    ['control mode', c.control.mode, 0o660],
    ['metrics off', c.metrics.enabled, false],
    ['on_shutdown', c.ipvs.on_shutdown, 'keep'],
    ['timeouts unset', c.ipvs.timeouts, { tcp: undefined, tcp_fin: undefined, udp: undefined }],
  ]
  for (const [what, got, want] of rows) t.deepEqual(got, want, what)
})

test('instances inherit vrrp-level version, interval, garp and unicast ttl; real servers inherit checks', (t) => {
  const c = load(`node: n
vrrp:
  version: 3
  advert_interval: 200ms
  unicast_ttl: 64
  garp: { repeat: 2, delay: 0s }
  scripts: [{ name: s1, argv: [/bin/sh], weight: -20, interval: 3s }]
  instances:
    - { name: i, interface: eth0, vrid: 1, vips: [10.0.0.1/24], garp: { repeat: 9 }, unicast: { peers: [10.0.0.2] }, track: { scripts: [s1] } }
virtual_services:
  - name: s
    address: 10.0.0.1
    port: 80
    slow_start: 10s
    checks: [{ type: http, expect_status: "200,301-302" }]
    real_servers: [{ address: 10.0.0.7 }, { address: 10.0.0.8, slow_start: 1s, checks: [{ type: icmp, interval: 5s }] }]
`)
  const i = c.vrrp.instances[0]!
  t.deepEqual([i.version, i.advert_interval, i.unicast?.ttl, i.garp.repeat, i.garp.delay], [3, 200, 64, 9, 0])
  t.deepEqual(i.track.scripts, [{ name: 's1', weight: -20 }])
  t.is(c.vrrp.scripts[0]!.timeout, 3000)
  const [r1, r2] = c.virtual_services[0]!.real_servers
  t.is(r1!.checks[0]!.type, 'http')
  const http = r1!.checks[0]!
  if (http.type === 'http')
    t.deepEqual(http.expect_status, [
      [200, 200],
      [301, 302],
    ])
  t.deepEqual(
    [r1!.slow_start, r2!.slow_start, r2!.checks[0]!.type, r2!.checks[0]!.interval],
    [10_000, 1000, 'icmp', 5000],
  )
})

test('summarize names the node, each instance and each service', async (t) => {
  const r = await loadConfigFile(join(conf, 'lb01.yaml'))
  if (!r.ok) return t.fail()
  const lines = summarize(r.config).trimEnd().split('\n')
  t.is(lines[0], 'node lb01')
  t.is(lines[1], 'vrrp web: eth0 vrid 51 prio 150 v2 1s  10.0.0.3/24')
  t.is(lines[2], 'TCP 10.0.0.3:80 wrr dr  2 real servers, check http/2s  (web)')
  t.is(lines[3], 'ipvs sync daemon on eth0 id 51 following web')
})

test('an unreadable file is the only thing that throws, as LVSD_CONFIG_UNREADABLE', async (t) => {
  const e = await t.throwsAsync(loadConfigFile('/nonexistent/lvsd.yaml'))
  t.true(isLvsdError(e, 'LVSD_CONFIG_UNREADABLE'))
  const r = await loadConfigFile(join(conf, '..', 'test', 'configs', 'bad', '09-duplicate-key.yaml'))
  t.false(r.ok)
  if (!r.ok) t.true(r.errors[0]!.file.endsWith('test/configs/bad/09-duplicate-key.yaml'), 'file name as given')
})

test('binary junk and odd YAML give issues, never exceptions', (t) => {
  for (const text of [
    '\u0000\u0001\u0002',
    '[',
    '{a: 1',
    'node: !!binary AAAA',
    '*x',
    '? [a]\n: 1',
    'node: &a lb\nlogging: *a',
  ]) {
    const r = loadConfigText(text, 'x.yaml')
    t.false(r.ok, JSON.stringify(text))
  }
})

test('argv[0] must exist, be a regular file and be executable when the file is checked', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-config-'))
  try {
    const exe = join(dir, 'check-ok')
    const noexec = join(dir, 'check-noexec')
    writeFileSync(exe, '#!/bin/sh\nexit 0\n')
    writeFileSync(noexec, '#!/bin/sh\nexit 0\n')
    chmodSync(exe, 0o755)
    chmodSync(noexec, 0o644)
    const cfg = (p: string) => `node: n\nvrrp:\n  scripts: [{ name: s, argv: ["${p}", --quiet] }]\n`
    t.true(loadConfigText(cfg(exe), 'x.yaml').ok)
    const bad = loadConfigText(cfg(noexec), 'x.yaml')
    t.deepEqual(bad.ok ? [] : bad.errors.map(formatIssue), [
      `x.yaml:3:31 vrrp.scripts[0].argv[0]: ${noexec} is not executable`,
    ])
    const gone = loadConfigText(cfg(join(dir, 'absent')), 'x.yaml')
    t.deepEqual(gone.ok ? [] : gone.errors.map((e) => e.message), [`${join(dir, 'absent')} does not exist`])
    const isDir = loadConfigText(cfg(dir), 'x.yaml')
    t.deepEqual(isDir.ok ? [] : isDir.errors.map((e) => e.message), [`${dir} is not a regular file`])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a mode is read from its source digits, so 0660 is octal, not decimal 660', (t) => {
  t.is(load('node: n\ncontrol: { mode: 0640 }\n').control.mode, 0o640)
  t.is(load("node: n\ncontrol: { mode: '0600' }\n").control.mode, 0o600)
})

test('warnings do not fail the load: a service address outside its followed instance', (t) => {
  const r = loadConfigText(
    'node: n\nvrrp:\n  instances: [{ name: i, interface: eth0, vrid: 1, vips: [10.0.0.1/24] }]\nvirtual_services: [{ name: s, address: 10.0.0.9, port: 80, follow: i, scheduler: twos }]\n',
    'w.yaml',
  )
  if (!r.ok) return t.fail(r.errors.map(formatIssue).join('\n'))
  t.deepEqual(r.warnings.map(formatIssue), [
    "w.yaml:4:40 virtual_services[0].address: 10.0.0.9 is not a VIP of instance 'i'",
    'w.yaml:4:82 virtual_services[0].scheduler: twos needs a recent kernel (ip_vs_twos, not in Linux 6.1)',
  ])
})
