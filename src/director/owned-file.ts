// Which IPVS services lvsd created, kept in a small file under /run/lvsd: a restarted lvsd whose new
// configuration dropped a service still knows that service is its own and removes it, while every
// service it never created stays untouched. /run is a tmpfs, so the record ends with the boot, as the
// kernel's table does.
import { readFileSync } from 'node:fs'
import { writeStateFile } from '../sys/state-file.js'

/** The service ids in the file; none when it is absent or unreadable (nothing is claimed by guess). */
export function readOwned(path: string): string[] {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as unknown
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []
  } catch {
    return []
  }
}

/** Writes the ids atomically (a crash mid-write leaves the previous list, never half of one), never through a link. */
export function writeOwned(path: string, ids: Iterable<string>): void {
  writeStateFile(path, `${JSON.stringify([...ids].sort())}\n`)
}
