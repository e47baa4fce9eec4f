// keepalived's LVS blocks → lvsd's virtual_services: virtual_server (ip port, fwmark, group),
// virtual_server_group (addresses, ranges, CIDRs, fwmarks), sorry_server; real servers: kc-real-server.ts.
import { tryParseAddr } from '../net/addr.js'
import { type CheckEnv, type Timing, timingKeyword } from './kc-checks.js'
import { type Conv, lvsdName } from './kc-context.js'
import { method, realServer, VS_UNSUPPORTED } from './kc-real-server.js'
import type { Loc, Obj, Stmt, Word } from './kc-types.js'

const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos']

export interface VsGroup {
  /** Members in order: an address with an optional port, or a fwmark. */
  members: Array<{ address?: string; port?: number; fwmark?: number; family?: string; loc: Word }>
}

export function convertVsGroup(c: Conv, groups: Map<string, VsGroup>, s: Stmt): void {
  const name = s.args[0]
  if (!name || !s.block) return void c.err(s.key, 'virtual_server_group needs a name and a { block }')
  const g: VsGroup = { members: [] }
  for (const l of s.block) {
    if (l.key.text === 'fwmark') {
      const m = c.int(l.args[0], 1, 4294967295, 'fwmark')
      const fam = l.args[1]?.text
      if (m !== undefined) g.members.push({ fwmark: m, ...(fam ? { family: fam } : {}), loc: l.key })
      continue
    }
    const port = l.args[0] ? c.int(l.args[0], 0, 65535, 'port') : undefined
    for (const a of expandRange(c, l.key))
      g.members.push({ address: a, ...(port === undefined ? {} : { port }), loc: l.key })
  }
  groups.set(name.text, g)
}

/** "10.0.0.1-10", "10.0.0.250-10.0.1.10", "10.0.0.8/29" → the addresses (at most 1024). */
function expandRange(c: Conv, w: Word): string[] {
  const t = w.text
  const cidr = /^([\d.]+)\/(\d+)$/.exec(t)
  const dash = /^([\d.]+)-([\d.]+)$/.exec(t)
  const toN = (a: string) => a.split('.').reduce((n, o) => n * 256 + Number(o), 0)
  const fromN = (n: number) => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.')
  if (cidr && tryParseAddr(cidr[1] as string)) {
    const len = Number(cidr[2])
    const base = toN(cidr[1] as string) & (len === 0 ? 0 : ~0 << (32 - len))
    const n = 2 ** (32 - len)
    if (n > 1024) return c.err(w, `${t}: more than 1024 addresses`) ?? []
    return Array.from({ length: n }, (_, i) => fromN((base >>> 0) + i))
  }
  if (dash && tryParseAddr(dash[1] as string)) {
    const lo = toN(dash[1] as string)
    const end = dash[2] as string
    const hi = end.includes('.') ? toN(end) : (lo & ~255) + Number(end)
    if (hi < lo || hi - lo >= 1024) return c.err(w, `${t}: not a range of 1..1024 addresses`) ?? []
    return Array.from({ length: hi - lo + 1 }, (_, i) => fromN(lo + i))
  }
  const a = c.addr(w, 'virtual_server_group address')
  return a ? [a] : []
}

interface Ctx {
  env: CheckEnv
  groups: Map<string, VsGroup>
  vipsOf: Map<string, string[]>
  names: Set<string>
  /** Service identity (protocol, address, port or fwmark) → where it was first defined. */
  keys: Map<string, Loc>
}

