// Local users by name from /etc/passwd (Node has no getpwnam): the config check refuses an unknown
// `user:` (a typo must not run a program as root), and the daemon resolves uids with the same code.
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'

export interface UserIds {
  uid: number
  gid: number
}

export const PASSWD = '/etc/passwd'

/** uid/gid of `name` in passwd text; undefined when absent. */
export function userIn(text: string, name: string): UserIds | undefined {
  for (const line of text.split('\n')) {
    const f = line.split(':')
    if (f[0] === name && f.length >= 4) {
      const uid = Number(f[2])
      const gid = Number(f[3])
      if (Number.isInteger(uid) && Number.isInteger(gid)) return { uid, gid }
    }
  }
  return undefined
}

export async function lookupUser(name: string, passwd = PASSWD): Promise<UserIds | undefined> {
  return userIn(await readFile(passwd, 'utf8'), name)
}

/** For the config check, which runs in its own thread and may block. Unreadable passwd: undefined. */
export function lookupUserSync(name: string, passwd = PASSWD): UserIds | undefined {
  let text: string
  try {
    text = readFileSync(passwd, 'utf8')
  } catch {
    return undefined
  }
  return userIn(text, name)
}
