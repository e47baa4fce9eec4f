// Maps the configuration's VRRP instances to the worker's runtime instances (src/vrrp/messages.ts).
// What the runtime does not do yet is reported, so the daemon can say so once at start-up.
import type { Config } from '../config/types.js'
import { type NotifySpec, NotifySpecs } from '../vrrp/main/notify.js'
import type { FileUse, ScriptSpec, ScriptUse } from '../vrrp/main/track.js'
import type { RuntimeInstance, RuntimeVip } from '../vrrp/messages.js'
import { idsFor, NO_PROGRAM_USERS, type ProgramUsers } from './program-users.js'

type ConfigInstance = Config['vrrp']['instances'][number]
type ConfigVip = ConfigInstance['vips'][number]

function vip(v: ConfigVip): RuntimeVip {
  return { prefix: v.address, ...(v.dev ? { dev: v.dev } : {}), ...(v.label ? { label: v.label } : {}) }
}

export function runtimeInstance(i: ConfigInstance): RuntimeInstance {
  return {
    name: i.name,
    interface: i.interface,
    vrid: i.vrid,
    version: i.version,
    family: i.family,
    priority: i.address_owner ? 255 : i.priority,
    advertMs: i.advert_interval,
    preempt: i.preempt,
    preemptDelayMs: i.preempt_delay,
    lowerPrioAnswerMs: i.lower_prio_answer_interval,
    ...(i.accept_from.length > 0 ? { acceptFrom: i.accept_from } : {}),
    ...(i.strict_source ? { strictSource: true } : {}),
    accept: i.accept,
    vips: i.vips.map(vip),
    excludedVips: i.excluded_vips.map(vip),
    ...(i.unicast
      ? {
          unicast: {
            ...(i.unicast.source ? { source: i.unicast.source } : {}),
            peers: i.unicast.peers,
            allowFrom: i.unicast.allow_from,
            ttl: i.unicast.ttl,
          },
        }
      : {}),
    announce: {
      repeat: i.garp.repeat,
      delayMs: i.garp.delay,
      intervalMs: i.garp.interval,
      refreshMs: i.garp.refresh,
      refreshRepeat: i.garp.refresh_repeat,
    },
    trackInterfaces: i.track.interfaces.map((t) => ({ name: t.name, weight: t.weight ?? 0 })),
    ...(i.virtual_mac ? { virtualMac: true } : {}),
    ...(i.authentication && i.version === 2
      ? {
          auth:
            i.authentication.type === 'pass'
              ? { type: 1 as const, password: i.authentication.password ?? '' }
              : { type: 0 as const },
        }
      : {}),
  }
}

/** Configured features the VRRP runtime does not implement yet, one line each (none at present). */
export function unsupported(_c: Config): string[] {
  return []
}

/** Tracked scripts and files, which the main thread watches (src/vrrp/main/track.ts). */
export function trackInputs(
  c: Config,
  users: ProgramUsers = NO_PROGRAM_USERS,
): { scripts: ScriptSpec[]; scriptUses: ScriptUse[]; fileUses: FileUse[] } {
  const scripts = c.vrrp.scripts.map((s): ScriptSpec => {
    const ids = idsFor(users, s.user)
    return {
      name: s.name,
      argv: s.argv,
      intervalMs: s.interval,
      timeoutMs: s.timeout,
      rise: s.rise,
      fall: s.fall,
      ...(s.user ? { user: s.user } : {}),
      ...(ids ? { ids } : {}),
    }
  })
  const scriptUses = c.vrrp.instances.flatMap((i) =>
    i.track.scripts.map((u): ScriptUse => ({ instance: i.name, script: u.name, weight: u.weight })),
  )
  const fileUses = c.vrrp.instances.flatMap((i) =>
    i.track.files.map((f): FileUse => ({ instance: i.name, path: f.path, weight: f.weight })),
  )
  return { scripts, scriptUses, fileUses }
}

function notifySpec(n: ConfigInstance['notify']): NotifySpec {
  const spec: NotifySpec = {}
  if (n.master) spec.master = n.master
  if (n.backup) spec.backup = n.backup
  if (n.fault) spec.fault = n.fault
  if (n.stop) spec.stop = n.stop
  if (n.any) spec.any = n.any
  return spec
}

/** Notify programs by instance name, and the sync groups' (`.groups`). */
export function notifySpecs(c: Config): NotifySpecs {
  const out = new NotifySpecs()
  for (const i of c.vrrp.instances) {
    const spec = notifySpec(i.notify)
    if (Object.keys(spec).length > 0) out.set(i.name, spec)
  }
  for (const g of c.vrrp.sync_groups) {
    const spec = notifySpec(g.notify)
    if (Object.keys(spec).length > 0) out.groups.push({ name: g.name, members: g.members, spec })
  }
  return out
}
