// The `virtual_services:` section of lvsd.yaml: IPVS services and their real servers.
import { addr, bool, duration, enumOf, int, seconds } from './dsl.js'
import { arr, obj } from './dsl-struct.js'
import { checks } from './schema-checks.js'
import { argv, name, SECOND } from './schema-vrrp.js'

export const SCHEDULERS = [
  'rr',
  'wrr',
  'lc',
  'wlc',
  'lblc',
  'lblcr',
  'dh',
  'sh',
  'sed',
  'nq',
  'fo',
  'ovf',
  'mh',
  'twos',
] as const

const forwarding = () => enumOf(['dr', 'nat', 'tun'] as const)

export const tunnel = obj({
  type: enumOf(['ipip', 'gue', 'gre'] as const)
    .def('ipip')
    .describe('encapsulation (gue: Linux ≥ 5.2, gre: ≥ 5.3)'),
  port: int(1, 65535).optional().describe('GUE destination port (required for gue)'),
  checksum: enumOf(['none', 'csum', 'remcsum'] as const)
    .def('none')
    .describe('tunnel checksum (Linux ≥ 5.3)'),
}).describe('tunnel settings for forwarding: tun')

export const realServer = obj({
  address: addr({ unicast: true }).describe('real server address'),
  port: int(0, 65535).optional().describe('real server port (default: the service’s port)'),
  weight: int(0, 65535).def(1).describe('IPVS weight; 0 = no new connections'),
  forwarding: forwarding().optional().describe('overrides the service’s forwarding'),
  tunnel: tunnel.optional(),
  upper_threshold: int(0, 2_147_483_647).def(0).describe('max connections (0 = no limit)'),
  lower_threshold: int(0, 2_147_483_647)
    .def(0)
    .describe('connections below which a server over its upper threshold is used again'),
  checks: checks.optional().describe('replaces the service’s checks for this server'),
  initially_down: bool().def(false).describe('start as down until checks pass (keepalived alpha)'),
  slow_start: duration(0, 3_600 * SECOND)
    .optional()
    .describe('overrides the service’s slow_start'),
})

export const virtualService = obj({
  name: name().describe('service name, unique; used in logs, metrics and the API'),
  address: addr({ unicast: true }).optional().describe('virtual address (with port and protocol), or use fwmark'),
  port: int(0, 65535).optional().describe('virtual port; 0 only with persistence (all ports)'),
  protocol: enumOf(['tcp', 'udp', 'sctp'] as const)
    .def('tcp')
    .describe('transport protocol'),
  fwmark: int(1, 4_294_967_295).optional().describe('firewall mark instead of address/port/protocol'),
  family: enumOf(['inet', 'inet6'] as const)
    .optional()
    .describe('address family of a fwmark service (default inet)'),
  scheduler: enumOf(SCHEDULERS).def('wlc').describe('IPVS scheduler'),
  scheduler_flags: obj({
    fallback: bool().def(false).describe('sh/mh: pick another server when the hashed one is unavailable'),
    port: bool().def(false).describe('sh/mh: hash the source port too'),
    one_packet: bool().def(false).describe('UDP: schedule every datagram on its own (ops)'),
  })
    .orEmpty()
    .describe('scheduler flags'),
  forwarding: forwarding()
    .def('dr')
    .describe('dr (direct routing), nat (masquerading) or tun (tunnelling)')
    .differs('NAT', 'lvsd is built for LVS-DR pairs, and ipvsadm’s own default (-g) is DR'),
  tunnel: tunnel.optional(),
  persistence: obj({
    timeout: seconds(SECOND, 2_147_483 * SECOND)
      .def(360 * SECOND)
      .describe('persistence timeout'),
    prefix_length: int(1, 128).optional().describe('clients in one such network share a server (default 32 / 128)'),
    engine: enumOf(['sip'] as const)
      .optional()
      .describe('persistence engine'),
  })
    .optional()
    .describe('send a client to the same real server'),
  quorum: int(1, 2_147_483_647).def(1).describe('minimum total weight of live servers'),
  hysteresis: int(0, 2_147_483_647)
    .def(0)
    .describe('quorum is lost below quorum − hysteresis, regained at quorum + hysteresis'),
  quorum_up: argv().optional().describe('run when quorum is gained'),
  quorum_down: argv().optional().describe('run when quorum is lost'),
  sorry_server: obj({
    address: addr({ unicast: true }).describe('address of the sorry server'),
    port: int(0, 65535).optional().describe('port (default: the service’s)'),
    forwarding: forwarding().optional().describe('default: the service’s'),
  })
    .optional()
    .describe('replaces all real servers while quorum is lost'),
  inhibit_on_failure: bool().def(false).describe('set a failed server’s weight to 0 instead of removing it'),
  follow: name().optional().describe('VRRP instance whose VIP this is; checks run on both nodes regardless'),
  slow_start: duration(0, 3_600 * SECOND)
    .def(0)
    .describe('ramp a recovered server’s weight up over this time'),
  checks: checks.orEmpty().describe('health checks of every real server'),
  real_servers: arr(realServer).entities().orEmpty().describe('real servers'),
})
