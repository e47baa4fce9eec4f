// TypeScript types of the configuration: raw (as the schema parses it) and resolved (inherited
// settings filled in), derived from the schema so the two can never drift apart.
import type { Addr, Family, Prefix } from '../net/addr.js'
import type { Infer } from './dsl.js'
import type { configSchema } from './schema.js'

export type RawConfig = Infer<typeof configSchema>
export type RawVrrp = RawConfig['vrrp']
export type RawInstance = RawVrrp['instances'][number]
export type RawScript = RawVrrp['scripts'][number]
export type RawService = RawConfig['virtual_services'][number]
export type RawRealServer = RawService['real_servers'][number]

export type Garp = RawVrrp['garp']
export type Notify = RawInstance['notify']
export type Vip = RawInstance['vips'][number]
export type Check = RawService['checks'][number]
export type CheckType = Check['type']
export type Forwarding = RawService['forwarding']
export type TunnelConfig = NonNullable<RawService['tunnel']>

export type TrackScript = Omit<RawScript, 'timeout'> & { timeout: number }

export interface Unicast {
  source: Addr | undefined
  peers: Addr[]
  allow_from: Prefix[]
  ttl: number
}

export interface TrackedScript {
  name: string
  weight: number
}

export type VrrpInstance = Omit<
  RawInstance,
  'version' | 'advert_interval' | 'garp' | 'unicast' | 'track' | 'lower_prio_answer_interval'
> & {
  version: 2 | 3
  /** Milliseconds between two answers to lower-priority adverts (0 = no bound). */
  lower_prio_answer_interval: number
  /** Milliseconds; v2 whole seconds, v3 a multiple of 10 ms. */
  advert_interval: number
  family: Family
  garp: Garp
  unicast: Unicast | undefined
  track: Omit<RawInstance['track'], 'scripts'> & { scripts: TrackedScript[] }
}

export type Vrrp = Omit<RawVrrp, 'instances' | 'scripts'> & { instances: VrrpInstance[]; scripts: TrackScript[] }

export type RealServer = Omit<RawRealServer, 'port' | 'forwarding' | 'checks' | 'slow_start' | 'tunnel'> & {
  port: number
  forwarding: Forwarding
  tunnel: TunnelConfig | undefined
  checks: Check[]
  slow_start: number
}

export type VirtualService = Omit<RawService, 'real_servers' | 'port' | 'family'> & {
  /** 0 for a fwmark service or a persistent all-ports service. */
  port: number
  family: Family
  real_servers: RealServer[]
}

export type SyncConfig = Omit<NonNullable<RawConfig['ipvs']['sync']>, 'sync_id' | 'group'> & {
  sync_id: number
  group: Addr
}

export type Ipvs = Omit<RawConfig['ipvs'], 'sync'> & { sync: SyncConfig | undefined }

export type Config = Omit<RawConfig, 'vrrp' | 'virtual_services' | 'ipvs'> & {
  vrrp: Vrrp
  virtual_services: VirtualService[]
  ipvs: Ipvs
}

export interface ConfigIssue {
  /** The file name as given by the caller. */
  file: string
  line: number
  col: number
  /** Dotted path of the offending key, e.g. vrrp.instances[0].priority. */
  path: string
  message: string
}

export type LoadResult = { ok: true; config: Config; warnings: ConfigIssue[] } | { ok: false; errors: ConfigIssue[] }
