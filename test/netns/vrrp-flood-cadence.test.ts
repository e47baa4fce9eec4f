// A running `lvsd run` master (VRRP only) flooded at 50,000 packets a second by a stranger on the LAN
// (issue 14 item 4): half valid-looking adverts (a lower priority, another VRID, a bad checksum, v2 at a
// v3 instance), half random junk. Its own adverts, timestamped as they leave it, keep their 100 ms
// cadence within the jitter measured without the flood; RSS stays bounded; the drops are counted; no
// transition. The rate actually reached is printed (t.log) and recorded in docs/benchmarks.md.
import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import test from 'ava'
import { parseAddr } from '../../src/net/addr.js'
import { encode } from '../../src/vrrp/packet.js'
import { Lab, waitFor } from '../helpers/netns.js'
import { runAgent } from './agents/addon-harness.js'
import { ConfigDir, controlSocket, Director, fetchIn, MAC, sleep } from './agents/vrrp-harness.js'

const lab = new Lab('vf')
const cfg = new ConfigDir()
const PPS = 50_000
const FLOOD_MS = 5000
const INTERVAL_MS = 100
let d1: Director
let capture: ChildProcess
const stamps: number[] = []

const conf = `node: d1
${controlSocket(cfg, 'd1')}metrics: { enabled: true, address: 127.0.0.1, port: 9483 }
vrrp:
  version: 3
  advert_interval: ${INTERVAL_MS}ms
  instances:
    - name: web
      interface: eth0
      vrid: 70
      priority: 200
      vips: [10.80.0.100/24]
`

const rssMiB = () => (Number(readFileSync(`/proc/${d1.proc.pid}/statm`, 'utf8').split(' ')[1]) * 4096) / 2 ** 20

function drops(): Record<string, number> {
  const out: Record<string, number> = {}
  const text = fetchIn(lab, 'd1', 'http://127.0.0.1:9483/metrics')
  for (const m of text.matchAll(/^lvsd_vrrp_drops_total\{vrrp="[^"]*",reason="([a-z_]+)"\} (\d+)$/gm))
    out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2])
  return out
}

/** The largest gap (ms) between our adverts captured in [from, to) (wall-clock ms). */
function maxGap(from: number, to: number): { max: number; n: number } {
  const xs = stamps.filter((s) => s >= from && s < to)
  let max = 0
  for (let i = 1; i < xs.length; i++) max = Math.max(max, xs[i]! - xs[i - 1]!)
  return { max, n: xs.length }
}

test.before(async () => {
  lab.addSwitch()
  lab.addNode({ name: 'd1', ipv4: '10.80.0.1/24', mac: MAC(1) })
  lab.addNode({ name: 'p', ipv4: '10.80.0.2/24', mac: MAC(2) })
  lab.addNode({ name: 'x', ipv4: '10.80.0.66/24', mac: MAC(66) })
  d1 = new Director(lab, 'd1', cfg.write('d1.yaml', conf))
  await d1.waitSettled('MASTER', 20_000)
  // d1's adverts as they leave it onto the wire (egress capture on its interface, kernel timestamps). A
  // capture on a peer is not used: the flood reaches the peer too, and its veth backlog (1,000 packets
  // on this 2-core machine) drops what it cannot take, d1's adverts among them, which says nothing
  // about d1's cadence.
  capture = lab.spawn('d1', 'tcpdump', [
    '-i',
    'eth0',
    '-Q',
    'out',
    '-n',
    '-tt',
    '-l',
    '-B',
    '8192',
    'ip proto 112 and src host 10.80.0.1',
  ])
  let pending = ''
  let ready = false
  capture.stderr?.setEncoding('utf8').on('data', (d: string) => {
    if (d.includes('listening on')) ready = true
  })
  capture.stdout?.setEncoding('utf8').on('data', (d: string) => {
    pending += d
    for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) {
      const ts = Number.parseFloat(pending.slice(0, i))
      pending = pending.slice(i + 1)
      if (Number.isFinite(ts)) stamps.push(ts * 1000)
    }
  })
  await waitFor(() => ready || undefined, 10_000)
})
test.after.always(() => {
  capture?.kill('SIGKILL')
  d1?.kill('SIGKILL')
  lab.dispose()
  cfg.dispose()
})

