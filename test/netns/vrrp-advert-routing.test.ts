// The kernel routing adverts between a VRRP channel's sockets (advert-filters.ts) with real sockets
// between two namespaces, IPv4 and IPv6: an exact repeat of the expected advert and another
// router's adverts never reach the polled socket; a changed advert, or one with a TTL / hop limit
// below 255, does; what was set aside is handed over when asked, and a full foreign queue's drops
// are counted. Needs root (namespaces, raw sockets).
import test from 'ava'
import { Lab } from '../helpers/netns.js'
import { runAgent } from './agents/addon-harness.js'

interface Result {
  gotFirst: boolean
  mainAfter: string[]
  repeatsOnly: string[]
  foreignLater: string[]
  maxAges: number[]
  overflow: { read: number; lost: number; main: number }
  afterForget: { main: string[]; aside: number }
}

for (const family of [4, 6] as const) {
  test(`IPv${family}: repeats and other routers' adverts go aside, changes reach the polled socket`, async (t) => {
    const lab = new Lab('rt')
    try {
      const [rx, tx] =
        family === 4
          ? [
              { name: 'rx', ipv4: '10.92.0.1/24' },
              { name: 'tx', ipv4: '10.92.0.2/24' },
            ]
          : [
              { name: 'rx', ipv6: 'fd00:92::1/64' },
              { name: 'tx', ipv6: 'fd00:92::2/64' },
            ]
      lab.addPair(rx, tx)
      if (family === 6) await lab.ipv6Ready(['rx', 'tx'])
      const [own, peer] = family === 4 ? ['10.92.0.1', '10.92.0.2'] : ['fd00:92::1', 'fd00:92::2']
      const events = runAgent(lab, 'rx', 'vrrp-routing', [String(family), lab.ns('tx'), peer, own])
      const r = events.find((e) => e.event === 'result') as unknown as Result
      t.log(JSON.stringify(r))
      t.true(r.gotFirst, 'the first advert reached the polled socket')
      // VRID/priority of what the polled socket read: the changed advert and the one at TTL 254
      t.deepEqual(r.mainAfter, ['51/201', '51/200'])
      t.deepEqual(r.repeatsOnly, ['51/200', '51/200', '51/200', '51/200', '51/200'])
      t.deepEqual(r.foreignLater, Array(7).fill('52/100'))
      t.true(
        r.maxAges.every((a) => a > 0 && a < 10_000),
        `ages ${r.maxAges}`,
      )
      t.is(r.overflow.main, 0, 'no foreign advert on the polled socket')
      t.true(r.overflow.lost > 0, 'the full queue dropped some, counted')
      // the veth may drop some of 3,000 before the socket sees them, never add any
      t.true(
        r.overflow.read + r.overflow.lost > 2000 && r.overflow.read + r.overflow.lost <= 3000,
        JSON.stringify(r.overflow),
      )
      t.deepEqual(r.afterForget, { main: ['51/200', '51/200'], aside: 0 })
    } finally {
      lab.dispose()
    }
  })
}
