// First thing `lvsd run` does, before it reads its configuration or starts a thread: take off the
// wire the VIPs a crashed earlier run of the same configuration held as master (src/director/held-vips.ts).
// keepalived does this in ~30 ms; waiting for the VRRP worker's start made it 0.3–0.5 s here.

import { parseArgs } from 'node:util'
import { type HeldVip, heldVipsFile, readHeld } from '../director/held-vips.js'
import { isLvsdError } from '../errors.js'
import { parseAddr } from '../net/addr.js'
import { unixListening } from '../sys/unix-listening.js'

export interface DropReport {
  removed: HeldVip[]
  /** Why nothing was touched (a live daemon serves the recorded socket). */
  skipped?: string
  errors: string[]
}

const GONE = new Set(['EADDRNOTAVAIL', 'ENODEV'])

/** `lvsd run`'s -c FILE, read before run.ts (and the whole director with it) is even loaded. */
export function configArg(argv: string[]): string | undefined {
  try {
    const { values } = parseArgs({ args: argv, strict: false, options: { config: { type: 'string', short: 'c' } } })
    return typeof values.config === 'string' ? values.config : undefined
  } catch {
    return undefined
  }
}

export async function dropHeldVips(configPath: string, file = heldVipsFile(configPath)): Promise<DropReport> {
  const held = readHeld(file)
  const report: DropReport = { removed: [], errors: [] }
  if (!held || held.vips.length === 0) return report
  if (await unixListening(held.socket)) return { ...report, skipped: `a running lvsd serves ${held.socket}` }
  // loaded only when there is something to remove: a clean start pays nothing
  const [{ Rtnetlink }, { ifNameToIndex }] = await Promise.all([
    import('../net/rtnetlink.js'),
    import('../sys/iface.js'),
  ])
  const rt = Rtnetlink.open()
  try {
    for (const v of held.vips) {
      let ifindex: number
      try {
        ifindex = ifNameToIndex(v.dev)
      } catch {
        continue // the interface is gone, and its addresses with it
      }
      try {
        await rt.deleteAddress({ ifindex, prefix: { addr: parseAddr(v.address), len: v.len } })
        report.removed.push(v)
      } catch (e) {
        const code = isLvsdError(e) ? String(e.details.code ?? '') : ''
        if (!GONE.has(code)) report.errors.push(`${v.address}/${v.len} on ${v.dev}: ${(e as Error).message}`)
      }
    }
  } finally {
    rt.close()
  }
  return report
}
