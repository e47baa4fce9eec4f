// Whole lines from a child's output stream: agents and benches speak one JSON object per line, and a
// chunk may end in the middle of one.
import type { Readable } from 'node:stream'

/** Calls `fn` with each complete, non-blank line `stream` produces (without its newline). */
export function onLines(stream: Readable | null | undefined, fn: (line: string) => void): void {
  let pending = ''
  stream?.setEncoding('utf8').on('data', (d: string) => {
    pending += d
    for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) {
      const line = pending.slice(0, i)
      pending = pending.slice(i + 1)
      if (line.trim()) fn(line)
    }
  })
}
