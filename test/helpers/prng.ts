// The one seeded PRNG of the tests and benches (mulberry32): fuzz and model runs repeat exactly
// from their seed, and a failure names the seed that reproduces it.
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = a
    x = Math.imul(x ^ (x >>> 15), x | 1)
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61)
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

/** The same sequence as unsigned 32-bit integers. */
export function prngU32(seed: number): () => number {
  const next = prng(seed)
  return () => Math.floor(next() * 4294967296) >>> 0
}
