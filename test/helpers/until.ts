// Waiting on a condition with a wall-clock deadline (never a fixed sleep): polls fn every 20 ms
// (or stepMs) until it returns something other than undefined or false.
export async function until<T>(
  fn: () => T | undefined | false,
  ms = 5000,
  what = 'the condition',
  stepMs = 20,
): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = fn()
    if (v !== undefined && v !== false) return v
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, stepMs))
  }
}
