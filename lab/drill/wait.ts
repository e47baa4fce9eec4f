// Waiting on a condition with a wall-clock bound: every wait in a drill is one of these, never a
// fixed sleep standing in for "it has probably happened by now".

export class DrillTimeout extends Error {
  override readonly name = 'DrillTimeout'
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

export async function until(
  what: string,
  ms: number,
  cond: () => boolean | Promise<boolean>,
  stepMs = 100,
): Promise<void> {
  const end = Date.now() + ms
  for (;;) {
    if (await cond()) return
    if (Date.now() > end) throw new DrillTimeout(`gave up after ${Math.round(ms / 1000)} s waiting for ${what}`)
    await sleep(stepMs)
  }
}
