// Whether a program lvsd runs can be changed by someone other than root or lvsd's own user (keepalived's
// enable_script_security): the file itself, every directory on the path as written (a symlink or file
// in it can be replaced) and on the resolved path. Anyone who can write one of them runs code as the
// program's user, and lvsd often runs as root.
import { lstatSync, realpathSync } from 'node:fs'
import { dirname, sep } from 'node:path'

export interface Owned {
  mode: number
  uid: number
  gid: number
  isDirectory: boolean
  isSymlink: boolean
}

export type StatFn = (path: string) => Owned

const S_ISVTX = 0o1000
const S_IWGRP = 0o020
const S_IWOTH = 0o002

export const lstatOwned: StatFn = (p) => {
  const s = lstatSync(p)
  return { mode: s.mode & 0o7777, uid: s.uid, gid: s.gid, isDirectory: s.isDirectory(), isSymlink: s.isSymbolicLink() }
}

/** The uids trusted to own programs and their directories: root and the daemon's own user. */
export function trustedUids(): number[] {
  const me = process.getuid?.() ?? 0
  return me === 0 ? [0] : [0, me]
}

/** `/a/b/c` → [`/`, `/a`, `/a/b`]: the directories a path is found through. */
export function ancestors(path: string): string[] {
  const out: string[] = []
  for (let d = dirname(path); ; d = dirname(d)) {
    out.unshift(d)
    if (d === sep || d === dirname(d)) break
  }
  return out
}

const octal = (m: number) => `0${(m & 0o7777).toString(8).padStart(3, '0')}`

/**
 * Who besides the trusted users can change `s`: group write counts unless the group is root's, and
 * write by others counts unless `sticky` (a directory with the sticky bit, like /tmp, lets others add
 * entries but not replace one they do not own).
 */
function untrustedWrite(s: Owned, trusted: readonly number[], sticky: boolean): string | undefined {
  if (!trusted.includes(s.uid)) return `owned by uid ${s.uid}`
  if (s.mode & S_IWOTH && !sticky) return `writable by every user (mode ${octal(s.mode)})`
  if (s.mode & S_IWGRP && s.gid !== 0 && !sticky) return `writable by group ${s.gid} (mode ${octal(s.mode)})`
  return undefined
}

/** Checks one absolute path as written: each directory given the entry below it, then the entry itself. */
function checkChain(path: string, trusted: readonly number[], stat: StatFn): string | undefined {
  const dirs = ancestors(path)
  const entries = [...dirs, path]
  const stats = entries.map((p) => stat(p))
  for (let i = 0; i < dirs.length; i++) {
    const d = stats[i]!
    const below = stats[i + 1]!
    // sticky: others may create entries but not rename or remove ours, so a trusted entry below is safe
    const sticky = (d.mode & S_ISVTX) !== 0 && trusted.includes(below.uid)
    // a symlink's own mode means nothing and it cannot be changed, only replaced through its directory
    const why = d.isSymlink ? undefined : untrustedWrite(d, trusted, sticky)
    if (why) return `${path}: directory ${dirs[i]} on its path is ${why}`
  }
  const file = stats[stats.length - 1]!
  if (file.isDirectory || file.isSymlink) return undefined
  const why = untrustedWrite(file, trusted, false)
  return why ? `${path} is ${why}` : undefined
}

/**
 * Why `path` cannot be trusted as a program lvsd runs (a sentence naming the file or directory at
 * fault), or undefined when only trusted users can change it. Missing files are the caller's concern.
 */
export function programDistrust(
  path: string,
  trusted: readonly number[] = trustedUids(),
  stat: StatFn = lstatOwned,
  realpath: (p: string) => string = realpathSync,
): string | undefined {
  try {
    const written = checkChain(path, trusted, stat)
    if (written) return written
    const real = realpath(path)
    if (real === path) return undefined
    const resolved = checkChain(real, trusted, stat)
    return resolved ? `${path} resolves to ${real}; ${resolved}` : undefined
  } catch {
    return undefined
  }
}
