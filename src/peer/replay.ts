// Replay protection of the peer channel (docs/peer.md §Security): per sending node the highest
// (boot, nonce, seq) accepted so far; a message not strictly newer is a replay. A sender's new run
// (a restart) has a later boot time, so its messages are newer than every message of the old run.
// sentAt outside ±window of the receiver's wall clock is stale: this bounds what a receiver that
// has itself restarted (and forgotten its marks) could be fed. Pure: `now` is an argument.

export interface Stamp {
  boot: number
  nonce: number
  seq: number
}

export type ReplayVerdict = 'ok' | 'replay' | 'stale'

/** a compared with b: negative, 0 or positive. */
export function compareStamp(a: Stamp, b: Stamp): number {
  return a.boot - b.boot || a.nonce - b.nonce || a.seq - b.seq
}

export class ReplayGuard {
  private readonly last = new Map<string, Stamp>()

  constructor(private readonly windowMs = 30_000) {}

  /** Accepts (and remembers) a message from `node` only when it is fresh and newer than any before. */
  check(node: string, s: Stamp & { sentAt: number }, nowWallMs: number): ReplayVerdict {
    if (Math.abs(nowWallMs - s.sentAt) > this.windowMs) return 'stale'
    const prev = this.last.get(node)
    if (prev && compareStamp(s, prev) <= 0) return 'replay'
    this.last.set(node, { boot: s.boot, nonce: s.nonce, seq: s.seq })
    return 'ok'
  }

  lastOf(node: string): Stamp | undefined {
    return this.last.get(node)
  }
}