export function convertVirtualServer(c: Conv, ctx: Ctx, s: Stmt): Obj[] {
  if (!s.block) return c.err(s.key, 'virtual_server needs a { block }') ?? []
  const notes: string[] = []
  const svc: Obj = {}
  const t: Timing = {}
  const flags: Obj = {}
  const rsStmts: Stmt[] = []
  let protocol: string | undefined
  let fwd: { forwarding?: string; tunnel?: Obj } | undefined
  let sched: string | undefined
  let inhibit = false
  let alpha = false
  let sorry: Obj | undefined
  let sorryFwd: { forwarding?: string; tunnel?: Obj } | undefined
  for (const k of s.block) {
    const kw = k.key.text
    if (timingKeyword(c, k, t)) continue
    if (kw in VS_UNSUPPORTED && VS_UNSUPPORTED[kw] !== '') {
      notes.push(c.note(k.key, VS_UNSUPPORTED[kw] as string))
      continue
    }
    switch (kw) {
      case 'lb_algo':
      case 'lvs_sched': {
        const v = c.args(k, 1)?.[0]
        if (v && !SCHEDULERS.includes(v.text)) c.err(v, `${kw}: '${v.text}' is not one of ${SCHEDULERS.join(' ')}`)
        else sched = v?.text
        break
      }
      case 'lb_kind':
      case 'lvs_method':
        fwd = method(c, k)
        break
      case 'protocol': {
        const v = c.args(k, 1)?.[0]
        if (v && !['TCP', 'UDP', 'SCTP'].includes(v.text.toUpperCase()))
          c.err(v, `protocol '${v.text}' is not TCP, UDP or SCTP`)
        else protocol = v?.text.toLowerCase()
        break
      }
      case 'persistence_timeout': {
        const n = k.args[0] ? c.int(k.args[0], 1, 2147483, 'persistence_timeout') : 360
        if (n !== undefined) svc.persistence = { ...(svc.persistence as Obj), timeout: `${n}s` }
        break
      }
      case 'persistence_granularity': {
        const len = maskLen(k.args[0]?.text ?? '')
        if (len === undefined) c.err(k.args[0] ?? k.key, 'persistence_granularity: not a netmask or prefix length')
        else svc.persistence = { ...(svc.persistence as Obj), prefix_length: len }
        break
      }
      case 'persistence_engine':
        svc.persistence = { ...(svc.persistence as Obj), engine: k.args[0]?.text }
        if (k.args[0]?.text !== 'sip') c.err(k.args[0] ?? k.key, 'persistence_engine: only sip exists')
        break
      case 'ip_family':
        if (!['inet', 'inet6'].includes(k.args[0]?.text ?? '')) c.err(k.args[0] ?? k.key, 'ip_family: inet or inet6')
        else svc.family = k.args[0]?.text
        break
      case 'sh-port':
      case 'mh-port':
      case 'flag-2':
        flags.port = true
        break
      case 'sh-fallback':
      case 'mh-fallback':
      case 'flag-1':
        flags.fallback = true
        break
      case 'ops':
        flags.one_packet = true
        break
      case 'alpha':
        alpha = c.bool(k) ?? false
        break
      case 'quorum':
        svc.quorum = c.int(c.args(k, 1)?.[0], 1, 2147483647, 'quorum')
        break
      case 'hysteresis':
        svc.hysteresis = c.int(c.args(k, 1)?.[0], 0, 2147483647, 'hysteresis')
        break
      case 'quorum_up':
      case 'quorum_down':
        svc[kw] = c.argv(k.args.slice(0, 1))
        if (k.args[1]) notes.push(c.note(k.args[1], 'lvsd runs quorum programs as its own user', `${kw} … USER`))
        break
      case 'sorry_server': {
        const a = c.addr(k.args[0], 'sorry_server')
        const port = k.args[1] ? c.int(k.args[1], 0, 65535, 'port') : undefined
        if (a) sorry = { address: a, ...(port === undefined ? {} : { port }) }
        break
      }
      case 'sorry_server_lvs_method':
        sorryFwd = method(c, k)
        break
      case 'inhibit_on_failure':
        inhibit = c.bool(k) ?? false
        break
      case 'real_server':
        rsStmts.push(k)
        break
      case 'lvs_timeouts':
      case 'lvs_sync_daemon':
        c.err(k.key, `${kw} belongs in global_defs`)
        break
      default:
        c.err(k.key, `unknown keyword '${kw}' in virtual_server`)
    }
  }
  // keepalived -t complains and then defaults: protocol UDP (2.2.7), NAT, wlc. A missing protocol is
  // almost always a mistake (the service would be UDP), so it is an error; the others are notes.
  if (protocol === undefined && s.args[0]?.text !== 'fwmark')
    c.err(
      s.key,
      'virtual_server has no protocol (keepalived 2.2.7 then makes it UDP and -t reports it): add protocol TCP|UDP|SCTP',
    )
  if (!fwd)
    notes.push(c.note(s.key, 'absent: keepalived uses NAT (lvsd’s default is dr), so forwarding: nat', 'lb_kind'))
  if (!sched) notes.push(c.note(s.key, 'absent: keepalived uses wlc, so scheduler: wlc', 'lb_algo'))
  const forwarding = fwd?.forwarding ?? 'nat'
  const keys = vsKeys(c, ctx, s, protocol)
  const out: Obj[] = []
  for (const key of keys) {
    const port = key.port
    const id =
      key.fwmark !== undefined
        ? `fwmark ${key.fwmark} ${svc.family ?? key.family ?? ''}`
        : `${protocol} ${key.address} ${port}`
    const first = ctx.keys.get(id)
    if (first) {
      c.err(key.loc, `the same virtual server as at line ${first.line} (keepalived -t reports it too)`)
      continue
    }
    ctx.keys.set(id, key.loc.loc)
    const o: Obj = { name: uniqueName(ctx.names, key.name) }
    if (key.fwmark !== undefined) {
      o.fwmark = key.fwmark
      if (svc.family ?? key.family) o.family = svc.family ?? key.family
    } else {
      o.address = key.address
      if (port !== undefined) o.port = port
      o.protocol = protocol ?? 'udp'
    }
    o.scheduler = sched ?? 'wlc'
    if (Object.keys(flags).length > 0) o.scheduler_flags = { ...flags }
    o.forwarding = forwarding
    if (fwd?.tunnel) o.tunnel = fwd.tunnel
    if (svc.persistence) o.persistence = svc.persistence
    if (key.fwmark === undefined && port === undefined && !svc.persistence)
      c.err(s.key, 'virtual_server without a port must be persistent (keepalived -t reports this too)')
    const follow = key.address ? [...ctx.vipsOf].filter(([, v]) => v.includes(key.address as string)) : []
    if (follow.length === 1) o.follow = follow[0]?.[0]
    const rss = rsStmts.flatMap((r) => realServer(c, ctx.env, r, { ...t }, forwarding, port, inhibit, alpha, notes))
    const total = rss.reduce((n, r) => n + ((r.weight as number | undefined) ?? 1), 0)
    if (svc.quorum !== undefined) {
      let q = svc.quorum as number
      if (q > total && total > 0) {
        notes.push(
          c.note(
            s.key,
            `quorum ${q} exceeds the real servers' total weight ${total}; keepalived reduces it to ${total}, so does the import`,
            'quorum',
          ),
        )
        q = total
      }
      o.quorum = q
    }
    if (svc.hysteresis !== undefined) o.hysteresis = svc.hysteresis
    if (svc.quorum_up) o.quorum_up = svc.quorum_up
    if (svc.quorum_down) o.quorum_down = svc.quorum_down
    if (sorry) o.sorry_server = { ...sorry, ...(sorryFwd?.forwarding ? { forwarding: sorryFwd.forwarding } : {}) }
    if (inhibit) o.inhibit_on_failure = true
    hoistChecks(o, rss)
    if (rss.length > 0) o.real_servers = rss
    out.push(c.annotate(o, key.loc.loc, key === keys[0] ? notes : []))
  }
  return out
}

