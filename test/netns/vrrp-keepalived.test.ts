// Interop with a real keepalived (Debian's 2.2.7) as the peer on the same bridge: VRRPv2 (1 s),
// VRRPv3 (100 ms) over IPv4 and VRRPv3 over IPv6. Each side accepts the other's adverts (keepalived
// logs nothing invalid, lvsd's drop counters stay 0) and mastership moves both ways.
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

for (const c of CASES) {
  test.serial(
    `keepalived interop, ${c.title}: both accept each other's adverts and mastership moves both ways`,
    async (t) => {
      const lab = new Lab('vk')
      const cfg = new ConfigDir()
      let ka: Keepalived | undefined
      let d1: Director | undefined
      try {
        const v4 = c.family === 4
        const net = (h: number) => (v4 ? `10.74.0.${h}/24` : `fd00:74::${h}/64`)
        const VIP = v4 ? '10.74.0.100/24' : 'fd00:74::100/64'
        lab.addSwitch()
        lab.addNode({ name: 'd1', ...(v4 ? { ipv4: net(1) } : { ipv6: net(1) }), mac: MAC(1) })
        lab.addNode({ name: 'k2', ...(v4 ? { ipv4: net(2) } : { ipv6: net(2) }), mac: MAC(2) })
        if (!v4)
          await waitFor(() => ['d1', 'k2'].every((n) => addrs(lab, n).some((a) => a.startsWith('fe80:'))), 10_000)
        const kaConf = cfg.write(
          'keepalived.conf',
          `global_defs {\n  router_id k2\n}\nvrrp_instance web {\n  version ${c.version}\n  state BACKUP\n  interface eth0\n` +
            `  virtual_router_id 61\n  priority 100\n  advert_int ${c.kaInterval}\n  virtual_ipaddress {\n    ${VIP}\n  }\n}\n`,
        )
        const lvsdConf = cfg.write(
          'd1.yaml',
          vrrpConfig({ node: 'd1', priority: 150, vip: VIP, vrid: 61, version: c.version, interval: c.interval }),
        )
        const slow = c.version === 2 ? 10 : 1 // v2 timers are ten times longer
        // lvsd (150) is master first; keepalived (100) starts, hears it, and stays BACKUP
        d1 = new Director(lab, 'd1', lvsdConf)
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

        // lvsd returns: it accepts keepalived's adverts as BACKUP, then preempts
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
        const bad = ka.log.split('\n').filter((l) => /invalid|bogus|mismatch|wrong|not present|error|discard/i.test(l))
        t.deepEqual(bad, [], 'keepalived logged no complaint about lvsd packets')
        t.log(`keepalived log lines: ${ka.log.split('\n').length}; lvsd rx ${final?.rx}, tx ${final?.tx}`)
      } finally {
        await ka?.stop().catch(() => {})
        lab.dispose()
        cfg.dispose()
      }
    },
  )
}
