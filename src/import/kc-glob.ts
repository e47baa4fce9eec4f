// keepalived's include patterns: glob(3) with csh brace expansion, matched one path segment at a
// time against names listed through SourceFs; results sorted per pattern as glob(3) sorts them.
import type { SourceFs } from './kc-types.js'

/** "{a,b{c,d}}x" → ["ax", "bcx", "bdx"]; a brace without a comma stays literal. */
export function expandBraces(pattern: string): string[] {
  let depth = 0
  let open = -1
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]
    if (ch === '\\') {
      i++
      continue
    }
    if (ch === '{') {
      if (depth === 0) open = i
      depth++
    } else if (ch === '}' && depth > 0) {
      depth--
      if (depth === 0) {
        const inner = pattern.slice(open + 1, i)
        const alts = splitTop(inner)
        if (alts.length < 2) continue
        const head = pattern.slice(0, open)
        const tail = pattern.slice(i + 1)
        return alts.flatMap((a) => expandBraces(head + a + tail))
      }
    }
  }
  return [pattern]
}

/** Splits at commas outside braces: "a,{b,c},d" → ["a", "{b,c}", "d"]. */
export function splitTop(s: string): string[] {
  const out: string[] = []
  let depth = 0
  let cur = ''
  for (const ch of s) {
    if (ch === '{') depth++
    if (ch === '}') depth--
    if (ch === ',' && depth === 0) {
      out.push(cur)
      cur = ''
    } else cur += ch
  }
  out.push(cur)
  return out
}

const MAGIC = /[*?[]/

function segmentRegExp(seg: string): RegExp {
  let re = '^'
  for (let i = 0; i < seg.length; i++) {
    const ch = seg[i] as string
    if (ch === '*') re += '[^/]*'
    else if (ch === '?') re += '[^/]'
    else if (ch === '[') {
      const close = seg.indexOf(']', i + 2)
      if (close < 0) re += '\\['
      else {
        let cls = seg.slice(i + 1, close)
        if (cls.startsWith('!')) cls = `^${cls.slice(1)}`
        re += `[${cls.replace(/\\/g, '\\\\')}]`
        i = close
      }
    } else re += ch.replace(/[.+^${}()|\\]/g, '\\$&')
  }
  return new RegExp(`${re}$`)
}

/** Files matching an absolute include pattern, in glob(3) order. */
export function expandInclude(pattern: string, fs: SourceFs): string[] {
  const out: string[] = []
  for (const p of expandBraces(pattern)) {
    const segs = p.split('/').filter((s, i) => s !== '' || i === 0)
    let paths = ['']
    for (const seg of segs.slice(1)) {
      if (!MAGIC.test(seg)) {
        paths = paths.map((d) => `${d}/${seg}`)
        continue
      }
      const re = segmentRegExp(seg)
      paths = paths.flatMap((d) =>
        fs
          .list(d === '' ? '/' : d)
          .filter((n) => re.test(n) && (!n.startsWith('.') || seg.startsWith('.')))
          .sort()
          .map((n) => `${d}/${n}`),
      )
    }
    out.push(...paths.filter((f) => fs.read(f) !== undefined))
  }
  return out
}
