// keepalived.conf(5) as keepalived 2.2 reads it, line by line: includes, comments, `@id` conditional
// lines, `$NAME=` definitions (multi-line too) and their expansion, built-in ${_PWD} ${_INSTANCE}
// ${_HASH} ${_BANG} ${_RANDOM}, ~SEQ/~LST lines. Pure: the file system comes in as SourceFs.
import { dirname, isAbsolute, join } from 'node:path'
import { expandInclude } from './kc-glob.js'
import { LOOKALIKE, lstSets, seqSets, splitLines, stripComment } from './kc-lines.js'
import type { KcIssue, Loc, SourceFs } from './kc-types.js'

/** One logical line after preprocessing; cols[i] is the source column of text[i] (1-based). */
export interface SrcLine {
  text: string
  cols: number[]
  file: string
  line: number
}

interface Def {
  value: string
  cols: number[]
  multi: boolean
}

interface Expanded {
  text: string
  cols: number[]
  multi: boolean
  /** Multi-line definitions this line expanded (their lines are being processed in turn). */
  names?: string[]
}

const INCLUDE = /^\s*(include[rmwbat]?)\s+(.*?)\s*$/
const DEFINE = /^\s*\$([A-Za-z_][A-Za-z0-9_]*)=(.*)$/
const MAX_DEPTH = 32
// Bounds on expansion: "$A=$A $A" doubles per level, and ~SEQ lines multiply.
const MAX_LINE = 65536
const MAX_LINES = 1_000_000
const MAX_STEPS = 2_000_000

export interface ReadOptions {
  /** keepalived's config-id (-i); lines `@id` are kept only when it matches. */
  configId: string
  /** ${_RANDOM} has no reproducible value: it becomes its lower bound (and a note). */
  fs: SourceFs
}

export interface ReadResult {
  lines: SrcLine[]
  errors: KcIssue[]
  notes: KcIssue[]
  files: string[]
}

export function readKeepalived(path: string, opts: ReadOptions): ReadResult {
  const r = new Reader(opts)
  r.readFile(path, undefined)
  return { lines: r.out, errors: r.errors, notes: r.notes, files: r.files }
}

class Reader {
  readonly out: SrcLine[] = []
  readonly errors: KcIssue[] = []
  readonly notes: KcIssue[] = []
  readonly files: string[] = []
  private readonly defs = new Map<string, Def>()
  private readonly stack: string[] = []
  private pwd = ''
  private steps = 0
  private readonly expanding: string[] = []

  constructor(private readonly opts: ReadOptions) {}

  readFile(path: string, from: Loc | undefined): void {
    if (this.stack.includes(path)) {
      this.errors.push({ loc: from ?? at(path, 1, 1), message: `include loop: ${path} includes itself` })
      return
    }
    const text = this.opts.fs.read(path)
    if (text === undefined) {
      this.errors.push({ loc: from ?? at(path, 1, 1), message: `cannot read ${path}` })
      return
    }
    this.files.push(path)
    this.stack.push(path)
    const savedPwd = this.pwd
    this.pwd = dirname(path)
    const phys = text.split('\n')
    let multi: { name: string; def: Def } | undefined
    for (let i = 0; i < phys.length; i++) {
      let raw = phys[i] as string
      if (raw.endsWith('\r')) raw = raw.slice(0, -1)
      const lineNo = i + 1
      raw = this.lookalikes(raw, path, lineNo)
      const { text: stripped, cols } = stripComment(raw)
      if (multi) {
        const cont = /\\\s*$/.test(stripped)
        const body = cont ? stripped.replace(/\\\s*$/, '') : stripped
        multi.def.value += (multi.def.value === '' ? '' : '\n') + body
        multi.def.cols.push(...cols.slice(0, body.length), lineNo)
        if (!cont) {
          this.defs.set(multi.name, multi.def)
          multi = undefined
        }
        continue
      }
      if (stripped.trim() === '') continue
      const inc = INCLUDE.exec(stripped)
      if (inc) {
        this.include(inc[1] as string, inc[2] as string, at(path, lineNo, (cols[0] ?? 1) + stripped.search(/\S/)))
        continue
      }
      multi = this.logical({ text: stripped, cols, file: path, line: lineNo }, 0)
    }
    if (multi) this.defs.set(multi.name, multi.def)
    this.pwd = savedPwd
    this.stack.pop()
  }

  private lookalikes(raw: string, file: string, line: number): string {
    let out = ''
    for (let c = 0; c < raw.length; c++) {
      const ch = raw[c] as string
      const what = LOOKALIKE[ch]
      if (what === undefined) {
        out += ch
        continue
      }
      this.errors.push({
        loc: at(file, line, c + 1),
        message: `${what} is not whitespace to keepalived (it becomes part of a word); replace it with a space`,
      })
      out += ' '
    }
    return out
  }

