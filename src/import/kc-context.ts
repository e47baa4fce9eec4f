// The conversion's bookkeeping and keepalived's value rules: integers and timers with keepalived's
// ranges (a value keepalived rejects is an error here, never repaired), booleans, script strings.
import { formatAddr, type Prefix, tryParseAddr, tryParsePrefix } from '../net/addr.js'
import type { KcIssue, Loc, Stmt, Word } from './kc-types.js'
import type { Annotations } from './yaml-out.js'

export function where(loc: Loc): string {
  return `${loc.file}:${loc.line}`
}

export class Conv {
  readonly errors: KcIssue[] = []
  readonly notes: KcIssue[] = []
  readonly ann: Annotations = new WeakMap()
  /** Where each emitted block came from (to place lvsd check's findings in the keepalived source). */
  readonly srcs = new WeakMap<object, Loc>()

  constructor(readonly display: (file: string) => string) {}

  err(w: Word | Loc, message: string): undefined {
    const loc = 'loc' in w ? w.loc : w
    this.errors.push({ loc: { ...loc, file: this.display(loc.file) }, message })
    return undefined
  }

  /** Something with no lvsd equivalent: reported at the end of the run and as a comment in the output. */
  note(w: Word, why: string, keyword = w.text): string {
    const loc = { ...w.loc, file: this.display(w.loc.file) }
    const message = `${keyword}: ${why}`
    this.notes.push({ loc, message })
    return `${where(loc)}: ${message}`
  }

  /** Comments before an emitted object: its source, then the notes that concern it. */
  annotate<T extends object>(obj: T, src: Loc | undefined, notes: string[] = []): T {
    const before = [
      ...(src ? [`from ${where({ ...src, file: this.display(src.file) })}`] : []),
      ...notes.map((n) => `NOTE ${n}`),
    ]
    const prev = this.ann.get(obj)
    this.ann.set(obj, { ...prev, before: [...(prev?.before ?? []), ...before] })
    if (src) this.srcs.set(obj, { ...src, file: this.display(src.file) })
    return obj
  }

  /** Exactly n arguments (keyword given for the message). */
  args(s: Stmt, min: number, max = min): Word[] | undefined {
    if (s.args.length < min)
      return this.err(
        s.key,
        `${s.key.text}: expects ${min === max ? min : `${min} to ${max}`} argument${max === 1 ? '' : 's'}`,
      )
    if (s.args.length > max) return this.err(s.args[max] as Word, `${s.key.text}: unexpected '${s.args[max]?.text}'`)
    return s.args
  }

  int(w: Word | undefined, min: number, max: number, what: string): number | undefined {
    if (!w) return undefined
    if (!/^[-+]?\d+$/.test(w.text)) return this.err(w, `${what}: '${w.text}' is not an integer`)
    const n = Number(w.text)
    if (n < min || n > max) return this.err(w, `${what}: ${n} is outside the range ${min}..${max}`)
    return n
  }

  /** A keepalived <TIMER>: seconds, fractions allowed (microsecond resolution); returned in ms. */
  timer(w: Word | undefined, what: string, minS = 0, maxS = 2147483): number | undefined {
    if (!w) return undefined
    if (!/^\d+(\.\d+)?$/.test(w.text)) return this.err(w, `${what}: '${w.text}' is not a time in seconds`)
    const s = Number(w.text)
    if (s < minS || s > maxS) return this.err(w, `${what}: ${w.text} is outside the range ${minS}..${maxS} seconds`)
    return Math.round(s * 1000)
  }

  /** An optional <BOOL> argument (on|off|true|false|yes|no); no argument means true. */
  bool(s: Stmt): boolean | undefined {
    const a = s.args[0]
    if (!a) return true
    const t = a.text.toLowerCase()
    if (['on', 'true', 'yes'].includes(t)) return true
    if (['off', 'false', 'no'].includes(t)) return false
    return this.err(a, `${s.key.text}: '${a.text}' is not one of on|off|true|false|yes|no`)
  }

  addr(w: Word | undefined, what: string): string | undefined {
    if (!w) return undefined
    const a = tryParseAddr(w.text)
    return a ? formatAddr(a) : this.err(w, `${what}: '${w.text}' is not an IP address`)
  }

  prefix(w: Word, what: string): Prefix | undefined {
    const a = tryParseAddr(w.text.split('/')[0] ?? '')
    const p = tryParsePrefix(w.text, a?.family === 6 ? 128 : 32)
    return p ?? this.err(w, `${what}: '${w.text}' is not an address[/prefix]`)
  }

  /** Script words as keepalived runs them (no shell): unquoted spaces split, single quotes group. */
  argv(words: Word[]): string[] {
    return words.flatMap((w) => splitScript(w.text))
  }
}

/** "a 'b c' d" → ["a", "b c", "d"] (the string after keepalived's own quote removal). */
export function splitScript(s: string): string[] {
  const out: string[] = []
  let cur = ''
  let inQ = false
  let any = false
  for (const ch of s) {
    if (ch === "'") {
      inQ = !inQ
      any = true
    } else if (!inQ && /\s/.test(ch)) {
      if (cur !== '' || any) out.push(cur)
      cur = ''
      any = false
    } else cur += ch
  }
  if (cur !== '' || any) out.push(cur)
  return out
}

/** Milliseconds as an lvsd duration string: whole seconds as "Ns", else "Nms". */
export function duration(ms: number): string {
  if (ms % 3600000 === 0 && ms >= 3600000) return `${ms / 3600000}h`
  if (ms % 1000 === 0) return `${ms / 1000}s`
  return `${ms}ms`
}

/** An lvsd name (letters, digits, _ . -; at most 64) from any keepalived identifier. */
export function lvsdName(s: string): string {
  const n = s.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64)
  return n === '' ? '_' : n
}
