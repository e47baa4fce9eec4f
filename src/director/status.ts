// The director's Status (src/director/types.ts) from its records, the health reducer's states and the
// kernel counters last read; and the read of those counters (one GET_SERVICE and one GET_DEST dump per
// configured service, only when someone asks: a status call or a scrape).
import type { Config, VirtualService } from '../config/types.js'
import { isLvsdError } from '../errors.js'
import type { ServerState } from '../health/state.js'
import type { IpvsClient } from '../ipvs/client.js'
import type { Stats } from '../ipvs/domain.js'
import { serviceId } from '../ipvs/model.js'
import { sliceTimer, turn } from '../loop-turns.js'
import { formatAddr } from '../net/addr.js'
import type { Counters } from '../vrrp/messages.js'
import { realServerText, serverId, serverText } from './health-specs.js'
import { aliveWeight, serviceKey } from './ipvs-table.js'
import type { ServerBook } from './servers.js'
import type { ConfigInfo, InstanceStatus, KernelStats, ServerStatus, ServiceStatus, Status } from './types.js'
import type { InstanceRecord } from './vrrp-side.js'

type DestCounters = KernelStats & { activeConns: number; inactiveConns: number; persistentConns: number }

/** Per service id: its counters and its destinations' by address:port text. */
export type KernelCounters = Map<string, { service: KernelStats; dests: Map<string, DestCounters> }>

function stats(s: Stats | undefined): KernelStats {
  return {
    conns: Number(s?.conns ?? 0n),
    inPkts: Number(s?.inPkts ?? 0n),
    outPkts: Number(s?.outPkts ?? 0n),
    inBytes: Number(s?.inBytes ?? 0n),
    outBytes: Number(s?.outBytes ?? 0n),
  }
}

export async function readKernelCounters(
  ipvs: Pick<IpvsClient, 'getService' | 'listDests'>,
  c: Config,
): Promise<KernelCounters> {
  const out: KernelCounters = new Map()
  const due = sliceTimer()
  for (const s of c.virtual_services) {
    if (due()) await turn()
    const key = serviceKey(s)
    try {
      const svc = await ipvs.getService(key)
      const dests = new Map<string, DestCounters>()
      for (const d of await ipvs.listDests(key))
        dests.set(serverText(d.addr, d.port), {
          ...stats(d.stats),
          activeConns: d.activeConns,
          inactiveConns: d.inactiveConns,
          persistentConns: d.persistentConns,
        })
      out.set(serviceId(key), { service: stats(svc.stats), dests })
    } catch (e) {
      // a service not in the kernel (yet, or removed behind lvsd's back: ESRCH) simply has no counters
      if (!isLvsdError(e, 'LVSD_NL_KERNEL')) throw e
    }
  }
  return out
}

export interface StatusInputs {
  config: Config
  info: ConfigInfo
  version: string
  startedAt: number
  instances: ReadonlyMap<string, InstanceRecord>
  vrrpCounters: Record<string, Counters> | undefined
  book: ServerBook
  health: (id: string) => ServerState | undefined
  quorum: ReadonlyMap<string, boolean>
  kernel: KernelCounters | undefined
}

function flags(s: VirtualService): string[] {
  const out: string[] = []
  if (s.persistence) out.push('persistent')
  if (s.scheduler_flags.fallback) out.push('sh-fallback')
  if (s.scheduler_flags.port) out.push('sh-port')
  if (s.scheduler_flags.one_packet) out.push('ops')
  return out
}

function serviceStatus(s: VirtualService, x: StatusInputs): ServiceStatus {
  const key = serviceKey(s)
  const id = serviceId(key)
  const k = x.kernel?.get(id)
  const quorumUp = x.quorum.get(s.name) ?? true
  const sorryActive = !quorumUp && s.sorry_server !== undefined
  const now = s.real_servers.map((rs) => x.book.now(s, rs, x.health(serverId(s.name, rs))))
  const servers = s.real_servers.map((rs, i): ServerStatus => {
    const sid = serverId(s.name, rs)
    const rec = x.book.get(sid)
    const h = x.health(sid)
    const n = now[i] ?? { up: true, weight: rs.weight }
    const text = realServerText(rs)
    const kd = k?.dests.get(text)
    return {
      server: text,
      forwarding: rs.forwarding,
      health: x.book.healthOf(h),
      ...(rec?.healthSince === undefined ? {} : { healthSince: rec.healthSince }),
      ...(rec?.lastCheck === undefined ? {} : { lastCheck: rec.lastCheck }),
      weight: {
        configured: rs.weight,
        effective: sorryActive || !n.up ? 0 : n.weight,
        ...(rec?.operatorWeight === undefined ? {} : { operator: rec.operatorWeight }),
      },
      drained: rec?.drained ?? false,
      ...(kd ? { kernel: kd } : {}),
    }
  })
  const address =
    s.fwmark !== undefined
      ? `fwmark:${s.fwmark}`
      : serverText(s.address as NonNullable<VirtualService['address']>, s.port)
  return {
    name: s.name,
    key: id,
    ...(s.fwmark === undefined ? { protocol: s.protocol } : {}),
    address,
    scheduler: s.scheduler,
    flags: flags(s),
    ...(s.persistence ? { persistenceSec: Math.round(s.persistence.timeout / 1000) } : {}),
    forwarding: s.forwarding,
    ...(s.follow === undefined ? {} : { follow: s.follow }),
    quorum: { up: quorumUp, alive: aliveWeight(now), required: s.quorum },
    active: k !== undefined,
    ...(k ? { kernel: k.service } : {}),
    servers,
  }
}

function instanceStatus(i: Config['vrrp']['instances'][number], x: StatusInputs): InstanceStatus {
  const rec = x.instances.get(i.name)
  const c = x.vrrpCounters?.[i.name]
  const priority = i.address_owner ? 255 : i.priority
  return {
    name: i.name,
    interface: i.interface,
    vrid: i.vrid,
    version: i.version,
    state: rec?.state ?? 'INIT',
    priority,
    effectivePriority: rec?.released ? 0 : (rec?.priority ?? priority),
    released: rec?.released ?? false,
    vips: i.vips.map((v) => `${formatAddr(v.address.addr)}/${v.address.len}`),
    ...(rec?.lastTransition ? { lastTransition: rec.lastTransition } : {}),
    ...(c?.lastAdvert ? { lastAdvert: { ...c.lastAdvert } } : {}),
    ...(c
      ? {
          counters: {
            advertsSent: c.tx,
            advertsReceived: c.rx,
            drops: c.drops as Record<string, number>,
            lateAdverts: c.lateAdverts,
            transitions: c.transitions,
            lowerPrioAnswered: c.lowerPrioAnswered,
            lowerPrioSuppressed: c.lowerPrioSuppressed,
          },
        }
      : {}),
  }
}

export function statusOf(x: StatusInputs): Status {
  return {
    node: x.config.node,
    version: x.version,
    pid: process.pid,
    startedAt: x.startedAt,
    config: { ...x.info },
    instances: x.config.vrrp.instances.map((i) => instanceStatus(i, x)),
    services: x.config.virtual_services.map((s) => serviceStatus(s, x)),
  }
}