  private include(kw: string, pattern: string, loc: Loc): void {
    const pat = unquote(pattern)
    const abs = isAbsolute(pat) ? pat : join(this.pwd, pat)
    const files = expandInclude(abs, this.opts.fs)
    if (files.length === 0) {
      // Plain `include` never fails in keepalived; the checked variants do (includea, includem, ...).
      if (kw === 'include' || kw === 'includer')
        this.notes.push({ loc, message: `${kw}: no file matches ${pat} (keepalived ignores this too)` })
      else this.errors.push({ loc, message: `${kw}: no file matches ${pat}` })
      return
    }
    for (const f of files) this.readFile(f, loc)
  }

  /** Conditional, definition, substitution and sequences of one logical line; returns an open multi-line def. */
  private logical(l: SrcLine, depth: number): { name: string; def: Def } | undefined {
    // A definition used inside its own ~SEQ multiplies at every level: bound the total work.
    if (++this.steps > MAX_STEPS) {
      if (this.steps === MAX_STEPS + 1)
        this.errors.push({
          loc: at(l.file, l.line, l.cols[0] ?? 1),
          message: 'definitions and sequences expand without end',
        })
      return undefined
    }
    if (depth > MAX_DEPTH) {
      this.errors.push({ loc: at(l.file, l.line, l.cols[0] ?? 1), message: 'definitions expand into themselves' })
      return undefined
    }
    let { text, cols } = l
    const lead = text.search(/\S/)
    if (text[lead] === '@') {
      const m = /^@(\^?)(\S*)/.exec(text.slice(lead)) as RegExpExecArray
      const neg = m[1] === '^'
      const match = m[2] === this.opts.configId
      if (neg === match) return undefined
      const rest = lead + m[0].length
      text = text.slice(rest)
      cols = cols.slice(rest)
    }
    const def = DEFINE.exec(text)
    if (def) {
      const name = def[1] as string
      const eq = text.indexOf('=') + 1
      let value = def[2] as string
      let vcols = cols.slice(eq)
      const cont = /\\\s*$/.test(value)
      if (cont) {
        value = value.replace(/\\\s*$/, '').trim()
        if (value !== '')
          this.errors.push({
            loc: at(l.file, l.line, cols[eq] ?? 1),
            message: `multi-line definition $${name}: nothing may follow '=' but the '\\'`,
          })
        return { name, def: { value: '', cols: [], multi: true } }
      }
      const trimmed = value.replace(/^\s+/, '')
      vcols = vcols.slice(value.length - trimmed.length)
      value = trimmed.replace(/\s+$/, '')
      this.defs.set(name, { value, cols: vcols.slice(0, value.length), multi: false })
      return undefined
    }
    // ~SEQ/~LST first: the rest of the line ("$RS" of a multi-line definition) repeats per value.
    if (this.sequence(text, cols, l, depth)) return undefined
    const sub = this.substitute(text, cols, l, 0)
    // A definition may expand to a conditional ("$IF_MAIN=@main" then "$IF_MAIN priority 240").
    if (!sub.multi && sub.text !== text && sub.text.trimStart().startsWith('@'))
      return this.logical({ ...l, text: sub.text, cols: sub.cols }, depth + 1)
    if (sub.multi) {
      this.expanding.push(...(sub.names ?? []))
      try {
        return this.expandLines(sub, l, depth)
      } finally {
        this.expanding.length -= sub.names?.length ?? 0
      }
    }
    if (this.out.length >= MAX_LINES) {
      if (this.out.length === MAX_LINES)
        this.errors.push({
          loc: at(l.file, l.line, l.cols[0] ?? 1),
          message: `expands to more than ${MAX_LINES} lines`,
        })
      this.out.push({ ...l, text: '', cols: [] })
      return undefined
    }
    this.out.push({ ...l, text: sub.text, cols: sub.cols })
    return undefined
  }

  /** The lines of an expanded multi-line definition, each through conditionals, definitions and expansion. */
  private expandLines(sub: Expanded, l: SrcLine, depth: number): undefined {
    const parts = splitLines(sub.text, sub.cols)
    let open: { name: string; def: Def } | undefined
    for (const p of parts) {
      if (open) {
        open.def.value += (open.def.value === '' ? '' : '\n') + p.text.replace(/\\\s*$/, '')
        if (!/\\\s*$/.test(p.text)) {
          this.defs.set(open.name, open.def)
          open = undefined
        }
        continue
      }
      if (p.text.trim() === '') continue
      open = this.logical({ ...l, text: p.text, cols: p.cols }, depth + 1)
    }
    if (open) this.defs.set(open.name, open.def)
    return undefined
  }

