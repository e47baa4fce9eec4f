// Takeover and client outage, lvsd and keepalived side by side (root): in one lab (bridge, d1 150,
// d2 100, client c), trials alternate between a pair of `lvsd run` and a pair of keepalived 2.2.7
// with the same VRID, VIP, priorities and interval. Per trial the master is either crashed
// (lvsd: SIGKILL; keepalived: SIGSTOP then SIGKILL, as the reference models a crash) or SIGTERMed
// while the client opens a TCP connection to the VIP every 2 ms. Every time comes from the
// kernel's capture timestamps on the bridge ports (bench/agents/pcap.ts), not from logs:
// takeover = backup's first advert − master's last advert (its priority-0 advert for SIGTERM);
// outage = the longest gap between resets the client receives from the VIP.
// Usage: node dist/bench/vrrp-takeover.js [trials=7] [intervals=1000,100] [kinds=crash,term]
// An interval written `100v6` runs VRRPv3 over IPv6 (VIP fd00:91::100, NA instead of GARP; crash only).
// BENCH_KEEP=1 keeps the pcap files. BENCH_KA_RT=N gives keepalived `vrrp_rt_priority N` (lvsd's worker runs SCHED_RR 10 by default).
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseAddr } from '../src/net/addr.js'
import { waitFor } from '../test/helpers/netns.js'
import { ConfigDir, sleep } from '../test/netns/agents/vrrp-harness.js'
import { Capture, type Frame, ip6 } from './agents/pcap.js'
import { type Daemon, type Impl, Lvsd, load, startDaemon, summary, VrrpLab, type VrrpSpec } from './agents/vrrp-lab.js'

type Kind = 'crash' | 'term'
const trials = Number(process.argv[2] ?? 7)
/** One column of trials: the advert interval, and IPv6 or not (`100v6`). */
interface Cell {
  token: string
  intervalMs: number
  v6: boolean
}
const intervals: Cell[] = (process.argv[3] ?? '1000,100').split(',').map((token) => ({
  token,
  intervalMs: Number.parseInt(token, 10),
  v6: token.endsWith('v6'),
}))
const kinds = (process.argv[4] ?? 'crash,term').split(',') as Kind[]
const kaRt = process.env.BENCH_KA_RT ? Number(process.env.BENCH_KA_RT) : undefined
const client = fileURLToPath(new URL('./agents/vip-client.js', import.meta.url))

interface Result {
  /** backup's first advert after the master's last (crash) or priority-0 (term) advert, ms */
  takeover: number
  /** backup's first GARP for the VIP after the same reference, ms */
  garp: number
  /** capture time of the reference advert */
  ref?: number
  /** term: last answer from the old master → first from the new one, as the client saw it, ms */
  outage?: number
  /** term: longest gap between the client's SYNs in the same window (its own timer jitter), ms */
  synGap?: number
  /** term: the new master's first answer to the client after the priority-0 advert, ms */
  answered?: number
  /** lvsd only: the backup's worker logged MASTER (its `at`, wall clock) after the same reference, ms */
  fsm?: number
}

const vl = new VrrpLab()
const cfg = new ConfigDir()
const VIP = vl.vip.split('/')[0]!
const skew = (ms: number, prio: number) => ((256 - prio) * ms) / 256

function spec(c: Cell, priority: number): VrrpSpec {
  // VRRPv2 at 1 s (keepalived's default), v3 below a second (v2 cannot express 100 ms) and over IPv6
  const version = c.intervalMs >= 1000 && !c.v6 ? 2 : 3
  return { version, intervalMs: c.intervalMs, vrid: 51, vip: c.v6 ? vl.vip6 : vl.vip, priority }
}
const VIP6 = ip6(parseAddr(vl.vip6.split('/')[0] ?? '').bytes)

function maxGap(ts: number[]): number {
  let g = 0
  for (let i = 1; i < ts.length; i++) g = Math.max(g, ts[i]! - ts[i - 1]!)
  return g
}

