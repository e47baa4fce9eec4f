// Netns agent: a real VRRP Channel on eth0 with the kernel routing adverts between its sockets
// (advert-filters.ts, advert-routing.ts), fed by vrrp-send.js run in the peer namespace. Prints one
// JSON line {event:'result', ...} with where each group of adverts landed.
// Usage: vrrp-routing.js <4|6> <peer-namespace> <peer-source> <own-source>
import { spawnSync } from 'node:child_process'
import { parseAddr } from '../../../src/net/addr.js'
import { DeadlineTimers } from '../../../src/sys/deadline-timer.js'
import { ifNameToIndex } from '../../../src/sys/iface.js'
import type { ReceivedDatagram } from '../../../src/sys/types.js'
import { encode } from '../../../src/vrrp/packet.js'
import { AdvertRouting } from '../../../src/vrrp/worker/advert-routing.js'
import { Channel, GROUP4, GROUP6 } from '../../../src/vrrp/worker/sockets.js'
import { agent } from './addon-harness.js'

const [fam = '4', peerNs = '', peerSrc = '', ownSrc = ''] = process.argv.slice(2)
const family = fam === '6' ? 6 : 4
const clock = new DeadlineTimers()
const pause = (ms: number) => new Promise<void>((r) => clock.set(r, ms))

function advert(vrid: number, priority: number): Buffer {
  const src = parseAddr(peerSrc)
  const vip = family === 4 ? parseAddr('10.92.0.100') : parseAddr('2001:db8::100')
  return encode(
    { version: 3, type: 1, vrid, priority, interval: 100, family, addrs: [vip] },
    { src, dst: family === 4 ? GROUP4 : GROUP6 },
  )
}

function send(payload: Buffer, count: number, ttl = 255): void {
  const r = spawnSync(
    'ip',
    [
      'netns',
      'exec',
      peerNs,
      process.execPath,
      agent('vrrp-send'),
      fam,
      'eth0',
      peerSrc,
      String(ttl),
      String(count),
      payload.toString('hex'),
    ],
    { encoding: 'utf8', timeout: 20_000 },
  )
  if (r.status !== 0) throw new Error(`vrrp-send: ${r.status} ${r.stderr}`)
}

const channel = new Channel({ family, ifname: 'eth0', ifindex: ifNameToIndex('eth0'), source: parseAddr(ownSrc) })
const main: ReceivedDatagram[] = []
channel.socket.onReceive((m) => main.push({ ...m, data: Buffer.from(m.data), from: Buffer.from(m.from) }))
const aside: { m: ReceivedDatagram; maxAgeMs: number }[] = []
let lost = 0
const routing = new AdvertRouting(family, channel, {
  now: () => clock.now(),
  deliver: (m, maxAgeMs) => aside.push({ m, maxAgeMs }),
  queueFull: (n) => {
    lost += n
  },
  failed: (err) => {
    throw err
  },
})

/** Waits (bounded) until `cond` holds, reading the main socket meanwhile. */
async function until(cond: () => boolean, ms = 3000): Promise<boolean> {
  const end = clock.now() + ms
  while (!cond()) {
    if (clock.now() > end) return false
    await pause(5)
  }
  return true
}

const vrrpOf = (m: ReceivedDatagram) => (family === 4 ? m.data.subarray(((m.data[0] ?? 0) & 0xf) * 4) : m.data)
const summary = (list: ReceivedDatagram[]) => list.map((m) => `${vrrpOf(m)[1]}/${vrrpOf(m)[2]}`)

routing.setVrids([51])
const A = advert(51, 200)
send(A, 1)
const gotFirst = await until(() => main.length === 1)
const first = main.shift()
if (first) routing.expect('web', first)
// five repeats, seven of another router, one changed, one of ours with TTL / hop limit 254
send(A, 5)
send(advert(52, 100), 7)
send(advert(51, 201), 1)
send(advert(51, 200), 1, 254)
await until(() => main.length >= 2)
await pause(200)
const mainAfter = summary(main.splice(0))
routing.catchUp()
const repeatsOnly = summary(aside.map((x) => x.m))
aside.length = 0
routing.catchUp(true)
const foreignLater = summary(aside.map((x) => x.m))
const maxAges = aside.map((x) => x.maxAgeMs)
aside.length = 0
// the foreign queue left unread overflows: what it dropped is counted, nothing reaches the main socket
send(advert(53, 100), 3000)
await pause(300)
routing.catchUp(true)
const overflow = { read: aside.length, lost, main: main.length }
aside.length = 0
// forgotten: the same advert is read at once again
routing.forget('web')
send(A, 2)
await until(() => main.length >= 2)
await pause(100)
const afterForget = { main: summary(main.splice(0)), aside: aside.length }
channel.close()
clock.close()
process.stdout.write(
  `${JSON.stringify({ event: 'result', gotFirst, mainAfter, repeatsOnly, foreignLater, maxAges, overflow, afterForget })}\n`,
)
