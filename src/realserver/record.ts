// The record of what `lvsd realserver up` changed, so `down` restores exactly the values before it.
// It lives under /run (tmpfs): what it describes (addresses, /proc/sys values) is gone after a
// reboot too, and a record that outlived them would make `down` "restore" another boot's values.
// Not in /run/lvsd: that directory belongs to the daemon's user (tmpfiles, lvsd.service's
// RuntimeDirectory), root's state-file check rightly refuses to write there, and the daemon's unit
// removes it on stop; `realserver` runs as root and keeps its record in a directory of its own.
import { readFileSync, rmSync } from 'node:fs'
import { LvsdError } from '../errors.js'
import { writeStateFile } from '../sys/state-file.js'
import type { Change } from './plan.js'

export const DEFAULT_RECORD = '/run/lvsd-realserver/record.json'

export function readRecord(path: string): Change[] {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    return []
  }
  try {
    const v = JSON.parse(text) as { changes?: unknown }
    if (!Array.isArray(v.changes)) throw new Error('no changes list')
    return v.changes.filter(isChange)
  } catch (e) {
    throw new LvsdError('LVSD_REALSERVER_RECORD', `${path} is not a realserver record: ${(e as Error).message}`, {
      path,
    })
  }
}

function isChange(c: unknown): c is Change {
  const o = c as Record<string, unknown>
  if (o === null || typeof o !== 'object') return false
  if (o.kind === 'sysctl') return typeof o.key === 'string' && typeof o.from === 'string' && typeof o.to === 'string'
  if (o.kind === 'address')
    return typeof o.dev === 'string' && typeof o.address === 'string' && Number.isInteger(o.prefixLen)
  return o.kind === 'link-up' && typeof o.dev === 'string'
}

/**
 * Written as every state file is (src/sys/state-file.ts): atomically, so a crash mid-write leaves the
 * previous record, never half of one; never through a symlink; only in a directory no other user can change.
 */
export function writeRecord(path: string, changes: Change[]): void {
  if (changes.length === 0) {
    rmSync(path, { force: true })
    return
  }
  writeStateFile(path, `${JSON.stringify({ changes }, null, 1)}\n`)
}