function analyse(frames: Frame[], kind: Kind, v6: boolean): Result {
  const [p1, p2, pc] = [vl.port('d1'), vl.port('d2'), vl.port('c')]
  const [a1, a2, ac] = [vl.addr('d1'), vl.addr('d2'), vl.addr('c')]
  const sent = (port: number) => (f: Frame) => f.ifindex === port && !f.out
  // IPv6 adverts come from the link-local address: the bridge port says who sent them
  const from = (a: string) => (f: Frame) => v6 || f.ip?.src === a
  const first = frames.find((f) => sent(p2)(f) && f.vrrp && from(a2)(f))
  if (!first) throw new Error('no advert from the backup in the capture')
  const ref = frames
    .filter((f) => sent(p1)(f) && f.vrrp && from(a1)(f) && f.t < first.t)
    .filter((f) => (kind === 'term' ? f.vrrp?.prio === 0 : f.vrrp?.prio !== 0))
    .at(-1)
  if (!ref) throw new Error(`no ${kind === 'term' ? 'priority-0 ' : ''}advert from the master before the takeover`)
  const announced = (f: Frame) => (v6 ? f.na?.target === VIP6 : f.arp?.spa === VIP && f.arp.tpa === VIP)
  const garp = frames.find((f) => sent(p2)(f) && announced(f) && f.t > ref.t)
  const r: Result = { takeover: first.t - ref.t, garp: garp ? garp.t - ref.t : Number.NaN, ref: ref.t }
  if (kind === 'term') {
    // the client's outage: its last answer from the old master to its first from the new one
    const reset = (port: number) => (f: Frame) => sent(port)(f) && !!f.tcp?.rst && f.ip?.dst === ac
    const fromNew = frames.find((f) => reset(p2)(f) && f.t > ref.t)
    const fromOld = frames.filter((f) => reset(p1)(f) && f.t < (fromNew?.t ?? 0)).at(-1)
    if (!fromNew || !fromOld) throw new Error('the client was not answered by both directors')
    const syns = frames.filter(
      (f) => sent(pc)(f) && f.tcp?.syn && !f.tcp.ack && f.t >= fromOld.t - 5 && f.t <= fromNew.t,
    )
    r.outage = fromNew.t - fromOld.t
    r.synGap = maxGap(syns.map((f) => f.t))
    r.answered = fromNew.t - ref.t
  }
  return r
}

async function trial(impl: Impl, c: Cell, kind: Kind, n: number): Promise<Result> {
  const intervalMs = c.intervalMs
  await vl.reset(['d1', 'd2', 'c'])
  const slow = intervalMs / 100 // timeouts scale with the interval
  const master: Daemon = startDaemon(impl, vl.lab, 'd1', cfg, spec(c, 150), kaRt)
  await master.waitState('MASTER', 15_000 + 10 * intervalMs)
  const backup: Daemon = startDaemon(impl, vl.lab, 'd2', cfg, spec(c, 100), kaRt)
  await backup.waitState('BACKUP', 15_000)
  await sleep(500 + 2 * intervalMs) // the backup has heard the master for a while
  const probe =
    kind === 'term' ? vl.lab.spawn('c', 'nice', ['-n', '-10', process.execPath, client, VIP, '9', '2']) : undefined
  const cap = new Capture(
    vl.lab.ns('sw'),
    join(cfg.dir, `${impl}-${c.token}-${kind}-${n}.pcap`),
    c.v6 ? 'ip6 proto 112 or icmp6' : undefined,
  )
  await cap.ready()
  if (probe) {
    let out = ''
    probe.stdout?.on('data', (b: Buffer) => (out += b.toString()))
    await waitFor(() => out.includes('answered'), 15_000)
  }
  await sleep(1000 + Math.random() * intervalMs) // a random phase of the advert cycle
  let exited = Promise.resolve()
  if (kind === 'crash') master.crash()
  else exited = master.term()
  await backup.waitState('MASTER', 15_000 + 10 * intervalMs)
  const at = backup instanceof Lvsd ? (backup.d.lines.find((l) => l.to === 'MASTER')?.at as number) : undefined
  await sleep(700 + 3 * slow) // the client's resets from the new master, the GARPs
  probe?.kill('SIGTERM')
  const frames = await cap.stop()
  if (cap.dropped() > 0) console.log(`  (tcpdump: ${cap.dropped()} packets dropped by the kernel)`)
  await Promise.race([exited, sleep(10_000)])
  const r = analyse(frames, kind, c.v6)
  // when the state machine moved, against the capture: timer lateness vs the send path after it
  if (at !== undefined) r.fsm = at - (r.ref ?? 0)
  return r
}

const fmt = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(1))

