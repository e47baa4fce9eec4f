// Semantic checks of `virtual_services:` and `ipvs:`: service keys and uniqueness, real-server
// families and ports per forwarding method, quorum, thresholds, scheduler flags, check settings.
import { accessSync, constants } from 'node:fs'
import { type Family, formatAddr, prefixContains } from '../net/addr.js'
import { checkArgv, checkUser, familyName } from './check-vrrp.js'
import { formatDuration } from './dsl.js'
import type { Check, RawConfig, RawRealServer, RawService, RawVrrp } from './types.js'
import { type Ctx, didYouMean, hasKey, isComplete, lineOf, reportOn, warnOn } from './walk.js'

function checkCheck(ctx: Ctx, c: Check): void {
  if (c.timeout > c.interval)
    reportOn(ctx, c, 'timeout', `must not exceed the interval (${formatDuration(c.interval)})`)
  if ((c.type === 'http' || c.type === 'https') && c.body_regex !== undefined && c.body_digest !== undefined) {
    reportOn(ctx, c, 'body_digest', 'use either body_regex or body_digest, not both')
  }
  if (c.type === 'https' && c.ca_file !== undefined) {
    if (!c.verify) reportOn(ctx, c, 'ca_file', 'has no effect with verify: false')
    try {
      accessSync(c.ca_file, constants.R_OK)
    } catch {
      reportOn(ctx, c, 'ca_file', `${c.ca_file} cannot be read`)
    }
  }
  if (c.type === 'udp' && c.payload !== undefined && c.payload_hex !== undefined) {
    reportOn(ctx, c, 'payload_hex', 'use either payload or payload_hex, not both')
  }
  if (c.type === 'exec') {
    checkArgv(ctx, c.argv)
    checkUser(ctx, c, c.user)
  }
}

/** Service family and key; undefined when the key itself is wrong (already reported). */
function serviceKey(ctx: Ctx, s: RawService): { key: string; family: Family } | undefined {
  if (s.fwmark !== undefined) {
    for (const k of ['address', 'port', 'protocol'] as const) {
      if (hasKey(s, k)) reportOn(ctx, s, k, 'a fwmark service has no address, port or protocol', 'key')
    }
    const family: Family = s.family === 'inet6' ? 6 : 4
    return { key: `fwmark/${family}/${s.fwmark}`, family }
  }
  if (hasKey(s, 'family')) reportOn(ctx, s, 'family', 'only a fwmark service takes family (an address has one)', 'key')
  if (s.address === undefined) {
    reportOn(ctx, s, undefined, 'needs address (with port and protocol) or fwmark')
    return undefined
  }
  if (s.port === undefined && s.persistence === undefined) {
    reportOn(ctx, s, 'port', 'required key missing (only a persistent service may omit it, meaning all ports)')
  } else if (s.port === 0 && s.persistence === undefined) {
    reportOn(ctx, s, 'port', 'must be 1..65535 (0, all ports, only with persistence)')
  }
  const family = s.address.family
  return { key: `${s.protocol}/${formatAddr(s.address)}/${s.port ?? 0}`, family }
}

function checkRealServer(ctx: Ctx, s: RawService, family: Family, r: RawRealServer): void {
  const fwd = r.forwarding ?? s.forwarding
  if (r.address.family !== family && fwd !== 'tun') {
    reportOn(
      ctx,
      r,
      'address',
      `${familyName(r.address.family)} real server in an ${familyName(family)} service (only forwarding: tun may mix families)`,
    )
  }
  const port = r.port ?? s.port ?? 0
  if (fwd === 'dr' && s.fwmark === undefined && r.port !== undefined && s.port !== undefined && port !== s.port) {
    reportOn(ctx, r, 'port', `must equal the service port ${s.port} with forwarding: dr (DR cannot rewrite ports)`)
  }
  if (r.tunnel !== undefined && fwd !== 'tun') reportOn(ctx, r, 'tunnel', 'only applies with forwarding: tun', 'key')
  if (r.upper_threshold > 0 && r.lower_threshold > r.upper_threshold) {
    reportOn(ctx, r, 'lower_threshold', `must not exceed upper_threshold (${r.upper_threshold})`)
  } else if (r.upper_threshold === 0 && r.lower_threshold > 0) {
    reportOn(ctx, r, 'lower_threshold', 'needs upper_threshold')
  }
  for (const c of r.checks ?? []) checkCheck(ctx, c)
}

function checkTunnel(ctx: Ctx, owner: { tunnel?: RawService['tunnel'] }): void {
  const t = owner.tunnel
  if (!t) return
  if (t.type === 'gue' && t.port === undefined)
    reportOn(ctx, t, 'port', 'required key missing (a GUE tunnel needs a port)')
  if (t.type !== 'gue' && t.port !== undefined)
    reportOn(ctx, t, 'port', `only applies to type: gue, not ${t.type}`, 'key')
}

