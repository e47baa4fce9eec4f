// The `vrrp:` section of lvsd.yaml: global VRRP defaults, named track scripts, instances, sync groups.
import { addr, bool, duration, enumOf, int, prefix, str } from './dsl.js'
import { arr, either, obj } from './dsl-struct.js'

export const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/
export const name = () => str(NAME_RE, 'a name of letters, digits, _ . - (at most 64)')
export const ifname = () => str(/^[A-Za-z0-9_.:@-]{1,15}$/, 'an interface name (at most 15 characters)')
export const absPath = () => str(/^\/\S*$/, 'an absolute path')
/** A program and its arguments: no shell is involved, so no quoting surprises. */
export const argv = () =>
  arr(str(), 1).describe('program and arguments as a list; argv[0] is an absolute path to an executable')
export const SECOND = 1000

export const notify = () =>
  obj({
    master: argv().optional().describe('run on becoming MASTER'),
    backup: argv().optional().describe('run on becoming BACKUP'),
    fault: argv().optional().describe('run on entering FAULT'),
    stop: argv().optional().describe('run when the instance stops'),
    any: argv().optional().describe('run on every transition, with arguments: type, name, state, priority appended'),
  })
    .orEmpty()
    .describe('programs run on state changes')

const garpFields = {
  repeat: int(1, 100).def(5).describe('GARPs (IPv4) / unsolicited NAs (IPv6) per burst on becoming master'),
  delay: duration(0, 1000 * SECOND)
    .def(5 * SECOND)
    .describe('delay before the second burst (0 = no second burst)'),
  interval: duration(0, SECOND).def(0).describe('gap between the packets of one burst'),
  refresh: duration(0, 86_400 * SECOND)
    .def(0)
    .describe('period of refresh bursts while master (0 = off)'),
  refresh_repeat: int(1, 100).def(1).describe('packets per refresh burst'),
}

export const garpGlobal = obj(garpFields)
  .orEmpty()
  .describe('gratuitous ARP / unsolicited NA defaults for every instance')
export const garpInstance = obj({
  repeat: garpFields.repeat.optional(),
  delay: garpFields.delay.optional(),
  interval: garpFields.interval.optional(),
  refresh: garpFields.refresh.optional(),
  refresh_repeat: garpFields.refresh_repeat.optional(),
})
  .orEmpty()
  .describe('per-instance GARP/NA settings; each key defaults to vrrp.garp')

export const trackScript = obj({
  name: name().describe('referenced from instances’ track.scripts'),
  argv: argv(),
  interval: duration(10, 3_600 * SECOND)
    .def(SECOND)
    .describe('time between runs'),
  timeout: duration(10, 3_600 * SECOND)
    .optional()
    .describe('kill the program after this long (default: the interval)'),
  rise: int(1, 100).def(1).describe('successes in a row to become up'),
  fall: int(1, 100).def(1).describe('failures in a row to become down'),
  weight: int(-253, 253).def(0).describe('priority change while up (> 0) or down (< 0); 0 = FAULT while down'),
  user: name().optional().describe('run as this user (default: programs.user)'),
})

const vipFull = obj({
  address: prefix(false).describe('address/prefix-length, e.g. 10.0.0.3/24'),
  dev: ifname().optional().describe('interface to add the address to (default: the instance’s interface)'),
  label: str(/^[A-Za-z0-9_.:-]{1,15}$/, 'an address label (at most 15 characters)')
    .optional()
    .describe('IPv4 address label, e.g. eth0:0'),
})
export const vip = either(prefix(false), vipFull, (p) => ({ address: p, dev: undefined, label: undefined })).describe(
  'a virtual IP: `10.0.0.3/24`, or a mapping with address, dev, label',
)

const weighted = (what: ReturnType<typeof str>, doc: string, weightDoc: string) =>
  either(what, obj({ name: what, weight: int(-253, 253).optional().describe(weightDoc) }), (n) => ({
    name: n,
    weight: undefined,
  })).describe(doc)

