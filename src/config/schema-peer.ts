// The `peer:` section of lvsd.yaml: the authenticated channel between the two directors of a pair
// (docs/peer.md): where the peer is, the shared key, and where replicated operator state is kept.
import { addr, duration, int, str } from './dsl.js'
import { obj } from './dsl-struct.js'
import { name, SECOND } from './schema-vrrp.js'

const absPath = () => str(/^\/\S*$/, 'an absolute path')

export const peer = obj({
  address: addr({ unicast: true }).describe('the other director’s address (its unicast source address, typically)'),
  port: int(1, 65535).def(8849).describe('UDP port of the channel, the same on both directors'),
  source: addr({ unicast: true })
    .optional()
    .describe('local address the channel binds to (default: any address of this node)'),
  instance: name()
    .optional()
    .describe('the VRRP instance the channel runs beside (status; default: the only instance, if one)'),
  key_file: absPath().describe(
    'shared HMAC-SHA256 key (at least 16 bytes); owned by root or lvsd’s user, not readable by others',
  ),
  interval: duration(100, 60 * SECOND)
    .def(SECOND)
    .describe('full state is sent this often, and at once on every operator action'),
  dead_after: duration(300, 600 * SECOND)
    .def(3 * SECOND)
    .describe('the channel is down when nothing valid was heard from the peer for this long'),
  state_file: absPath()
    .def('/var/lib/lvsd/operator-state.json')
    .describe('where replicated operator state (drain, weight, release) survives a restart'),
  conns_after: duration(SECOND, 3_600 * SECOND)
    .def(30 * SECOND)
    .describe('alarm when the backup holds far fewer connections than the master for this long'),
  conns_ratio: int(1, 100)
    .def(50)
    .describe('“far fewer”: below this percentage of the master’s connections (services with 100 or more)'),
})
  .optional()
  .describe('the peer channel: operator state, health view and config fingerprints shared with the other director')