/** Checks every real server has alike become the service's checks (keepalived has them per server). */
function hoistChecks(svc: Obj, rss: Obj[]): void {
  const first = rss[0]?.checks
  if (first === undefined || rss.some((r) => JSON.stringify(r.checks) !== JSON.stringify(first))) return
  svc.checks = first
  for (const r of rss) delete r.checks
}

function uniqueName(names: Set<string>, base: string): string {
  let n = lvsdName(base)
  for (let i = 2; names.has(n); i++) n = lvsdName(`${base}-${i}`)
  names.add(n)
  return n
}

interface VsKey {
  name: string
  address?: string
  port?: number
  fwmark?: number
  family?: string
  loc: Word
}

function vsKeys(c: Conv, ctx: Ctx, s: Stmt, protocol: string | undefined): VsKey[] {
  const a = s.args
  const proto = protocol ?? 'udp'
  const nameOf = (addr: string, port?: number) => `${proto}-${addr.replace(/:/g, '_')}-${port ?? 0}`
  if (a[0]?.text === 'fwmark') {
    const m = c.int(a[1], 1, 4294967295, 'fwmark')
    return m === undefined ? [] : [{ name: `fwmark-${m}`, fwmark: m, loc: s.key }]
  }
  if (a[0]?.text === 'group') {
    const g = ctx.groups.get(a[1]?.text ?? '')
    if (!g) return c.err(a[1] ?? s.key, `virtual_server_group '${a[1]?.text ?? ''}' is not defined`) ?? []
    if (g.members.length > 1)
      c.note(
        s.key,
        `group ${a[1]?.text} becomes ${g.members.length} services, each with its own checks (keepalived checks each real server once for the group)`,
        'virtual_server group',
      )
    return g.members.map((m) =>
      m.fwmark !== undefined
        ? { name: `${a[1]?.text}-fwmark-${m.fwmark}`, fwmark: m.fwmark, family: m.family, loc: m.loc }
        : {
            name: `${a[1]?.text}-${nameOf(m.address as string, m.port)}`,
            address: m.address,
            port: m.port,
            loc: m.loc,
          },
    )
  }
  const addr = c.addr(a[0], 'virtual_server')
  if (!addr) return []
  const port = a[1] ? c.int(a[1], 0, 65535, 'port') : undefined
  if (a[2]) c.err(a[2], `virtual_server: unexpected '${a[2].text}'`)
  return [{ name: nameOf(addr, port), address: addr, ...(port ? { port } : {}), loc: s.key }]
}

function maskLen(t: string): number | undefined {
  if (/^\d+$/.test(t)) return Number(t) >= 1 && Number(t) <= 128 ? Number(t) : undefined
  const a = tryParseAddr(t)
  if (!a) return undefined
  let bits = 0
  let seenZero = false
  for (const b of a.bytes) {
    for (let i = 7; i >= 0; i--) {
      if ((b >> i) & 1) {
        if (seenZero) return undefined
        bits++
      } else seenZero = true
    }
  }
  return bits === 0 ? undefined : bits
}
