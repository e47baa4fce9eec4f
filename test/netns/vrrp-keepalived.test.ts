// Interop with a real keepalived (Debian's 2.2.7) as the peer on the same bridge: VRRPv2 (1 s),
// VRRPv3 (100 ms) over IPv4 and VRRPv3 over IPv6. Each side accepts the other's adverts (keepalived
// logs nothing invalid, lvsd's drop counters stay 0) and mastership moves both ways, with either
// side preferred. VRRPv2 with PASS authentication both ways, and a wrong password counted as a drop.
import type { ChildProcess } from 'node:child_process'
import test from 'ava'
import { Lab, waitFor } from '../helpers/netns.js'
import { addrs, ConfigDir, Director, MAC, sleep, vrrpConfig } from './agents/vrrp-harness.js'

interface Case {
  title: string
  version: 2 | 3
  interval: string
  kaInterval: string
  family: 4 | 6
}

const CASES: Case[] = [
  { title: 'VRRPv2 IPv4, 1 s', version: 2, interval: '1s', kaInterval: '1', family: 4 },
  { title: 'VRRPv3 IPv4, 100 ms', version: 3, interval: '100ms', kaInterval: '0.1', family: 4 },
  { title: 'VRRPv3 IPv6, 100 ms', version: 3, interval: '100ms', kaInterval: '0.1', family: 6 },
]

/** keepalived in a namespace, its console log collected (-l -D, no syslog, no respawn). */
class Keepalived {
  readonly proc: ChildProcess
  log = ''
  constructor(lab: Lab, node: string, cfg: ConfigDir, conf: string, tag: string) {
    const pid = (n: string) => `${cfg.dir}/${tag}-${n}.pid`
    this.proc = lab.spawn(node, 'keepalived', [
      ...['-P', '-n', '-l', '-D', '-G', '-R', '-f', conf],
      ...['-p', pid('k'), '-r', pid('v'), '-c', pid('c'), '-b', pid('b')],
    ])
    for (const s of [this.proc.stdout, this.proc.stderr]) s?.on('data', (b: Buffer) => (this.log += b.toString()))
  }
  entered(state: 'MASTER' | 'BACKUP', after = 0): boolean {
    return this.log.slice(after).includes(`(web) Entering ${state} STATE`)
  }
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return
    const gone = new Promise((r) => this.proc.once('exit', r))
    this.proc.kill('SIGTERM')
    await gone
  }
}

/** A bridge with lvsd's node d1 and keepalived's node k2, and both configs at the given priorities. */
async function setup(
  c: Case,
  lab: Lab,
  cfg: ConfigDir,
  lvsdPrio: number,
  kaPrio: number,
  pass?: { lvsd: string; ka: string },
) {
  const v4 = c.family === 4
  const net = (h: number) => (v4 ? `10.74.0.${h}/24` : `fd00:74::${h}/64`)
  const VIP = v4 ? '10.74.0.100/24' : 'fd00:74::100/64'
  lab.addSwitch()
  lab.addNode({ name: 'd1', ...(v4 ? { ipv4: net(1) } : { ipv6: net(1) }), mac: MAC(1) })
  lab.addNode({ name: 'k2', ...(v4 ? { ipv4: net(2) } : { ipv6: net(2) }), mac: MAC(2) })
  if (!v4) await waitFor(() => ['d1', 'k2'].every((n) => addrs(lab, n).some((a) => a.startsWith('fe80:'))), 10_000)
  const kaConf = cfg.write(
    'keepalived.conf',
    `global_defs {\n  router_id k2\n}\nvrrp_instance web {\n  version ${c.version}\n  state BACKUP\n  interface eth0\n` +
      `  virtual_router_id 61\n  priority ${kaPrio}\n  advert_int ${c.kaInterval}\n  virtual_ipaddress {\n    ${VIP}\n  }\n` +
      (pass ? `  authentication {\n    auth_type PASS\n    auth_pass ${pass.ka}\n  }\n` : '') +
      '}\n',
  )
  const lvsdConf = cfg.write(
    'd1.yaml',
    vrrpConfig({
      node: 'd1',
      priority: lvsdPrio,
      vip: VIP,
      vrid: 61,
      version: c.version,
      interval: c.interval,
      ...(pass ? { extra: `      authentication: { type: pass, password: ${pass.lvsd} }\n` } : {}),
    }),
  )
  // v2 timers are ten times longer
  return { VIP, kaConf, lvsdConf, slow: c.version === 2 ? 10 : 1 }
}

/**
 * keepalived's lines about packets it rejected. "received lower priority (N) advert … discarding"
 * is not one: it is a preempting backup ignoring a parsed, valid advert (RFC 5798 §6.4.2).
 */
