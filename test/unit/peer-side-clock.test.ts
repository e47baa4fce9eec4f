// The peer side's interval and liveness run on an injected clock: real datagrams over loopback
// (127.0.0.1 ↔ 127.0.0.2), virtual time for the interval and dead_after, so the channel going down
// after a silent peer is seen without waiting dead_after in real time.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { loadConfigText } from '../../src/config/load.js'
import type { Config } from '../../src/config/types.js'
import { PeerSide, type PeerSideHooks } from '../../src/director/peer-side.js'
import { EventBus } from '../../src/events.js'
import { createLogger } from '../../src/log.js'
import { loopbackPeer } from '../helpers/loopback-peer.js'
import { until } from '../helpers/until.js'
import { VirtualClock } from '../helpers/virtual-clock.js'

const PORT = 20_000 + Math.floor(Math.random() * 20_000)
const log = createLogger({ level: 'silent', format: 'json' })

function config(dir: string, n: 1 | 2): Config {
  const r = loadConfigText(
    `
node: lb0${n}
virtual_services: []
${loopbackPeer(dir, n, PORT, ['dead_after: 1s'])}`,
    `lb0${n}.yaml`,
  )
  if (!r.ok) throw new Error(JSON.stringify(r.errors))
  return r.config
}

function side(dir: string, n: 1 | 2) {
  const c = config(dir, n)
  const clock = new VirtualClock(1_000_000)
  const events = new EventBus()
  const channel: string[] = []
  events.subscribe('peer.channel', (e) => channel.push(String(e.data.state)))
  let refreshes = 0
  const hooks: PeerSideHooks = {
    events,
    apply: async () => {},
    snapshot: () => ({ health: {}, instances: {}, sync: 'none', conns: {} }),
    disagreeAfterMs: () => 1000,
    refresh: async () => {
      refreshes++
    },
  }
  const peer = new PeerSide(c.peer as NonNullable<Config['peer']>, c.node, 'test', log, hooks, c, clock)
  return { peer, clock, channel, refreshes: () => refreshes }
}

test('the interval ticks only as the injected clock moves; a silent peer is down after dead_after of virtual time', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-peer-clock-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'key'), 'unit-test-peer-key-0123456789\n', { mode: 0o600 })
  const a = side(dir, 1)
  const b = side(dir, 2)
  t.teardown(() => {
    a.peer.close()
    b.peer.close()
  })
  await a.peer.open()
  await b.peer.open()
  // each sends its state at open and answers an ask: both hear the other with no tick at all
  await until(() => a.channel.includes('up') && b.channel.includes('up'), 5000, 'both channels up')
  t.is(a.refreshes(), 0)
  t.deepEqual(a.clock.armed, [200])

  await a.clock.run(1000)
  t.is(a.refreshes(), 5, 'one tick per 200 ms interval of virtual time')
  t.deepEqual(a.clock.armed, [200], 're-armed after each tick')

  // a stops; b's ticks after dead_after (1 s) of silence see the peer gone
  a.peer.close()
  t.deepEqual(a.clock.armed, [], 'closing clears the timer')
  await b.clock.run(800)
  t.deepEqual(b.channel, ['up'], 'still up before dead_after')
  await b.clock.run(400)
  t.deepEqual(b.channel, ['up', 'down'])
})