function checkService(ctx: Ctx, vrrp: RawVrrp | undefined, s: RawService, family: Family): void {
  const sched = s.scheduler
  const flags = s.scheduler_flags
  for (const f of ['fallback', 'port'] as const) {
    if (flags[f] && sched !== 'sh' && sched !== 'mh')
      reportOn(ctx, flags, f, `only applies to schedulers sh and mh, not ${sched}`)
  }
  if (flags.one_packet && s.protocol !== 'udp') reportOn(ctx, flags, 'one_packet', 'only applies to udp services')
  if (sched === 'twos') warnOn(ctx, s, 'scheduler', 'twos needs a recent kernel (ip_vs_twos, not in Linux 6.1)')
  if (s.tunnel !== undefined && s.forwarding !== 'tun')
    reportOn(ctx, s, 'tunnel', 'only applies with forwarding: tun', 'key')
  checkTunnel(ctx, s)
  const p = s.persistence
  if (p) {
    if (p.prefix_length !== undefined && family === 4 && p.prefix_length > 32)
      reportOn(ctx, p, 'prefix_length', 'must be 1..32 for an IPv4 service')
    if (p.engine === 'sip' && s.protocol !== 'udp') reportOn(ctx, p, 'engine', 'sip persistence needs protocol: udp')
  }
  const total = s.real_servers.reduce((n, r) => n + r.weight, 0)
  if (hasKey(s, 'quorum') && isComplete(s.real_servers) && s.quorum > total) {
    reportOn(ctx, s, 'quorum', `${s.quorum} exceeds the total weight ${total} of the real servers`)
  }
  if (s.hysteresis >= s.quorum && s.hysteresis > 0) reportOn(ctx, s, 'hysteresis', `must be below quorum (${s.quorum})`)
  checkArgv(ctx, s.quorum_up)
  checkArgv(ctx, s.quorum_down)
  const ss = s.sorry_server
  if (ss && ss.address.family !== family && (ss.forwarding ?? s.forwarding) !== 'tun') {
    reportOn(ctx, ss, 'address', `must be ${familyName(family)} like the service (only forwarding: tun may mix)`)
  }
  if (s.follow !== undefined && vrrp && isComplete(vrrp.instances)) {
    const inst = vrrp.instances.find((i) => i.name === s.follow)
    const names = vrrp.instances.map((i) => i.name)
    if (!inst) reportOn(ctx, s, 'follow', `unknown VRRP instance '${s.follow}'${didYouMean(s.follow, names)}`)
    else if (!inst.accept) {
      // no accept mode drops packets to the VIPs before IPVS (LOCAL_IN) can schedule them
      reportOn(
        ctx,
        s,
        'follow',
        `instance '${inst.name}' has accept: false, so IPVS would never see traffic to its VIPs`,
      )
    } else if (
      s.address &&
      ![...inst.vips, ...inst.excluded_vips].some((v) =>
        prefixContains({ addr: v.address.addr, len: v.address.addr.bytes.length * 8 }, s.address!),
      )
    ) {
      warnOn(ctx, s, 'address', `${formatAddr(s.address)} is not a VIP of instance '${inst.name}'`)
    }
  }
  for (const c of s.checks) checkCheck(ctx, c)
  const seen = new Map<string, number>()
  s.real_servers.forEach((r, i) => {
    const k = `${formatAddr(r.address)}/${r.port ?? s.port ?? 0}`
    const first = seen.get(k)
    if (first !== undefined)
      reportOn(ctx, s.real_servers, i, `duplicate real server (first at ${lineOf(ctx, s.real_servers, first)})`)
    else seen.set(k, i)
    checkRealServer(ctx, s, family, r)
    checkTunnel(ctx, r)
  })
}

/** vrrp is undefined when that section is itself invalid: references into it are not checked. */
export function checkServices(ctx: Ctx, services: RawService[], vrrp: RawVrrp | undefined): void {
  const keys = new Map<string, RawService>()
  const names = new Map<string, RawService>()
  for (const s of services) {
    const dup = names.get(s.name)
    if (dup) reportOn(ctx, s, 'name', `duplicate service name (first at ${lineOf(ctx, dup, 'name')})`)
    else names.set(s.name, s)
    const k = serviceKey(ctx, s)
    if (!k) continue
    const other = keys.get(k.key)
    if (other)
      reportOn(
        ctx,
        s,
        s.fwmark !== undefined ? 'fwmark' : 'address',
        `same service as '${other.name}' (${lineOf(ctx, other)})`,
      )
    else keys.set(k.key, s)
    checkService(ctx, vrrp, s, k.family)
  }
}

export function checkIpvs(
  ctx: Ctx,
  ipvs: RawConfig['ipvs'],
  services: RawService[] | undefined,
  vrrp: RawVrrp | undefined,
): void {
  const sync = ipvs.sync
  const mixed = services?.find((s) => {
    const fam = s.address?.family ?? (s.family === 'inet6' ? 6 : 4)
    return s.real_servers.some((r) => r.address.family !== fam)
  })
  if (sync && mixed) {
    reportOn(
      ctx,
      ipvs,
      'sync',
      `the kernel sync daemon refuses to run with mixed-family real servers (service '${mixed.name}')`,
      'key',
    )
  }
  if (
    sync?.follow !== undefined &&
    vrrp &&
    isComplete(vrrp.instances) &&
    !vrrp.instances.some((i) => i.name === sync.follow)
  ) {
    const names = vrrp.instances.map((i) => i.name)
    reportOn(ctx, sync, 'follow', `unknown VRRP instance '${sync.follow}'${didYouMean(sync.follow, names)}`)
  }
}
