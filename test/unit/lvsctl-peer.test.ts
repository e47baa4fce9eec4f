// The peer section of `lvsctl status`: one line per fact (channel, master per instance, sync roles,
// connections side by side, health disagreements, drift), from a PeerStatus; pure.
import test from 'ava'
import type { PeerStatus } from '../../src/api/types.js'
import { formatPeer } from '../../src/cli/lvsctl-peer.js'

const NOW = 1_767_268_800_000
const base: PeerStatus = {
  address: '10.0.0.1',
  port: 8849,
  channel: 'up',
  node: 'lb01',
  version: '0.1.0',
  lastHeard: NOW - 300,
  rttMs: 1.25,
  sent: 10,
  received: 9,
  drops: { auth: 2, malformed: 0, replay: 1, stale: 0, reflected: 0, type: 0 },
  sendErrors: 0,
  drift: [],
  instances: [
    {
      name: 'web',
      here: 'BACKUP',
      peer: 'MASTER',
      master: { node: 'lb01', address: '10.0.0.1', priority: 150, advertMs: 1000, lastHeard: NOW - 300 },
    },
  ],
  sync: { here: 'backup', peer: 'master' },
  conns: [{ service: 'web', here: 3, peer: 400, lagging: true }],
  healthDisagree: [{ server: 'web/10.0.0.7:80', here: 'up', peer: 'down', reported: true }],
  operator: {},
}

test('the peer section names the peer, the master, the sync roles, connections, disagreements and drift', (t) => {
  t.deepEqual(formatPeer(base, NOW), [
    'Peer     lb01 10.0.0.1:8849 channel up, lvsd 0.1.0, rtt 1.25 ms, heard 0.3s ago; sent 10, received 9, dropped auth 2 replay 1',
    'Master   web: lb01 (10.0.0.1) priority 150, advert every 1000 ms, last advert 0.3s ago; here BACKUP, peer MASTER',
    'Sync     daemon here backup, peer master',
    'Conns    web: here 3, peer 400 (backup lagging: sync?)',
    'Health   web/10.0.0.7:80: up here, down on the peer',
    'Drift    none',
  ])
})

test('a peer never heard, and drift naming each key', (t) => {
  const p: PeerStatus = {
    ...base,
    channel: 'never',
    node: undefined,
    version: undefined,
    rttMs: undefined,
    lastHeard: undefined,
    drops: { auth: 0 },
    instances: [{ name: 'web', here: 'MASTER' }],
    sync: { here: 'master' },
    conns: [],
    healthDisagree: [],
    drift: [
      { key: 'service:web', kind: 'differs' },
      { key: 'sync', kind: 'only-here' },
    ],
  }
  const lines = formatPeer(p, NOW)
  t.is(lines[0], 'Peer     ? 10.0.0.1:8849 channel never; sent 10, received 9, dropped 0')
  t.is(lines[1], 'Master   web: none known; here MASTER, peer -')
  t.is(lines.at(-1), 'Drift    service:web differs, sync only here')
})
