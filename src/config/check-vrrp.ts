// Semantic checks of the `vrrp:` section that one key's schema cannot express: references between
// entries, uniqueness, RFC 3768/5798 timing rules, families, and executables on disk.
import { accessSync, constants, statSync } from 'node:fs'
import { compareAddr } from '../net/addr.js'
import { programDistrust } from '../sys/program-trust.js'
import { lookupUserSync } from '../sys/users.js'
import { formatDuration } from './dsl.js'
import type { RawInstance, RawVrrp } from './types.js'
import { type Ctx, didYouMean, hasKey, isComplete, lineOf, reportOn } from './walk.js'

/**
 * argv[0] must be an absolute path to an executable regular file that only root (or lvsd's own user)
 * can change, checked now rather than at 3 a.m.: whoever can write it, or a directory it is found
 * through, runs code as the program's user (keepalived's enable_script_security, always on).
 */
export function checkArgv(ctx: Ctx, argv: string[] | undefined): void {
  if (!argv) return
  const prog = argv[0]!
  if (!prog.startsWith('/')) {
    reportOn(ctx, argv, 0, 'must be an absolute path (no PATH lookup is done)')
    return
  }
  try {
    if (!statSync(prog).isFile()) {
      reportOn(ctx, argv, 0, `${prog} is not a regular file`)
      return
    }
    accessSync(prog, constants.X_OK)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    reportOn(ctx, argv, 0, code === 'ENOENT' ? `${prog} does not exist` : `${prog} is not executable`)
    return
  }
  const why = programDistrust(prog)
  if (why) reportOn(ctx, argv, 0, `${why}: lvsd runs only programs no one but root or its own user can change`)
}

/** A program's `user:` must exist here: an unknown name must never fall back to running it as lvsd (root). */
export function checkUser(ctx: Ctx, owner: object, user: string | undefined): void {
  if (user === undefined) return
  if (!lookupUserSync(user)) reportOn(ctx, owner, 'user', `no user ${user} on this host (/etc/passwd)`)
}

export function checkNotify(ctx: Ctx, n: RawInstance['notify']): void {
  for (const a of [n.master, n.backup, n.fault, n.stop, n.any]) checkArgv(ctx, a)
}

export function familyName(f: 4 | 6): string {
  return f === 4 ? 'IPv4' : 'IPv6'
}

function checkTiming(ctx: Ctx, v: RawVrrp, inst: RawInstance): void {
  const version = inst.version ?? v.version
  const interval = inst.advert_interval ?? v.advert_interval
  const from = inst.advert_interval === undefined ? ` (inherited from vrrp.advert_interval)` : ''
  const shown = formatDuration(interval)
  if (version === 2 && (interval < 1000 || interval % 1000 !== 0)) {
    reportOn(
      ctx,
      inst,
      'advert_interval',
      `${shown}${from}: VRRPv2 intervals are whole seconds 1s..255s; use version: 3 for shorter`,
    )
  } else if (version === 3 && (interval > 40_950 || interval % 10 !== 0)) {
    reportOn(ctx, inst, 'advert_interval', `${shown}${from}: VRRPv3 intervals are 10ms..40.95s in steps of 10ms`)
  }
  if (!inst.preempt && inst.preempt_delay > 0) reportOn(ctx, inst, 'preempt_delay', 'has no effect with preempt: false')
  if (!inst.preempt && inst.initial_state === 'master') {
    reportOn(ctx, inst, 'initial_state', 'must be backup with preempt: false (a master would preempt at start-up)')
  }
}

/** VRRPv2 authentication (RFC 3768 §5.3.6, §5.3.10): v2 only, a password of at most 8 bytes. */
function checkAuth(ctx: Ctx, v: RawVrrp, inst: RawInstance): void {
  const a = inst.authentication
  if (!a) return
  const version = inst.version ?? v.version
  if (version === 3) {
    const from = hasKey(inst, 'version') ? '' : ' (vrrp.version is 3)'
    reportOn(
      ctx,
      inst,
      'authentication',
      `VRRPv3 has no authentication (RFC 5798 removed it)${from}: remove it, or use version: 2`,
    )
    return
  }
  if (a.type === 'none') {
    if (a.password !== undefined) reportOn(ctx, a, 'password', 'has no effect with type none')
    return
  }
  if (a.password === undefined) {
    reportOn(ctx, inst, 'authentication', 'type pass needs a password (1 to 8 bytes)')
    return
  }
  const bytes = Buffer.byteLength(a.password, 'utf8')
  if (bytes === 0 || bytes > 8) {
    reportOn(ctx, a, 'password', `is ${bytes} bytes; a VRRPv2 password is 1 to 8 bytes (RFC 3768 §5.3.10)`)
  }
}

