// Compares this node's view with the peer's each interval (docs/peer.md §Health view, §Connections):
// a server whose health differs between the two for longer than its fall × interval, and a backup
// that holds far fewer connections than the master for longer than conns_after. Returns the changes
// as data (the caller publishes them), once when a disagreement starts and once when it ends. Pure.
import type { PeerHealth, PeerSyncRole } from './message.js'

export interface View {
  health: Record<string, PeerHealth>
  sync: PeerSyncRole
  conns: Record<string, number>
}

export interface WatchConfig {
  /** ms a server's views may differ before it is reported (its fall × interval). */
  after(serverId: string): number
  connsAfter: number
  /** percent of the master's connections below which the backup is lagging. */
  ratio: number
}

/** Services below this many connections on the master are never compared (noise). */
export const MIN_MASTER_CONNS = 100

export type WatchChange =
  | { kind: 'health'; id: string; here: PeerHealth; peer: PeerHealth; disagree: boolean }
  | { kind: 'conns'; service: string; here: number; master: number; lagging: boolean }

interface Open {
  since: number
  reported: boolean
}

export class Watch {
  private readonly health = new Map<string, Open & { here: PeerHealth; peer: PeerHealth }>()
  private readonly conns = new Map<string, Open>()

  constructor(private readonly cfg: () => WatchConfig) {}

  compare(mine: View, theirs: View, now: number): WatchChange[] {
    const cfg = this.cfg()
    const out: WatchChange[] = []
    const ids = new Set([...Object.keys(mine.health), ...Object.keys(theirs.health)])
    for (const id of ids) {
      const here = mine.health[id]
      const peer = theirs.health[id]
      const differ =
        here !== undefined && peer !== undefined && here !== 'unchecked' && peer !== 'unchecked' && here !== peer
      const open = this.health.get(id)
      if (differ) {
        const o = open && open.here === here && open.peer === peer ? open : { since: now, reported: false, here, peer }
        this.health.set(id, o)
        if (!o.reported && now - o.since >= cfg.after(id)) {
          o.reported = true
          out.push({ kind: 'health', id, here, peer, disagree: true })
        }
      } else if (open) {
        this.health.delete(id)
        if (open.reported)
          out.push({ kind: 'health', id, here: here ?? open.here, peer: peer ?? open.peer, disagree: false })
      }
    }
    for (const id of [...this.health.keys()]) if (!ids.has(id)) this.health.delete(id)
    const compared = mine.sync === 'backup' && theirs.sync === 'master'
    const services = new Set([...Object.keys(mine.conns), ...Object.keys(theirs.conns), ...this.conns.keys()])
    for (const service of services) {
      const here = mine.conns[service] ?? 0
      const master = theirs.conns[service] ?? 0
      const lag = compared && master >= MIN_MASTER_CONNS && here * 100 < master * cfg.ratio
      const open = this.conns.get(service)
      if (lag) {
        const o = open ?? { since: now, reported: false }
        this.conns.set(service, o)
        if (!o.reported && now - o.since >= cfg.connsAfter) {
          o.reported = true
          out.push({ kind: 'conns', service, here, master, lagging: true })
        }
      } else if (open) {
        this.conns.delete(service)
        if (open.reported) out.push({ kind: 'conns', service, here, master, lagging: false })
      }
    }
    return out
  }

  /** Servers whose views differ now, with since when (monotonic ms) and whether that was reported. */
  disagreements(): { id: string; here: PeerHealth; peer: PeerHealth; since: number; reported: boolean }[] {
    return [...this.health].map(([id, o]) => ({ id, ...o }))
  }

  lagging(service: string): boolean {
    return this.conns.get(service)?.reported ?? false
  }
}