test.serial(
  '50,000 pps of valid-looking and junk adverts: cadence within normal jitter, RSS bounded, drops counted',
  async (t) => {
    // baseline: the cadence without the flood, on this machine now
    const b0 = Date.now()
    await sleep(3000)
    const base = maxGap(b0, Date.now())
    t.true(base.n >= 20, `${base.n} adverts captured in the 3 s baseline`)
    const rss0 = rssMiB()
    const drops0 = drops()
    const marks = d1.mark()
    const src = parseAddr('10.80.0.66')
    const dst = parseAddr('224.0.0.18')
    const vip = [parseAddr('10.80.0.100')]
    const lower = encode(
      { version: 3, type: 1, vrid: 70, priority: 100, interval: 10, family: 4, addrs: vip },
      { src, dst },
    )
    const otherVrid = encode(
      { version: 3, type: 1, vrid: 71, priority: 250, interval: 10, family: 4, addrs: vip },
      { src, dst },
    )
    const badSum = Buffer.from(
      encode({ version: 3, type: 1, vrid: 70, priority: 250, interval: 10, family: 4, addrs: vip }, { src, dst }),
    )
    badSum[7] = (badSum[7] ?? 0) ^ 0xff
    const payloads = [lower, otherVrid, badSum].map((b) => Buffer.from(b).toString('hex')).join(',')
    const sentTotal = () =>
      Number(
        /^lvsd_vrrp_adverts_sent_total\{vrrp="web"\} (\d+)/m.exec(
          fetchIn(lab, 'd1', 'http://127.0.0.1:9483/metrics'),
        )?.[1],
      )
    const a0 = sentTotal()
    const f0 = Date.now()
    const [sent] = runAgent(lab, 'x', 'vrrp-flood-rate', [
      'eth0',
      '10.80.0.66',
      String(FLOOD_MS),
      String(PPS),
      payloads,
    ])
    const f1 = Date.now()
    const rate = Number(sent?.pps)
    t.log(`adverts sent during the flood (lvsd's count): ${sentTotal() - a0}; stamps ${stamps.length}`)
    // the capture's lines were queued while this process waited for the sender
    await waitFor(() => stamps.some((s) => s >= f1) || undefined, 10_000)
    const flood = maxGap(f0 + 200, f1)
    // the counters settle once the worker has read what its socket kept
    let last = -1
    const after = await waitFor(
      () => {
        const d = drops()
        const total = Object.values(d).reduce((a, b) => a + b, 0)
        if (total === last) return d
        last = total
        return undefined
      },
      20_000,
      500,
    )
    const rss1 = rssMiB()
    const counted = Object.fromEntries(Object.entries(after ?? {}).map(([k, v]) => [k, v - (drops0[k] ?? 0)]))
    t.log(
      `sent ${sent?.count} in ${sent?.ms} ms (${rate} pps); adverts: baseline max gap ${base.max.toFixed(1)} ms over ${base.n}, ` +
        `flood max gap ${flood.max.toFixed(1)} ms over ${flood.n}; RSS ${rss0.toFixed(1)} → ${rss1.toFixed(1)} MiB; drops ${JSON.stringify(counted)}`,
    )
    // the sender paces itself to PPS; on this shared 2-core machine it reaches 28,000-50,000 (t.log):
    // the floor says the harness made a flood, the figure itself is the sender's, not lvsd's
    t.true(rate >= 20_000, `the sender reached only ${rate} pps: not a flood`)
    // every 100 ms advert went out: about FLOOD_MS / INTERVAL_MS of them, none missing
    t.true(flood.n >= ((f1 - f0 - 200) / INTERVAL_MS) * 0.9, `${flood.n} adverts during the flood`)
    t.true(
      // one interval of slack over the quiet baseline: a backup declares the master down only after
      // 3 intervals plus skew, and the worst gap measured in 10 runs under a loaded host was 153 ms
      flood.max <= Math.max(base.max, INTERVAL_MS) + INTERVAL_MS,
      `max gap ${flood.max.toFixed(1)} ms under the flood, ${base.max.toFixed(1)} ms without`,
    )
    t.true(rss1 - rss0 < 32, `RSS grew ${(rss1 - rss0).toFixed(1)} MiB`)
    // the kernel sets another router's adverts aside (advert-filters.ts): those read are counted as
    // vrid, what their full queue dropped as queue_full (an upper bound, docs/vrrp-runtime.md)
    t.true((counted.vrid ?? 0) > 0, 'adverts of another VRID counted')
    t.true((counted.queue_full ?? 0) > 1000, 'what the full queues dropped counted')
    t.true((counted.checksum ?? 0) > 1000, 'bad checksums counted')
    const total = Object.values(counted).reduce((a, b) => a + b, 0)
    t.true(total > 10_000, `${total} drops counted`)
    t.is(d1.state(), 'MASTER')
    t.false(
      d1.lines.slice(marks).some((l) => l.vrrp === 'web' && l.to !== undefined),
      'no transition',
    )
  },
)
