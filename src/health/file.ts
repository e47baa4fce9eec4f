// File check (keepalived FILE_CHECK): another program writes an integer to a file; it becomes the
// weight (0 keeps the server up but idle). A negative number, garbage or a missing file is a failure.
import { readFile } from 'node:fs/promises'
import { ProbeFailure, timed } from './probe.js'
import type { FileOptions, Result, Target } from './types.js'

/** The largest weight IPVS takes (a signed 32-bit field). */
const MAX_WEIGHT = 0x7fffffff

export function check(_target: Target, o: FileOptions, signal: AbortSignal): Promise<Result> {
  return timed(signal, async () => {
    let text: string
    try {
      text = await readFile(o.path, { encoding: 'utf8', signal })
    } catch (e) {
      if (signal.aborted) throw e
      throw new ProbeFailure(
        'file',
        `cannot read ${o.path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      )
    }
    const s = text.trim()
    if (!/^[+-]?\d+$/.test(s)) throw new ProbeFailure('file', `${o.path} does not hold an integer`)
    const n = Number(s) * (o.scale ?? 1)
    if (n < 0) throw new ProbeFailure('file', `${o.path} holds ${s}: negative means down`)
    const weight = Math.min(MAX_WEIGHT, Math.floor(n))
    return { detail: `${o.path}: weight ${weight}`, weight }
  })
}
