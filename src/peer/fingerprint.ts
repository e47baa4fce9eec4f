// Config fingerprints and the drift between two nodes' sets (docs/peer.md §Config drift). The caller
// passes plain data with the intended per-node differences (node name, priority, unicast source)
// already left out; a fingerprint is the first 16 hex digits of sha256 over canonical JSON (keys
// sorted, byte arrays as hex), so field order in the file never matters. Pure.
import { createHash } from 'node:crypto'

function canonical(x: unknown): unknown {
  if (x instanceof Uint8Array) return Buffer.from(x).toString('hex')
  if (Array.isArray(x)) return x.map(canonical)
  if (x && typeof x === 'object') {
    const o = x as Record<string, unknown>
    return Object.fromEntries(
      Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort()
        .map((k) => [k, canonical(o[k])]),
    )
  }
  return x
}

export function fingerprint(x: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(canonical(x)) ?? 'undefined')
    .digest('hex')
    .slice(0, 16)
}

export interface Drift {
  /** service:NAME, instance:NAME, sync */
  key: string
  kind: 'differs' | 'only-here' | 'only-peer'
}

/** Every key whose fingerprint differs or that one side lacks, sorted by key. */
export function drift(mine: Record<string, string>, theirs: Record<string, string>): Drift[] {
  const keys = [...new Set([...Object.keys(mine), ...Object.keys(theirs)])].sort()
  const out: Drift[] = []
  for (const key of keys) {
    const a = mine[key]
    const b = theirs[key]
    if (a === b) continue
    out.push({ key, kind: a === undefined ? 'only-peer' : b === undefined ? 'only-here' : 'differs' })
  }
  return out
}

export function describeDrift(d: readonly Drift[]): string {
  return d
    .map(
      (x) => `${x.key} ${x.kind === 'differs' ? 'differs' : x.kind === 'only-here' ? 'only here' : 'only on the peer'}`,
    )
    .join(', ')
}
