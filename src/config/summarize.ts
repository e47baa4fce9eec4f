// A few human lines about a valid config, for `lvsd check`: the node, each VRRP instance, each service.
import { formatAddr, formatPrefix } from '../net/addr.js'
import { formatDuration } from './dsl.js'
import type { Check, Config, VirtualService, VrrpInstance } from './types.js'

function instanceLine(i: VrrpInstance): string {
  const vips = i.vips.map((v) => formatPrefix(v.address)).join(' ')
  const mode = i.unicast ? ` unicast to ${i.unicast.peers.map(formatAddr).join(' ')}` : ''
  return `vrrp ${i.name}: ${i.interface} vrid ${i.vrid} prio ${i.priority} v${i.version} ${formatDuration(i.advert_interval)}  ${vips}${mode}`
}

function checksText(checks: Check[]): string {
  if (checks.length === 0) return 'no checks'
  const kinds = checks.map((c) => `${c.type}/${formatDuration(c.interval)}`)
  return `${checks.length === 1 ? 'check' : 'checks'} ${kinds.join(' ')}`
}

export function serviceKeyText(s: VirtualService): string {
  if (s.fwmark !== undefined) return `FWM ${s.fwmark} ${s.family === 6 ? 'IPv6' : 'IPv4'}`
  const a = s.address!
  const host = a.family === 6 ? `[${formatAddr(a)}]` : formatAddr(a)
  return `${s.protocol.toUpperCase()} ${host}:${s.port}`
}

function serviceLine(s: VirtualService): string {
  const n = s.real_servers.length
  const servers = `${n} real server${n === 1 ? '' : 's'}`
  // per-server checks may differ from the service's: say so rather than pick one
  const same = s.real_servers.every((r) => r.checks === s.checks)
  const checks = same ? checksText(s.checks) : 'checks per server'
  const persist = s.persistence ? ` persistent ${formatDuration(s.persistence.timeout)}` : ''
  return `${serviceKeyText(s)} ${s.scheduler} ${s.forwarding}${persist}  ${servers}, ${checks}  (${s.name})`
}

export function summarize(c: Config): string {
  const lines = [`node ${c.node}`]
  for (const i of c.vrrp.instances) lines.push(instanceLine(i))
  for (const g of c.vrrp.sync_groups) lines.push(`sync group ${g.name}: ${g.members.join(' ')}`)
  for (const s of c.virtual_services) lines.push(serviceLine(s))
  const sync = c.ipvs.sync
  if (sync) {
    const role = sync.follow ? `following ${sync.follow}` : 'master and backup'
    lines.push(`ipvs sync daemon on ${sync.interface} id ${sync.sync_id} ${role}`)
  }
  return `${lines.join('\n')}\n`
}