try {
  console.log(`load average at start: ${load()}; keepalived vrrp_rt_priority: ${kaRt ?? 'default (none)'}`)
  const results = new Map<string, Result[]>()
  const loads: string[] = []
  const failures: string[] = []
  for (const c of intervals) {
    for (const kind of kinds) {
      if (c.v6 && kind === 'term') throw new Error(`${c.token}: IPv6 trials are crash only (the client is IPv4)`)
      for (let i = 0; i < trials; i++) {
        // alternate which implementation goes first, so a slow patch of machine load hits both
        const order: Impl[] = i % 2 ? ['keepalived', 'lvsd'] : ['lvsd', 'keepalived']
        for (const impl of order) {
          let r: Result | undefined
          for (let attempt = 1; !r; attempt++) {
            try {
              r = await trial(impl, c, kind, i)
            } catch (e) {
              failures.push(`${c.token}/${kind}/${impl} #${i + 1}: ${(e as Error).message.split('\n')[0]}`)
              console.log(`  failed (attempt ${attempt}): ${failures.at(-1)}`)
              if (attempt >= 3) throw e
            }
          }
          const key = `${c.token}/${kind}/${impl}`
          results.set(key, [...(results.get(key) ?? []), r])
          console.log(
            `${key} #${i + 1}: takeover ${fmt(r.takeover)} ms, GARP ${fmt(r.garp)} ms` +
              (r.fsm !== undefined ? `, worker MASTER at ${fmt(r.fsm)} ms` : '') +
              (kind === 'term' ? `, client outage ${fmt(r.outage)} ms (max SYN gap ${fmt(r.synGap)})` : '') +
              `  [load ${load()}]`,
          )
        }
      }
      loads.push(`${c.token} ms ${kind}: ${load()}`)
    }
  }
  await vl.reset(['d1', 'd2', 'c'])

  console.log(
    '\nTakeover after the master’s last advert (crash) / priority-0 advert (SIGTERM), ms, median (min–max):\n',
  )
  console.log(
    '| interval | event | RFC floor | lvsd advert | lvsd GARP | lvsd worker MASTER (log) | keepalived advert | keepalived GARP | lvsd − floor (median) | keepalived − floor (median) |',
  )
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |')
  for (const c of intervals) {
    const intervalMs = c.intervalMs
    for (const kind of kinds) {
      const floor = (kind === 'crash' ? 3 * intervalMs : 0) + skew(intervalMs, 100)
      const l = results.get(`${c.token}/${kind}/lvsd`) ?? []
      const k = results.get(`${c.token}/${kind}/keepalived`) ?? []
      const s = (rs: Result[], f: (r: Result) => number) => summary(rs.map(f).filter((x) => !Number.isNaN(x))).text
      const v = spec(c, 100).version
      console.log(
        `| ${intervalMs} ms (v${v}${c.v6 ? ', IPv6' : ''}) | ${kind === 'crash' ? 'crash' : 'SIGTERM'} | ${floor.toFixed(1)} | ${s(l, (r) => r.takeover)} | ${s(l, (r) => r.garp)} | ${s(l, (r) => r.fsm ?? Number.NaN)} | ` +
          `${s(k, (r) => r.takeover)} | ${s(k, (r) => r.garp)} | ${(summary(l.map((r) => r.takeover)).med - floor).toFixed(1)} | ${(summary(k.map((r) => r.takeover)).med - floor).toFixed(1)} |`,
      )
    }
  }
  if (kinds.includes('term')) {
    console.log('\nClient outage on SIGTERM handover (TCP connect to the VIP every 2 ms; last answer from the old')
    console.log('master → first from the new), ms, median (min–max):\n')
    console.log(
      '| interval | skew (target: + 10) | lvsd outage | lvsd: answered after prio 0 | lvsd: client SYN gap | keepalived outage | keepalived: answered after prio 0 | keepalived: client SYN gap |',
    )
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- |')
    for (const { intervalMs, token } of intervals) {
      const l = results.get(`${token}/term/lvsd`) ?? []
      const k = results.get(`${token}/term/keepalived`) ?? []
      const s = (rs: Result[], f: (r: Result) => number | undefined) => summary(rs.map((r) => f(r) ?? 0)).text
      const sk = skew(intervalMs, 100)
      const cols = (rs: Result[]) =>
        `${s(rs, (r) => r.outage)} | ${s(rs, (r) => r.answered)} | ${s(rs, (r) => r.synGap)}`
      console.log(`| ${intervalMs} ms | ${sk.toFixed(1)} (${(sk + 10).toFixed(1)}) | ${cols(l)} | ${cols(k)} |`)
    }
  }
  console.log(`\nload average after each block: ${loads.join('; ')}`)
  console.log(`failed trials (repeated): ${failures.length ? failures.join('; ') : 'none'}`)
} finally {
  vl.dispose()
  if (process.env.BENCH_KEEP) console.log(`captures kept in ${cfg.dir}`)
  else cfg.dispose()
}
