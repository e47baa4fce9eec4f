// Small statistics shared by the benches.

/** The p-th percentile (nearest rank) of xs, without reordering xs; NaN for no samples. */
export function pct(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? Number.NaN
}
