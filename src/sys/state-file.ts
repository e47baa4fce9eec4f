// Small state files lvsd keeps under /run/lvsd and /var/lib/lvsd (the IPVS services it owns, the VIPs
// a master held), written so that neither a crash nor another local user can make lvsd write through
// them: the directory must be one only root or lvsd's user can change (a sticky one such as /tmp is
// accepted: others cannot replace our entries there), the temporary file gets an unguessable name
// and is created with O_EXCL|O_NOFOLLOW (a symlink or file planted at that name fails the write
// instead of being followed), and rename() replaces the target itself, never a symlink's target.

import { randomBytes } from 'node:crypto'
import { closeSync, constants, fsyncSync, lstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { LvsdError } from '../errors.js'
import { trustedUids } from './program-trust.js'

const S_ISVTX = 0o1000

/** Why `dir` is not a safe home for lvsd's state, or undefined when it is. */
export function stateDirDistrust(dir: string, trusted: readonly number[] = trustedUids()): string | undefined {
  const s = lstatSync(dir)
  if (s.isSymbolicLink()) return `${dir} is a symlink`
  if (!s.isDirectory()) return `${dir} is not a directory`
  if (!trusted.includes(s.uid)) return `${dir} is owned by uid ${s.uid}`
  if (s.mode & S_ISVTX) return undefined
  if (s.mode & 0o002) return `${dir} is writable by every user (mode 0${(s.mode & 0o7777).toString(8)})`
  if (s.mode & 0o020 && s.gid !== 0)
    return `${dir} is writable by group ${s.gid} (mode 0${(s.mode & 0o7777).toString(8)})`
  return undefined
}

/** Writes `text` to `path` atomically: the old content or the new, never half, never through a link. */
export function writeStateFile(path: string, text: string, mode = 0o644): void {
  const dir = dirname(path)
  mkdirSync(dir, { recursive: true, mode: 0o755 })
  const why = stateDirDistrust(dir)
  if (why) throw new LvsdError('LVSD_STATE_UNSAFE', `will not write ${path}: ${why}`, { path, reason: why })
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode)
  try {
    try {
      writeSync(fd, text)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(tmp, path)
  } catch (e) {
    rmSync(tmp, { force: true })
    throw e
  }
}
