// Operator state shared by the pair (docs/peer.md §Conflicts): one entry per action target, each
// last-writer-wins by (version, node). A local action's version is max(previous + 1, wall ms now),
// so the later action wins across a partition; equal versions go to the larger node name. merge()
// is commutative, associative and idempotent: replayed, reordered or repeated states converge to
// the same map on both nodes. Pure: the clock is an argument.

export type OpValue = boolean | number | null

export interface OpEntry {
  v: OpValue
  ver: number
  node: string
}

export type OpKind = 'drain' | 'weight' | 'release'

/** drain:web/10.0.0.7:80, weight:web/10.0.0.7:80, release:web@lb01 (a release is per node). */
export function opKey(kind: OpKind, target: string, node?: string): string {
  return kind === 'release' ? `release:${target}@${node ?? ''}` : `${kind}:${target}`
}

export function parseKey(key: string): { kind: OpKind; target: string; node?: string } | undefined {
  const m = /^(drain|weight|release):(.+)$/.exec(key)
  if (!m?.[1] || !m[2]) return undefined
  const kind = m[1] as OpKind
  if (kind !== 'release') return { kind, target: m[2] }
  const at = m[2].lastIndexOf('@')
  if (at <= 0) return undefined
  return { kind, target: m[2].slice(0, at), node: m[2].slice(at + 1) }
}

/** a beats b: a higher version, or the same version from the larger node name. */
export function newer(a: OpEntry, b: OpEntry | undefined): boolean {
  if (!b) return true
  if (a.ver !== b.ver) return a.ver > b.ver
  return a.node > b.node
}

export function validEntry(x: unknown): x is OpEntry {
  if (typeof x !== 'object' || x === null) return false
  const e = x as Record<string, unknown>
  const v = e.v
  return (
    (v === null || typeof v === 'boolean' || (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 65535)) &&
    typeof e.ver === 'number' &&
    Number.isSafeInteger(e.ver) &&
    e.ver >= 0 &&
    typeof e.node === 'string' &&
    e.node.length > 0 &&
    e.node.length <= 64
  )
}

export class OperatorState {
  private readonly entries = new Map<string, OpEntry>()

  constructor(initial?: Record<string, OpEntry>) {
    if (initial) this.merge(initial)
  }

  get(key: string): OpEntry | undefined {
    return this.entries.get(key)
  }

  /** Records a local action; returns the entry (unchanged when the value is already in force). */
  setLocal(key: string, v: OpValue, node: string, nowWallMs: number): OpEntry {
    const prev = this.entries.get(key)
    if (prev && prev.v === v) return prev
    const e = { v, ver: Math.max((prev?.ver ?? 0) + 1, Math.floor(nowWallMs)), node }
    this.entries.set(key, e)
    return e
  }

  /** Takes every remote entry that beats ours; returns the keys whose value changed. */
  merge(remote: Record<string, OpEntry>): string[] {
    const changed: string[] = []
    for (const [key, e] of Object.entries(remote)) {
      if (!validEntry(e) || !parseKey(key)) continue
      const prev = this.entries.get(key)
      if (!newer(e, prev)) continue
      this.entries.set(key, { v: e.v, ver: e.ver, node: e.node })
      if (prev?.v !== e.v) changed.push(key)
    }
    return changed
  }

  toJSON(): Record<string, OpEntry> {
    return Object.fromEntries([...this.entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  }

  keys(): string[] {
    return [...this.entries.keys()]
  }
}