function checkFamilies(ctx: Ctx, v: RawVrrp, inst: RawInstance): void {
  const fam = inst.vips[0]!.address.addr.family
  for (const list of [inst.vips, inst.excluded_vips]) {
    for (const v of list) {
      // iproute2 refuses a label that does not begin with the device name (eth0:web on eth0)
      const dev = v.dev ?? inst.interface
      if (v.label !== undefined && v.label !== dev && !v.label.startsWith(`${dev}:`)) {
        reportOn(ctx, v, 'label', `must begin with the interface name, like ${dev}:0`)
      }
    }
  }
  inst.vips.forEach((v, i) => {
    if (v.address.addr.family !== fam) {
      reportOn(
        ctx,
        inst.vips,
        i,
        `${familyName(v.address.addr.family)} VIP in an ${familyName(fam)} instance: one family per instance (use excluded_vips or a second instance)`,
      )
    }
  })
  const version = inst.version ?? v.version
  if (fam === 6 && version === 2) {
    reportOn(
      ctx,
      inst,
      'version',
      `IPv6 VIPs need VRRP version 3${hasKey(inst, 'version') ? '' : ' (the default vrrp.version is 2)'}`,
    )
  }
  if (inst.priority === 255 && !inst.address_owner) {
    reportOn(
      ctx,
      inst,
      'priority',
      'must be 1..254 unless address_owner is true (255 means the VIPs are this node’s own addresses)',
    )
  }
  if (inst.address_owner && inst.priority !== 255) reportOn(ctx, inst, 'address_owner', 'needs priority: 255')
  const u = inst.unicast
  if (u) {
    if (u.source && u.source.family !== fam)
      reportOn(ctx, u, 'source', `must be ${familyName(fam)} like the instance’s VIPs`)
    u.allow_from.forEach((n, i) => {
      if (n.addr.family !== fam) reportOn(ctx, u.allow_from, i, `must be ${familyName(fam)} like the instance’s VIPs`)
    })
    u.peers.forEach((p, i) => {
      if (p.family !== fam) reportOn(ctx, u.peers, i, `must be ${familyName(fam)} like the instance’s VIPs`)
      const j = u.peers.findIndex((q) => compareAddr(p, q) === 0)
      if (j < i) reportOn(ctx, u.peers, i, `duplicate peer (first at ${lineOf(ctx, u.peers, j)})`)
      if (u.source && compareAddr(p, u.source) === 0) reportOn(ctx, u.peers, i, 'is the unicast source itself')
    })
  }
}

export function checkVrrp(ctx: Ctx, v: RawVrrp): void {
  const scripts = new Map<string, object>()
  for (const s of v.scripts) {
    const first = scripts.get(s.name)
    if (first) reportOn(ctx, s, 'name', `duplicate script name (first at ${lineOf(ctx, first, 'name')})`)
    else scripts.set(s.name, s)
    checkArgv(ctx, s.argv)
    checkUser(ctx, s, s.user)
    if (s.timeout !== undefined && s.timeout > s.interval) {
      reportOn(ctx, s, 'timeout', `must not exceed the interval (${formatDuration(s.interval)})`)
    }
  }
  const names = new Map<string, RawInstance>()
  const vrids = new Map<string, RawInstance>()
  const vips = new Map<string, { inst: RawInstance; i: number }>()
  for (const inst of v.instances) {
    const first = names.get(inst.name)
    if (first) reportOn(ctx, inst, 'name', `duplicate instance name (first at ${lineOf(ctx, first, 'name')})`)
    else names.set(inst.name, inst)
    const fam = inst.vips[0]!.address.addr.family
    const key = `${inst.interface}/${fam}/${inst.vrid}`
    const other = vrids.get(key)
    if (other) {
      reportOn(
        ctx,
        inst,
        'vrid',
        `${inst.vrid} is already used on ${inst.interface} for ${familyName(fam)} by instance '${other.name}' (${lineOf(ctx, other, 'vrid')})`,
      )
    } else vrids.set(key, inst)
    inst.vips.forEach((vip, i) => {
      const k = Array.from(vip.address.addr.bytes).join('.')
      const seen = vips.get(k)
      if (seen)
        reportOn(
          ctx,
          inst.vips,
          i,
          `address already a VIP of instance '${seen.inst.name}' (${lineOf(ctx, seen.inst.vips, seen.i)})`,
        )
      else vips.set(k, { inst, i })
    })
    checkTiming(ctx, v, inst)
    checkFamilies(ctx, v, inst)
    checkAuth(ctx, v, inst)
    inst.track.scripts.forEach((ref, i) => {
      if (isComplete(v.scripts) && !scripts.has(ref.name)) {
        reportOn(
          ctx,
          inst.track.scripts,
          i,
          `unknown track script '${ref.name}'${didYouMean(ref.name, [...scripts.keys()])}`,
        )
      }
    })
    checkNotify(ctx, inst.notify)
  }
  const memberOf = new Map<string, { group: string; list: string[]; i: number }>()
  const groupNames = new Map<string, object>()
  for (const g of v.sync_groups) {
    const first = groupNames.get(g.name)
    if (first) reportOn(ctx, g, 'name', `duplicate sync group name (first at ${lineOf(ctx, first, 'name')})`)
    else groupNames.set(g.name, g)
    g.members.forEach((m, i) => {
      const prev = memberOf.get(m)
      if (!names.has(m)) {
        if (!isComplete(v.instances)) return
        reportOn(ctx, g.members, i, `unknown VRRP instance '${m}'${didYouMean(m, [...names.keys()])}`)
      } else if (prev) {
        const where =
          prev.group === g.name ? 'listed twice in this group' : `already a member of sync group '${prev.group}'`
        reportOn(ctx, g.members, i, `${where} (${lineOf(ctx, prev.list, prev.i)})`)
      } else memberOf.set(m, { group: g.name, list: g.members, i })
    })
    checkNotify(ctx, g.notify)
  }
}
