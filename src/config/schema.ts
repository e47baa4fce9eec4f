// The whole lvsd.yaml schema, declared once: the validator, the JSON Schema, the reference docs and
// the TypeScript types of the raw (pre-inheritance) config all derive from this value.
import { addr, bool, duration, enumOf, int, mode, prefix, seconds, str } from './dsl.js'
import { arr, obj } from './dsl-struct.js'
import { peer } from './schema-peer.js'
import { virtualService } from './schema-services.js'
import { ifname, name, SECOND, vrrp } from './schema-vrrp.js'

export const ipvs = obj({
  timeouts: obj({
    tcp: seconds(SECOND, 2_147_483 * SECOND)
      .optional()
      .describe('idle timeout of established TCP connections'),
    tcp_fin: seconds(SECOND, 2_147_483 * SECOND)
      .optional()
      .describe('timeout of TCP connections after FIN'),
    udp: seconds(SECOND, 2_147_483 * SECOND)
      .optional()
      .describe('UDP timeout'),
  })
    .orEmpty()
    .describe('connection timeouts (ipvsadm --set); absent = leave the kernel’s value (900s / 120s / 300s)'),
  sync: obj({
    interface: ifname().describe('interface of the kernel sync daemon'),
    sync_id: int(0, 255).optional().describe('sync id (default: the followed instance’s vrid, else 0)'),
    follow: name().optional().describe('VRRP instance: master daemon while MASTER, backup daemon otherwise'),
    group: addr({ multicast: true }).optional().describe('multicast group (default 224.0.0.81; Linux ≥ 4.3)'),
    port: int(1, 65535).def(8848).describe('UDP port (Linux ≥ 4.3)'),
    ttl: int(1, 255).def(1).describe('multicast TTL (Linux ≥ 4.3)'),
    maxlen: int(36, 65_507).optional().describe('max sync message payload (default: MTU − 28; Linux ≥ 4.3)'),
  })
    .optional()
    .describe('IPVS connection synchronisation between the directors'),
  drift: obj({
    interval: duration(0, 3_600 * SECOND)
      .def(5 * SECOND)
      .describe('how often lvsd re-reads the kernel’s table and repairs what changed behind its back; 0 = never'),
    max_cpu_percent: int(1, 100)
      .def(10)
      .describe(
        'largest share of one core the re-reads may take: after a pass of d the next waits at least d × (100 − p) / p, so a large table is read less often than interval',
      ),
  })
    .orEmpty()
    .describe('the periodic re-read of the IPVS table (drift repair)'),
  on_shutdown: enumOf(['keep', 'flush'] as const)
    .def('keep')
    .describe('what happens to lvsd’s IPVS services when lvsd stops')
    .differs(
      'services removed on stop',
      'a restart or upgrade must not drop traffic the kernel can keep forwarding; the VIP moves anyway',
    ),
})
  .orEmpty()
  .describe('kernel IPVS settings')

export const control = obj({
  socket: str(/^\/\S*$/, 'an absolute path')
    .def('/run/lvsd/lvsd.sock')
    .describe('unix socket of the control API'),
  mode: mode().def(0o660).describe('permissions of the socket'),
  group: name().optional().describe('group owning the socket'),
  read_only: obj({
    enabled: bool().def(true).describe('serve the read-only socket'),
    socket: str(/^\/\S*$/, 'an absolute path')
      .optional()
      .describe('its path (default: beside the admin socket, lvsd.sock → lvsd-ro.sock)'),
    mode: mode().def(0o666).describe('permissions of the read-only socket'),
    group: name().optional().describe('group owning the read-only socket'),
  })
    .orEmpty()
    .describe('a second socket serving status, events and doctor only; admin verbs answer 403'),
})
  .orEmpty()
  .describe('the control API (lvsctl)')

export const metrics = obj({
  enabled: bool().def(false).describe('serve Prometheus metrics over HTTP'),
  address: addr()
    .def({ family: 4, bytes: Uint8Array.of(127, 0, 0, 1) })
    .describe('listen address'),
  port: int(1, 65535).def(9478).describe('listen port'),
  allow: arr(prefix(true))
    .orEmpty()
    .describe(
      'clients allowed to scrape (addresses or networks); others are closed at accept and counted (lvsd_metrics_refused_connections_total); empty = any client that can reach the address',
    ),
})
  .orEmpty()
  .describe('Prometheus metrics endpoint')

export const programs = obj({
  user: name()
    .optional()
    .describe(
      'user that notify programs, track scripts, exec checks and quorum programs run as, unless they name their own (default when lvsd runs as root: lvsd if that user exists, else nobody)',
    )
    .differs(
      'scripts run as root unless script_user is set',
      'a notify program must not hold the director’s privileges',
    ),
})
  .orEmpty()
  .describe('the programs lvsd runs')

export const logging = obj({
  level: enumOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const)
    .def('info')
    .describe('log level'),
  format: enumOf(['json', 'pretty', 'journal', 'auto'] as const)
    .def('auto')
    .describe('auto: journal when stderr is the journal (JOURNAL_STREAM), pretty on a terminal, else JSON lines'),
})
  .orEmpty()
  .describe('logging')

export const configSchema = obj({
  node: name().describe('this director’s name (in logs, metrics and notify arguments)'),
  vrrp,
  virtual_services: arr(virtualService).entities().orEmpty().describe('IPVS virtual services'),
  ipvs,
  control,
  metrics,
  programs,
  logging,
  peer,
}).describe('lvsd configuration')
