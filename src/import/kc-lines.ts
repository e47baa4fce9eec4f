// Line-level pieces of keepalived's reader: comments, look-alike spaces, splitting expanded text,
// the value lists of ~SEQ and ~LST. Pure.
import { splitTop } from './kc-glob.js'

// Characters that look like a space but are not whitespace to keepalived's parser: a word containing
// one is silently a different word there (e.g. "priority\u00a0100" is an unknown keyword).
export const LOOKALIKE: Record<string, string> = {
  '\u00a0': 'no-break space (U+00A0)',
  '\u1680': 'ogham space (U+1680)',
  '\u2000': 'en quad (U+2000)',
  '\u2001': 'em quad (U+2001)',
  '\u2002': 'en space (U+2002)',
  '\u2003': 'em space (U+2003)',
  '\u2004': 'three-per-em space (U+2004)',
  '\u2005': 'four-per-em space (U+2005)',
  '\u2006': 'six-per-em space (U+2006)',
  '\u2007': 'figure space (U+2007)',
  '\u2008': 'punctuation space (U+2008)',
  '\u2009': 'thin space (U+2009)',
  '\u200a': 'hair space (U+200A)',
  '\u200b': 'zero-width space (U+200B)',
  '\u202f': 'narrow no-break space (U+202F)',
  '\u205f': 'medium mathematical space (U+205F)',
  '\u3000': 'ideographic space (U+3000)',
  '\ufeff': 'zero-width no-break space / byte-order mark (U+FEFF)',
}
/** The line without its comment ('#' or '!' outside quotes), right-trimmed, with source columns. */
export function stripComment(raw: string): { text: string; cols: number[] } {
  let quote = ''
  let end = raw.length
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i] as string
    if (quote) {
      if (ch === '\\') i++
      else if (ch === quote) quote = ''
    } else if (ch === '"' || ch === "'") quote = ch
    else if (ch === '#' || ch === '!') {
      end = i
      break
    }
  }
  const text = raw.slice(0, end).replace(/\s+$/, '')
  return { text, cols: text.split('').map((_, i) => i + 1) }
}

export function splitLines(text: string, cols: number[]): Array<{ text: string; cols: number[] }> {
  const out: Array<{ text: string; cols: number[] }> = []
  let start = 0
  for (let i = 0; i <= text.length; i++) {
    if (i === text.length || text[i] === '\n') {
      out.push({ text: text.slice(start, i), cols: cols.slice(start, i) })
      start = i + 1
    }
  }
  return out
}

export function seqSets(inner: string, hex: boolean): Array<Array<[string, string]>> | string {
  const parts = inner.split(',').map((s) => s.trim())
  const name = parts[0] ?? ''
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return 'the first argument must be a variable name'
  const nums = parts.slice(1).map((p) => Number(p))
  if (nums.length < 1 || nums.length > 3 || nums.some((n) => !Number.isInteger(n))) return 'expects integers'
  let [start, step, end] = [0, 0, 0]
  if (nums.length === 1) {
    end = nums[0] as number
    start = end >= 0 ? 1 : -1
  } else {
    start = nums[0] as number
    end = nums[nums.length - 1] as number
  }
  step = nums.length === 3 ? (nums[1] as number) : end >= start ? 1 : -1
  if (step === 0) return 'step must not be 0'
  const out: Array<Array<[string, string]>> = []
  for (let v = start; step > 0 ? v <= end : v >= end; v += step) {
    out.push([[name, hex ? v.toString(16) : String(v)]])
    if (out.length > 100000) return 'more than 100000 values'
  }
  return out
}

export function lstSets(inner: string): Array<Array<[string, string]>> | string {
  const groups = splitTop(inner).map((g) => g.trim())
  const strip = (g: string) =>
    g
      .replace(/^\{|\}$/g, '')
      .split(',')
      .map((s) => s.trim())
  const names = strip(groups[0] ?? '')
  if (names.some((n) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(n))) return 'the first argument must name the variables'
  const out: Array<Array<[string, string]>> = []
  for (const g of groups.slice(1)) {
    const vals = strip(g)
    if (vals.length !== names.length) return `${g} does not give ${names.length} values`
    out.push(names.map((n, i) => [n, vals[i] as string]))
  }
  return out.length === 0 ? 'needs at least one value' : out
}