const complaints = (log: string) =>
  log
    .split('\n')
    .filter((l) => /invalid|bogus|mismatch|wrong|not present|error|discard/i.test(l))
    .filter((l) => !/received lower priority \(\d+\) advert from \S+ - discarding/.test(l))

for (const c of CASES) {
  test.serial(`keepalived interop, ${c.title}: lvsd as the higher-priority master, keepalived as backup`, async (t) => {
    const lab = new Lab('vk')
    const cfg = new ConfigDir()
    let ka: Keepalived | undefined
    try {
      const { VIP, kaConf, lvsdConf, slow } = await setup(c, lab, cfg, 150, 100)
      // lvsd (150) is master first; keepalived (100) starts, hears it, and stays BACKUP
      let d1 = new Director(lab, 'd1', lvsdConf)
      await d1.waitState('MASTER', 20_000 * slow)
      ka = new Keepalived(lab, 'k2', cfg, kaConf, 'a')
      await waitFor(() => ka?.entered('BACKUP'), 10_000)
      await sleep(1500 * slow)
      t.false(ka.entered('MASTER'), `keepalived accepted lvsd's adverts:\n${ka.log}`)
      t.true(addrs(lab, 'd1').includes(VIP))
      t.false(addrs(lab, 'k2').includes(VIP))

      // lvsd resigns with priority 0: keepalived takes over
      d1.kill('SIGTERM')
      t.is((await d1.exited).code, 0)
      await waitFor(() => ka?.entered('MASTER'), 10_000 * slow)
      await waitFor(() => addrs(lab, 'k2').includes(VIP), 5000)
      t.false(addrs(lab, 'd1').includes(VIP))
      const drops1 = d1.lines.find((l) => l.msg === 'counters')?.counters?.drops

      // lvsd returns: it hears keepalived as a lower-priority master and preempts
      const kaMark = ka.log.length
      d1 = new Director(lab, 'd1', lvsdConf)
      const m = await d1.waitState('MASTER', 20_000 * slow)
      t.is(m.why, 'preempt', 'lvsd took over by preemption, so it had heard the lower-priority master')
      await waitFor(() => ka?.entered('BACKUP', kaMark), 10_000 * slow)
      await waitFor(() => addrs(lab, 'd1').includes(VIP) && !addrs(lab, 'k2').includes(VIP), 5000)

      // keepalived resigns: lvsd, already master, answers its priority 0 and stays master
      await ka.stop()
      await sleep(500 * slow)
      t.is(d1.state(), 'MASTER')
      d1.kill('SIGTERM')
      t.is((await d1.exited).code, 0)
      const final = d1.lines.find((l) => l.msg === 'counters')?.counters
      t.deepEqual(drops1, {}, 'first run: no keepalived advert dropped')
      t.deepEqual(final?.drops, {}, 'second run: no keepalived advert dropped')
      t.true((final?.rx ?? 0) > 0, 'the second run received keepalived adverts')
      t.deepEqual(complaints(ka.log), [], 'keepalived logged no complaint about lvsd packets')
    } finally {
      await ka?.stop().catch(() => {})
      lab.dispose()
      cfg.dispose()
    }
  })

  test.serial(`keepalived interop, ${c.title}: keepalived as the higher-priority master, lvsd as backup`, async (t) => {
    const lab = new Lab('vk')
    const cfg = new ConfigDir()
    let ka: Keepalived | undefined
    try {
      const { VIP, kaConf, lvsdConf, slow } = await setup(c, lab, cfg, 100, 200)
      ka = new Keepalived(lab, 'k2', cfg, kaConf, 'a')
      await waitFor(() => ka?.entered('MASTER'), 10_000 * slow)
      const log1 = ka.log
      // lvsd joins as backup and stays there while keepalived advertises
      const d1 = new Director(lab, 'd1', lvsdConf)
      await d1.waitState('BACKUP', 20_000)
      await sleep(2000 * slow)
      t.is(d1.state(), 'BACKUP', 'lvsd took every keepalived advert as a live master')
      t.false(addrs(lab, 'd1').includes(VIP))

      // keepalived resigns (priority 0): lvsd takes over after the skew
      await ka.stop()
      const m = await d1.waitState('MASTER', 10_000 * slow)
      t.is(m.why, 'priority_zero')
      await waitFor(() => addrs(lab, 'd1').includes(VIP), 5000)

      // keepalived returns and preempts lvsd, so it took lvsd's adverts as a lower master's
      const mark = d1.mark()
      ka = new Keepalived(lab, 'k2', cfg, kaConf, 'b')
      const b = await d1.waitState('BACKUP', 20_000 * slow, mark)
      t.is(b.why, 'higher_priority')
      await waitFor(() => addrs(lab, 'k2').includes(VIP) && !addrs(lab, 'd1').includes(VIP), 5000)
      d1.kill('SIGTERM')
      t.is((await d1.exited).code, 0)
      const final = d1.lines.find((l) => l.msg === 'counters')?.counters
      t.deepEqual(final?.drops, {}, 'no keepalived advert dropped')
      t.true((final?.rx ?? 0) >= (c.version === 2 ? 2 : 20), `lvsd received keepalived's adverts: ${final?.rx}`)
      t.deepEqual(complaints(log1 + ka.log), [], 'keepalived logged no complaint about lvsd packets')
      t.log(`lvsd rx ${final?.rx}, tx ${final?.tx}`)
    } finally {
      await ka?.stop().catch(() => {})
      lab.dispose()
      cfg.dispose()
    }
  })
}