  /** ~SEQ(var, start, step, end), ~SEQx(...) and ~LST(var, v1, ...) at the start of a line. */
  private sequence(text: string, cols: number[], l: SrcLine, depth: number): boolean {
    const lead = text.search(/\S/)
    const m = /^~(SEQx?|LST)\(/.exec(text.slice(lead))
    if (!m) return false
    const open = lead + m[0].length
    let level = 1
    let end = open
    while (end < text.length && level > 0) {
      if (text[end] === '(') level++
      else if (text[end] === ')') level--
      end++
    }
    const loc = at(l.file, l.line, cols[lead] ?? 1)
    if (level > 0) {
      this.errors.push({ loc, message: `~${m[1]}( is never closed` })
      return true
    }
    const inner = text.slice(open, end - 1)
    const rest = text.slice(end)
    const restCols = cols.slice(end)
    const sets = m[1] === 'LST' ? lstSets(inner) : seqSets(inner, m[1] === 'SEQx')
    if (typeof sets === 'string') {
      this.errors.push({ loc, message: `~${m[1]}(${inner}): ${sets}` })
      return true
    }
    for (const set of sets) {
      for (const [k, v] of set) this.defs.set(k, { value: v, cols: v.split('').map(() => loc.col), multi: false })
      this.logical({ ...l, text: rest, cols: restCols }, depth + 1)
    }
    return true
  }

  private substitute(text: string, cols: number[], l: SrcLine, depth: number): Expanded {
    let out = ''
    const outCols: number[] = []
    let multi = false
    const names: string[] = []
    let i = 0
    while (i < text.length) {
      const ch = text[i] as string
      const ref =
        ch === '$'
          ? /^\$\{([A-Za-z_][A-Za-z0-9_]*)((?:\s+\d+){0,2})\s*\}|^\$([A-Za-z_][A-Za-z0-9_]*)(?=\s|$)/.exec(
              text.slice(i),
            )
          : null
      const col = cols[i] ?? 1
      const name = ref ? ((ref[1] ?? ref[3]) as string) : undefined
      const value = name === undefined ? undefined : this.lookup(name, ref?.[2] ?? '', at(l.file, l.line, col))
      if (ref === null || value === undefined) {
        // An undefined parameter stays as written (keepalived leaves "$x" in scripts alone).
        out += ch
        outCols.push(col)
        i++
        continue
      }
      if (depth > MAX_DEPTH) {
        this.errors.push({ loc: at(l.file, l.line, col), message: `$${name} expands into itself` })
        return { text: out, cols: outCols, multi: false }
      }
      if (value.multi && this.expanding.includes(name as string)) {
        this.errors.push({ loc: at(l.file, l.line, col), message: `$${name} is used inside its own expansion` })
        return { text: out, cols: outCols, multi: false }
      }
      if (value.multi) names.push(name as string)
      // A multi-line value is split into lines by the caller, each expanded in turn (so definitions
      // inside it apply to the lines after them, as in keepalived.conf(5)'s nested example).
      const inner = value.multi
        ? { text: value.value, cols: [], multi: true }
        : this.substitute(
            value.value,
            value.value.split('').map(() => col),
            l,
            depth + 1,
          )
      if (inner.multi) multi = true
      names.push(...(inner.names ?? []))
      if (out.length + inner.text.length > MAX_LINE) {
        this.errors.push({
          loc: at(l.file, l.line, col),
          message: `$${name} expands to more than ${MAX_LINE} characters`,
        })
        return { text: out, cols: outCols, multi: false }
      }
      out += inner.text
      outCols.push(...(value.multi ? inner.text.split('').map(() => col) : inner.cols))
      i += ref[0].length
    }
    return { text: out, cols: outCols, multi, names }
  }

  private lookup(name: string, args: string, loc: Loc): Def | undefined {
    const plain = (v: string): Def => ({ value: v, cols: [], multi: false })
    switch (name) {
      case '_PWD':
        return plain(this.pwd)
      case '_INSTANCE':
        return plain(this.opts.configId)
      case '_HASH':
        return plain('#')
      case '_BANG':
        return plain('!')
      case '_RANDOM': {
        const [min] = args.trim().split(/\s+/).filter(Boolean)
        const v = min ?? '0'
        this.notes.push({
          loc,
          message: `\${_RANDOM${args}}: a random number each time keepalived starts; imported as ${v}`,
        })
        return plain(v)
      }
    }
    return this.defs.get(name)
  }
}

function at(file: string, line: number, col: number): Loc {
  return { file, line, col }
}

function unquote(s: string): string {
  return /^(["']).*\1$/.test(s) ? s.slice(1, -1) : s
}
