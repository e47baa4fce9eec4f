// What a reload changes, as entity ids (instance:web, service:web, server:web/10.0.0.7:80): the
// reload's report and its config.reload event. The kernel and the VRRP worker get their own exact
// diffs (src/ipvs/diff.ts, VrrpRuntime.update); this is the view for people.
import type { Config, VirtualService } from '../config/types.js'
import { serverId } from './health-specs.js'

/** JSON of config values with addresses' bytes as hex, so equal settings give equal text. */
export function stableJson(x: unknown): string {
  return JSON.stringify(x, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v))
}

export interface Changes {
  added: string[]
  removed: string[]
  changed: string[]
}

function compare(out: Changes, before: Map<string, string>, after: Map<string, string>): void {
  for (const [id, v] of after) {
    const old = before.get(id)
    if (old === undefined) out.added.push(id)
    else if (old !== v) out.changed.push(id)
  }
  for (const id of before.keys()) if (!after.has(id)) out.removed.push(id)
}

function serviceOnly(s: VirtualService): unknown {
  const { real_servers: _servers, ...rest } = s
  return rest
}

function entities(c: Config): {
  instances: Map<string, string>
  services: Map<string, string>
  servers: Map<string, string>
} {
  const instances = new Map(c.vrrp.instances.map((i) => [`instance:${i.name}`, stableJson(i)]))
  const services = new Map(c.virtual_services.map((s) => [`service:${s.name}`, stableJson(serviceOnly(s))]))
  const servers = new Map<string, string>()
  for (const s of c.virtual_services)
    for (const rs of s.real_servers) servers.set(`server:${serverId(s.name, rs)}`, stableJson(rs))
  return { instances, services, servers }
}

export function configChanges(before: Config, after: Config): Changes {
  const out: Changes = { added: [], removed: [], changed: [] }
  const a = entities(before)
  const b = entities(after)
  compare(out, a.instances, b.instances)
  compare(out, a.services, b.services)
  compare(out, a.servers, b.servers)
  const globals = (c: Config) =>
    stableJson({ ipvs: c.ipvs, scripts: c.vrrp.scripts, groups: c.vrrp.sync_groups, garp: c.vrrp.garp })
  if (globals(before) !== globals(after)) out.changed.push('global')
  return out
}