const V2: Case = CASES[0] as Case
// the password has no `!` or `#`: keepalived's config reader takes either as the start of a comment

test.serial(
  'keepalived interop, VRRPv2 PASS authentication: each side accepts the other’s password adverts',
  async (t) => {
    const lab = new Lab('vk')
    const cfg = new ConfigDir()
    let ka: Keepalived | undefined
    try {
      const { VIP, kaConf, lvsdConf } = await setup(V2, lab, cfg, 150, 100, { lvsd: 'Sekr3t-8', ka: 'Sekr3t-8' })
      // lvsd (150) is master; keepalived (100) stays BACKUP past its Master_Down (3.6 s): it took
      // lvsd's adverts, password included, as a live master's
      let d1 = new Director(lab, 'd1', lvsdConf)
      await d1.waitState('MASTER', 20_000)
      ka = new Keepalived(lab, 'k2', cfg, kaConf, 'a')
      await waitFor(() => ka?.entered('BACKUP'), 10_000)
      await sleep(5000)
      t.false(ka.entered('MASTER'), `keepalived accepted lvsd's PASS adverts:\n${ka.log}`)
      // lvsd resigns; keepalived takes over; lvsd returns and preempts, so it parsed keepalived's
      d1.kill('SIGTERM')
      t.is((await d1.exited).code, 0)
      await waitFor(() => ka?.entered('MASTER'), 10_000)
      d1 = new Director(lab, 'd1', lvsdConf)
      const m = await d1.waitState('MASTER', 20_000)
      t.is(m.why, 'preempt', 'lvsd heard keepalived as a lower-priority master')
      await waitFor(() => addrs(lab, 'd1').includes(VIP) && !addrs(lab, 'k2').includes(VIP), 10_000)
      d1.kill('SIGTERM')
      t.is((await d1.exited).code, 0)
      const final = d1.lines.find((l) => l.msg === 'counters')?.counters
      t.deepEqual(final?.drops, {}, 'no keepalived advert dropped')
      t.true((final?.rx ?? 0) > 0)
      t.deepEqual(complaints(ka.log), [], 'keepalived logged no complaint about lvsd packets')
    } finally {
      await ka?.stop().catch(() => {})
      lab.dispose()
      cfg.dispose()
    }
  },
)

test.serial('keepalived interop, VRRPv2 PASS with another password: lvsd drops every advert as auth', async (t) => {
  const lab = new Lab('vk')
  const cfg = new ConfigDir()
  let ka: Keepalived | undefined
  try {
    const { lvsdConf, kaConf } = await setup(V2, lab, cfg, 100, 200, { lvsd: 'other', ka: 'Sekr3t-8' })
    ka = new Keepalived(lab, 'k2', cfg, kaConf, 'a')
    await waitFor(() => ka?.entered('MASTER'), 10_000)
    const d1 = new Director(lab, 'd1', lvsdConf)
    // keepalived (200) is master, but none of its adverts passes lvsd's check: lvsd times out
    const m = await d1.waitState('MASTER', 20_000)
    t.is(m.why, 'master_down')
    const warn = await d1.waitLine((l) => l.msg === 'advert dropped', 5000)
    t.is(warn.reason, 'auth')
    d1.kill('SIGTERM')
    t.is((await d1.exited).code, 0)
    const final = d1.lines.find((l) => l.msg === 'counters')?.counters
    t.true((final?.drops.auth ?? 0) >= 3, `auth drops: ${JSON.stringify(final?.drops)}`)
    t.is(final?.rx, 0, 'no advert was accepted')
  } finally {
    await ka?.stop().catch(() => {})
    lab.dispose()
    cfg.dispose()
  }
})
