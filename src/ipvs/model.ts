// The IPVS table as lvsd reasons about it: services keyed by family+protocol+address+port or fwmark, each
// with its settings and destinations in insertion order, plus the canonical order both directors share.
import { LvsdError } from '../errors.js'
import { type Addr, compareAddr, formatAddr } from '../net/addr.js'
import { PROTO } from './attrs.js'
import { type Destination, familyOfKey, isFwmarkKey, type Service, type ServiceKey } from './domain.js'

/** One service and its destinations, oldest first (the order they were, or are to be, added). */
export interface ServiceState {
  readonly service: Service
  readonly dests: readonly Destination[]
}

/**
 * Schedulers whose lookup table is built by walking the destination list in order (Maglev `mh`,
 * and the 256-bucket tables of `sh` and `dh`): two directors agree only if they added the same
 * destinations in the same order.
 */
export const ORDER_SENSITIVE_SCHEDULERS: ReadonlySet<string> = new Set(['mh', 'sh', 'dh'])

// Ids are memoized per (immutable) key and destination object: diff and apply ask for them several times
// per op, and formatting addresses dominated a 37,298-destination pass (bench/ipvs-apply.ts).
const serviceIds = new WeakMap<ServiceKey, string>()
const destIds = new WeakMap<object, string>()

/**
 * formatAddr's text; IPv4 written directly: every destination of a re-read table is a new object whose id
 * is built once per pass, and formatAddr's general path was the largest single cost of a drift pass.
 */
function addrText(a: Addr): string {
  const b = a.bytes
  return a.family === 4 && b.length === 4 ? `${b[0]}.${b[1]}.${b[2]}.${b[3]}` : formatAddr(a)
}

/** A stable string for a service key: 'tcp/10.0.0.3/80', 'fwmark/4/7'. Used for maps and ownership sets. */
export function serviceId(k: ServiceKey): string {
  let id = serviceIds.get(k)
  if (id === undefined) {
    id = isFwmarkKey(k) ? `fwmark/${k.family}/${k.fwmark}` : `${k.protocol}/${addrText(k.addr)}/${k.port}`
    serviceIds.set(k, id)
  }
  return id
}

export function destId(d: Pick<Destination, 'addr' | 'port'>): string {
  let id = destIds.get(d)
  if (id === undefined) {
    id = `${addrText(d.addr)}/${d.port}`
    destIds.set(d, id)
  }
  return id
}

/** Canonical destination order: address bytes (IPv4 before IPv6), then port. */
export function compareDests(a: Pick<Destination, 'addr' | 'port'>, b: Pick<Destination, 'addr' | 'port'>): number {
  return compareAddr(a.addr, b.addr) || a.port - b.port
}

/** Canonical service order: family, then fwmark services, then protocol number, address, port. */
export function compareServiceKeys(a: ServiceKey, b: ServiceKey): number {
  const fa = familyOfKey(a)
  const fb = familyOfKey(b)
  if (fa !== fb) return fa - fb
  if (isFwmarkKey(a) || isFwmarkKey(b)) {
    if (isFwmarkKey(a) && isFwmarkKey(b)) return a.fwmark - b.fwmark
    return isFwmarkKey(a) ? -1 : 1
  }
  return PROTO[a.protocol] - PROTO[b.protocol] || compareAddr(a.addr, b.addr) || a.port - b.port
}

/** Settings of a service that SET_SERVICE changes (the key aside). */
export function sameServiceSettings(a: Service, b: Service): boolean {
  return (
    a.scheduler === b.scheduler &&
    a.persistent === b.persistent &&
    a.timeout === b.timeout &&
    a.netmask === b.netmask &&
    a.onePacket === b.onePacket &&
    a.schedFlags === b.schedFlags &&
    (a.peName ?? '') === (b.peName ?? '')
  )
}

function tunnelOf(d: Destination) {
  return { type: 'ipip', port: 0, csum: false, remcsum: false, ...d.tunnel }
}

/** Settings of a destination that SET_DEST changes; tunnel options count only for fwd 'tunnel'. */
export function sameDestSettings(a: Destination, b: Destination): boolean {
  if (a.fwd !== b.fwd || a.weight !== b.weight) return false
  if (a.upperThreshold !== b.upperThreshold || a.lowerThreshold !== b.lowerThreshold) return false
  if (a.fwd !== 'tunnel') return true
  const ta = tunnelOf(a)
  const tb = tunnelOf(b)
  return ta.type === tb.type && ta.port === tb.port && ta.csum === tb.csum && ta.remcsum === tb.remcsum
}

/** A service with the defaults ipvsadm uses: no persistence, full netmask, no flags. */
export function defaultService(key: ServiceKey, scheduler: string, over: Partial<Omit<Service, 'key'>> = {}): Service {
  const s: { -readonly [K in keyof Service]: Service[K] } = {
    key: (over as Partial<Service>).key ?? key,
    scheduler: over.scheduler ?? scheduler,
    persistent: over.persistent ?? false,
    timeout: over.timeout ?? 0,
    netmask: over.netmask ?? (familyOfKey(key) === 4 ? 32 : 128),
    onePacket: over.onePacket ?? false,
    schedFlags: over.schedFlags ?? 0,
  }
  if (over.peName !== undefined) s.peName = over.peName
  return s
}

/** ipvsadm -a's defaults: weight 1, no thresholds. */
export function defaultDest(
  addr: Destination['addr'],
  port: number,
  fwd: Destination['fwd'],
  over: Partial<Omit<Destination, 'addr' | 'port' | 'fwd'>> = {},
): Destination {
  // explicit fields, not a spread of `over`: spread objects are slow dictionary-mode objects in V8
  // callers may pass any field in `over` (it used to be spread last, so it wins)
  const o = over as Partial<Destination>
  const d: { -readonly [K in keyof Destination]: Destination[K] } = {
    addr: o.addr ?? addr,
    port: o.port ?? port,
    fwd: o.fwd ?? fwd,
    weight: over.weight ?? 1,
    upperThreshold: over.upperThreshold ?? 0,
    lowerThreshold: over.lowerThreshold ?? 0,
  }
  if (over.tunnel !== undefined) d.tunnel = over.tunnel
  return d
}

/**
 * Builds a desired table: checks that no service or destination appears twice and puts the
 * destinations of each service in canonical order (the order they will be added).
 */
export function desiredTable(services: readonly ServiceState[]): ServiceState[] {
  const seen = new Set<string>()
  const out: ServiceState[] = []
  for (const s of services) {
    const id = serviceId(s.service.key)
    if (seen.has(id)) throw invalid(`service ${id} appears twice`, { service: id })
    seen.add(id)
    const dids = new Set<string>()
    for (const d of s.dests) {
      const did = destId(d)
      if (dids.has(did)) throw invalid(`destination ${did} appears twice in service ${id}`, { service: id, dest: did })
      dids.add(did)
      const fam = familyOfKey(s.service.key)
      // mixed families are only valid for tunnels (Linux >= 3.18)
      if (d.addr.family !== fam && d.fwd !== 'tunnel') {
        throw invalid(`destination ${did} of service ${id} is IPv${d.addr.family}: only tunnels may mix families`, {
          service: id,
          dest: did,
        })
      }
    }
    out.push({ service: s.service, dests: [...s.dests].sort(compareDests) })
  }
  return out.sort((a, b) => compareServiceKeys(a.service.key, b.service.key))
}

function invalid(msg: string, details: Record<string, unknown>): LvsdError {
  return new LvsdError('LVSD_IPVS_TABLE_INVALID', msg, details)
}
