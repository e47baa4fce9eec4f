// Which uid/gid each program lvsd runs gets: a program's own `user:` (exec checks, track scripts), else
// `programs.user`, else, when lvsd runs as root, an unprivileged user (lvsd if it exists, else nobody),
// so a notify program never holds the director's privileges by default. Resolved before a
// configuration is committed: an unknown user refuses the load, never falls back to root.
import type { Config } from '../config/types.js'
import { LvsdError } from '../errors.js'
import { lookupUser, type UserIds } from '../sys/users.js'

/** Tried in order when lvsd runs as root and programs.user is not set. */
export const DEFAULT_PROGRAM_USERS = ['lvsd', 'nobody'] as const

export interface ProgramUsers {
  /** For programs without their own user; undefined: lvsd's own (it is not root, or no program runs). */
  default: (UserIds & { name: string }) | undefined
  /** Users named by programs' own `user:`. */
  named: ReadonlyMap<string, UserIds>
}

export const NO_PROGRAM_USERS: ProgramUsers = { default: undefined, named: new Map() }

/** The ids a program with `user` (or none) runs as. */
export function idsFor(users: ProgramUsers, user: string | undefined): UserIds | undefined {
  if (user !== undefined) return users.named.get(user)
  return users.default ? { uid: users.default.uid, gid: users.default.gid } : undefined
}

/** uid/gid options for runProgram. */
export function runAs(ids: UserIds | undefined): { uid?: number; gid?: number } {
  return ids ? { uid: ids.uid, gid: ids.gid } : {}
}

function hasPrograms(c: Config): boolean {
  if (c.vrrp.scripts.length > 0) return true
  const notifies = [...c.vrrp.instances.map((i) => i.notify), ...c.vrrp.sync_groups.map((g) => g.notify)]
  if (notifies.some((n) => n.master || n.backup || n.fault || n.stop || n.any)) return true
  return c.virtual_services.some(
    (s) => s.quorum_up || s.quorum_down || s.real_servers.some((rs) => rs.checks.some((k) => k.type === 'exec')),
  )
}

/** Users named by exec checks (resolved from /etc/passwd by the caller before building specs). */
export function execUsers(c: Config): string[] {
  const out = new Set<string>()
  for (const s of c.virtual_services)
    for (const rs of s.real_servers) for (const k of rs.checks) if (k.type === 'exec' && k.user) out.add(k.user)
  return [...out]
}

const trackUsers = (c: Config) => c.vrrp.scripts.flatMap((s) => (s.user ? [s.user] : []))

export async function resolveProgramUsers(
  c: Config,
  isRoot = process.getuid?.() === 0,
  lookup: (name: string) => Promise<UserIds | undefined> = lookupUser,
): Promise<ProgramUsers> {
  const named = new Map<string, UserIds>()
  for (const name of new Set([...execUsers(c), ...trackUsers(c)])) {
    const u = await lookup(name)
    if (!u) throw new LvsdError('LVSD_CONFIG_INVALID', `program user ${name} does not exist`, { user: name })
    named.set(name, u)
  }
  let dflt: ProgramUsers['default']
  const set = c.programs.user
  if (set !== undefined) {
    const u = await lookup(set)
    if (!u) throw new LvsdError('LVSD_CONFIG_INVALID', `programs.user ${set} does not exist`, { user: set })
    dflt = { name: set, ...u }
  } else if (isRoot && hasPrograms(c)) {
    for (const name of DEFAULT_PROGRAM_USERS) {
      const u = await lookup(name)
      if (u) {
        dflt = { name, ...u }
        break
      }
    }
    if (!dflt)
      throw new LvsdError(
        'LVSD_CONFIG_INVALID',
        `no unprivileged user to run programs as (${DEFAULT_PROGRAM_USERS.join(', ')}): set programs.user`,
        {},
      )
  }
  return { default: dflt, named }
}
