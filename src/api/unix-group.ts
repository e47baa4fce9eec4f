// Resolves a group name to its id from /etc/group (name:password:gid:members), as getgrnam(3) would for
// local groups: Node has no getgrnam, and spawning getent for one lookup at startup is not worth it.
import { readFileSync } from 'node:fs'
import { LvsdError } from '../errors.js'

/** The gid of `group` (a name, or a number given as text), read from `file`. */
export function resolveGroup(group: string, file = '/etc/group'): number {
  if (/^\d+$/.test(group)) return Number(group)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (e) {
    throw new LvsdError(
      'LVSD_API_SOCKET',
      `cannot read ${file} to resolve group ${group}`,
      { group, file },
      { cause: e },
    )
  }
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':')
    if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Number(gid)
  }
  throw new LvsdError('LVSD_API_SOCKET', `group ${group} is not in ${file}`, { group, file })
}
