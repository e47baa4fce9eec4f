// A backup's VRRP worker is not woken by each of its master's unchanged adverts (the kernel sets
// them aside, docs/vrrp-runtime.md), nor by another router's: over 5 s of a master at 100 ms and
// another pair's adverts, the worker thread runs far fewer times than adverts arrive, every advert
// is still counted, and the backup takes over at Master_Down_Interval after the master's last one.
// Master_Down itself is watched in C++ (native/silence.cc): the thread's CPU time over those 5 s
// stays at what its native wake-ups cost, far below what entering JavaScript at each one did.
// Needs root (namespaces, raw sockets).

import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { parseAddr } from '../../src/net/addr.js'
import { encode } from '../../src/vrrp/packet.js'
import { Lab } from '../helpers/netns.js'
import { runAgent } from './agents/addon-harness.js'
import { ConfigDir, Director, lvsctlIn, MAC, sleep, vrrpConfig } from './agents/vrrp-harness.js'

/**
 * The backup worker's CPU over the 5 s window. Measured alone (7 Dec 2026): 5.0–6.6 ms with
 * Master_Down read in C++, 16.7–16.8 ms on 83aa5c6 where JavaScript read the repeats at each one.
 * On a later machine (session 21) the same code measured 7.7–12.9 ms in 12 runs, with the master's
 * adverts from its pacer helper or from its worker alike: 11 failed 3 of them.
 */
const CPU_BOUND_MS = 14

const lab = new Lab('bw')
const cfg = new ConfigDir()
const VIP = '10.74.0.100'
const conf = (node: string, priority: number) =>
  cfg.write(
    `${node}.yaml`,
    vrrpConfig({ node, priority, vip: `${VIP}/24` }).replace(/socket: .*/, `socket: ${join(cfg.dir, `${node}.sock`)}`),
  )

test.before(() => {
  lab.addSwitch()
  lab.addNode({ name: 'd1', ipv4: '10.74.0.1/24', mac: MAC(1) })
  lab.addNode({ name: 'd2', ipv4: '10.74.0.2/24', mac: MAC(2) })
  lab.addNode({ name: 'x', ipv4: '10.74.0.66/24', mac: MAC(0x66) })
})
test.after.always(() => {
  lab.dispose()
  cfg.dispose()
})

/** The thread's schedstat: ns on a CPU, and times it was put on one. */
function schedstat(pid: number, tid: number): { cpuMs: number; runs: number } {
  const f = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')
  return { cpuMs: Number(f[0]) / 1e6, runs: Number(f[2]) }
}

function received(node: string): number {
  const r = lvsctlIn(lab, node, join(cfg.dir, `${node}.sock`), ['status', '--json'])
  if (r.status !== 0) throw new Error(`lvsctl status on ${node}: ${r.err}`)
  return JSON.parse(r.out).instances[0].counters.advertsReceived
}

test.serial(
  'the backup worker sleeps through unchanged adverts, counts them all, and takes over on time',
  async (t) => {
    const d1 = new Director(lab, 'd1', conf('d1', 150))
    await d1.waitSettled('MASTER', 20_000)
    const d2 = new Director(lab, 'd2', conf('d2', 100))
    await d2.waitSettled('BACKUP', 20_000)
    const tid = Number((await d2.waitLine((l) => String(l.msg).startsWith('VRRP worker runs'), 5000)).tid)
    const pid = d2.proc.pid as number
    t.true(tid > 0 && tid !== pid, `worker tid ${tid}`)
    await sleep(500)
    const rx0 = received('d2')
    const s0 = schedstat(pid, tid)
    const t0 = Date.now()
    // another pair's adverts (VRID 52), 20 a second for 5 s
    const other = encode(
      { version: 3, type: 1, vrid: 52, priority: 100, interval: 10, family: 4, addrs: [parseAddr('10.74.0.101')] },
      { src: parseAddr('10.74.0.66'), dst: parseAddr('224.0.0.18') },
    )
    runAgent(lab, 'x', 'vrrp-send', ['4', 'eth0', '10.74.0.66', '255', '100', other.toString('hex'), '50'])
    const s1 = schedstat(pid, tid)
    const ran = s1.runs - s0.runs
    const cpuMs = s1.cpuMs - s0.cpuMs
    const ms = Date.now() - t0
    const adverts = received('d2') - rx0
    t.log(
      `${ms} ms: ${adverts} adverts of the master counted, 100 of another VRID sent, the worker ran ${ran} times, ${cpuMs.toFixed(1)} ms of CPU`,
    )
    t.true(adverts >= (ms / 100) * 0.8, `${adverts} adverts counted in ${ms} ms`)
    // read at once, the master's adverts and the other pair's would be ~2 wake-ups per 100 ms
    t.true(ran < adverts / 2, `the worker ran ${ran} times for ${adverts} adverts and 100 others`)
    // ~14 Master_Down deadlines in 5 s: ~0.4 ms each in C++, ~1.2 ms each when JavaScript read
    // the repeats (CPU_BOUND_MS)
    t.true(cpuMs < CPU_BOUND_MS, `the worker spent ${cpuMs.toFixed(1)} ms of CPU in ${ms} ms`)
    t.false(
      d2.lines.some((l) => String(l.msg).startsWith('adverts not routed by the kernel')),
      'the routing and the silence timer stayed in place',
    )
    t.is(d2.state(), 'BACKUP')
    // the takeover still comes 3 × 100 ms + skew (60.9 ms) after the master's last advert
    const mark = d2.mark()
    d1.kill('SIGKILL')
    const killed = Date.now()
    await d2.waitState('MASTER', 5000, mark)
    const took = Date.now() - killed
    t.true(took < 361 + 300, `MASTER ${took} ms after the kill`)
    d2.kill('SIGTERM')
    await d2.exited
  },
)
