// keepalived.conf words and blocks: quoted strings (with keepalived's escapes), '{' and '}' as words
// of their own even without spaces ("name{", one-line blocks), '{' alone on the next line. Pure:
// preprocessed lines in, a statement tree with file:line:col out.
import type { SrcLine } from './kc-source.js'
import type { KcIssue, Loc, Stmt, Word } from './kc-types.js'

const ESC: Record<string, string> = { a: '\x07', b: '\b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' }

/** The words of one line; '{' and '}' outside quotes are words of their own. */
export function tokenize(l: SrcLine, errors: KcIssue[]): Word[] {
  const words: Word[] = []
  const { text, cols } = l
  const loc = (i: number): Loc => ({ file: l.file, line: l.line, col: cols[i] ?? cols[cols.length - 1] ?? 1 })
  let i = 0
  while (i < text.length) {
    const ch = text[i] as string
    if (/\s/.test(ch)) {
      i++
      continue
    }
    if (ch === '{' || ch === '}') {
      words.push({ text: ch, loc: loc(i) })
      i++
      continue
    }
    const start = i
    let word = ''
    let quote = ''
    while (i < text.length) {
      const c = text[i] as string
      if (quote) {
        if (c === quote) quote = ''
        else if (c === '\\' && i + 1 < text.length) {
          const [val, used] = unescape1(text, i + 1)
          word += val
          i += used
        } else word += c
        i++
        continue
      }
      if (/\s/.test(c) || c === '{' || c === '}') break
      if (c === '"' || c === "'") quote = c
      else word += c
      i++
    }
    if (quote) errors.push({ loc: loc(start), message: `unterminated ${quote === '"' ? 'double' : 'single'} quote` })
    words.push({ text: word, loc: loc(start) })
  }
  return words
}

/** The character an escape after a backslash stands for, and how many characters it used. */
function unescape1(text: string, i: number): [string, number] {
  const c = text[i] as string
  if (c in ESC) return [ESC[c] as string, 1]
  const oct = /^[0-7]{1,3}/.exec(text.slice(i))
  if (oct) return [String.fromCharCode(Number.parseInt(oct[0], 8)), oct[0].length]
  const hex = /^x([0-9a-fA-F]+)/.exec(text.slice(i))
  if (hex) return [String.fromCharCode(Number.parseInt((hex[1] as string).slice(-2), 16)), hex[0].length]
  if (c === 'c' && i + 1 < text.length) return [String.fromCharCode((text.charCodeAt(i + 1) & 0x1f) >>> 0), 2]
  return [c, 1]
}

/** Statements of the whole file: a statement ends at the end of its line, at '{' or at '}'. */
export function parse(lines: SrcLine[], errors: KcIssue[]): Stmt[] {
  const root: Stmt[] = []
  const stack: Array<{ list: Stmt[]; opener: Word | undefined }> = [{ list: root, opener: undefined }]
  const top = () => stack[stack.length - 1] as { list: Stmt[]; opener: Word | undefined }
  for (const l of lines) {
    let cur: Word[] = []
    const flush = () => {
      if (cur.length > 0) top().list.push({ key: cur[0] as Word, args: cur.slice(1) })
      cur = []
    }
    for (const w of tokenize(l, errors)) {
      if (w.text === '{') {
        let owner: Stmt | undefined
        if (cur.length > 0) {
          owner = { key: cur[0] as Word, args: cur.slice(1) }
          top().list.push(owner)
          cur = []
        } else {
          // '{' starting a line opens the block of the statement on the line before.
          const prev = top().list[top().list.length - 1]
          if (prev && prev.block === undefined) owner = prev
        }
        if (!owner) {
          errors.push({ loc: w.loc, message: "'{' without a keyword before it" })
          owner = { key: { text: '', loc: w.loc }, args: [] }
        }
        owner.block = []
        stack.push({ list: owner.block, opener: owner.key })
      } else if (w.text === '}') {
        flush()
        if (stack.length === 1) errors.push({ loc: w.loc, message: "'}' without a block to close" })
        else stack.pop()
      } else cur.push(w)
    }
    flush()
  }
  for (const s of stack.slice(1)) {
    const opener = s.opener as Word
    errors.push({ loc: opener.loc, message: `the block of '${opener.text}' is never closed (missing '}')` })
  }
  return root
}