export const instance = obj({
  name: name().describe('instance name, unique on this node; referenced by follow and sync groups'),
  interface: ifname().describe('interface adverts are sent on'),
  vrid: int(1, 255).describe('virtual router id, the same on all nodes of the pair'),
  priority: int(1, 255).def(100).describe('election priority; highest wins; 255 only with address_owner'),
  address_owner: bool()
    .def(false)
    .describe('the VIPs are this node’s own interface addresses (priority 255); lvsd checks it at start-up'),
  version: enumOf([2, 3] as const)
    .optional()
    .describe('VRRP version (default: vrrp.version); IPv6 needs 3'),
  advert_interval: duration(10, 255 * SECOND)
    .optional()
    .describe('advertisement interval (default: vrrp.advert_interval); v2: whole seconds, v3: 10ms..40.95s'),
  vips: arr(vip, 1).describe('virtual IPs carried in adverts; one address family per instance'),
  excluded_vips: arr(vip)
    .orEmpty()
    .describe('further addresses moved with mastership but not advertised; may mix families'),
  preempt: bool().def(true).describe('take over from a lower-priority master'),
  preempt_delay: duration(0, 1000 * SECOND)
    .def(0)
    .describe('wait this long after start-up before preempting'),
  preempt_on_quorum: bool()
    .def(false)
    .describe(
      'preempt only while every service that follows this instance has quorum here: a node back from a fault takes over once its own checks see live real servers, not into an empty table',
    ),
  initial_state: enumOf(['backup', 'master'] as const)
    .def('backup')
    .describe('state at start-up; master skips the wait only with priority 255'),
  accept: bool()
    .def(true)
    .describe(
      'accept traffic to the VIPs while master (IPVS needs it for the VIPs it serves); false: an nftables table lvsd_vrrp drops input to them (RFC 5798 Accept_Mode)',
    ),
  unicast: obj({
    source: addr({ unicast: true })
      .optional()
      .describe('source address of unicast adverts (default: the interface’s primary address)'),
    peers: arr(addr({ unicast: true }), 1).describe(
      'peers adverts are sent to; adverts from any other source are dropped',
    ),
    ttl: int(1, 255)
      .optional()
      .describe(
        'TTL / hop limit of unicast adverts (default: vrrp.unicast_ttl); below 255, adverts from the peers are accepted whatever their TTL (they may cross routers), so the peer list is the only source check',
      ),
    allow_from: arr(prefix(true))
      .orEmpty()
      .describe('further networks adverts are accepted from (e.g. a peer that may renumber); default: the peers only'),
  })
    .optional()
    .describe('send adverts to peers instead of the multicast group'),
  track: obj({
    interfaces: arr(
      weighted(
        ifname(),
        'interface name or {name, weight}',
        'priority change while down; absent or 0 = FAULT while down',
      ),
    )
      .orEmpty()
      .describe('interfaces whose link state matters'),
    scripts: arr(weighted(name(), 'script name or {name, weight}', 'overrides the script’s weight'))
      .orEmpty()
      .describe('names of vrrp.scripts entries'),
    files: arr(
      obj({
        path: absPath().describe('file holding an integer; it may not exist yet'),
        weight: int(-254, 254)
          .def(1)
          .describe('priority change = the integer in the file × weight; weight 0: a non-zero number means FAULT'),
      }),
    )
      .orEmpty()
      .describe('files whose content changes the priority'),
  })
    .orEmpty()
    .describe('tracked objects: their failure lowers the priority or causes FAULT'),
  authentication: obj({
    type: enumOf(['none', 'pass'] as const).describe(
      'none: auth type 0; pass: auth type 1, a clear-text password (RFC 3768 §5.3.6; keepalived’s auth_type PASS)',
    ),
    password: str()
      .optional()
      .describe('with type pass: 1 to 8 bytes, sent in clear in every advert (it stops accidents, not attackers)'),
  })
    .optional()
    .describe('VRRPv2 authentication, for peers that require it (VRRPv3 has none); absent = type 0'),
  notify: notify(),
  garp: garpInstance,
  accept_from: arr(prefix(true))
    .orEmpty()
    .describe(
      'only adverts from these addresses or networks take part in the election, in multicast mode too (others are dropped and counted as `peer`); empty = any source, as RFC 5798',
    ),
  strict_source: bool()
    .def(false)
    .describe(
      'drop adverts whose source is not on the interface: IPv4 outside its subnets, IPv6 not link-local (RFC 5798 §5.1.2.1); counted as `source`',
    ),
  lower_prio_answer_interval: duration(0, 3_600 * SECOND)
    .optional()
    .describe('at most one answer to lower-priority adverts per this long (default: vrrp.lower_prio_answer_interval)'),
  virtual_mac: bool()
    .def(false)
    .describe(
      'advertise from the VRRP virtual MAC 00:00:5e:00:01:VRID (IPv4, macvlan vrrp.VRID) or 00:00:5e:00:02:VRID (IPv6, vrrp6.VRID)',
    ),
})

export const syncGroup = obj({
  name: name().describe('group name'),
  members: arr(name(), 2).describe('instances that are MASTER together or BACKUP together'),
  notify: notify(),
})

export const vrrp = obj({
  version: enumOf([2, 3] as const)
    .def(2)
    .describe('default VRRP version of instances'),
  advert_interval: duration(10, 255 * SECOND)
    .def(SECOND)
    .describe('default advertisement interval of instances'),
  unicast_ttl: int(1, 255).def(255).describe('default TTL of unicast adverts'),
  lower_prio_answer_interval: duration(0, 3_600 * SECOND)
    .def(SECOND)
    .describe(
      'a master hearing a lower-priority advert answers with an advert and a GARP/NA burst (to heal a split brain) at most once per this long; 0 = every time (keepalived), which lets spoofed adverts be amplified',
    ),
  rt_priority: int(0, 99)
    .def(10)
    .describe('SCHED_RR priority of the VRRP worker thread (0 = normal scheduling)')
    .differs(
      'no real-time scheduling',
      'a stalled main loop must never delay an advert: SCHED_RR cut timer error from 110 ms to 1 ms',
    ),
  garp: garpGlobal,
  scripts: arr(trackScript).entities().orEmpty().describe('named track scripts'),
  instances: arr(instance).entities().orEmpty().describe('VRRP instances'),
  sync_groups: arr(syncGroup).entities().orEmpty().describe('sync groups'),
})
  .orEmpty()
  .describe('VRRP election of virtual IPs')
