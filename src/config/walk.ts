// The validation context: collects issues with source offsets, and remembers where each output
// object came from (path and offsets per key) so later semantic checks can point at the right node.
import { type Document, isAlias, isMap, isScalar, isSeq, type LineCounter, type Node as YNode } from 'yaml'

export interface Issue {
  readonly offset: number
  readonly line: number
  readonly col: number
  readonly path: string
  readonly message: string
}

interface Origin {
  path: string
  offset: number
  /** Per key or index: offset of the key (maps) and of the value. */
  keys: Map<string | number, { key: number; value: number }>
}

const ORIGINS = new WeakMap<object, Origin>()
/** Lists that lost an invalid item: checks that need every entry (references, sums) skip them. */
const INCOMPLETE = new WeakSet<object>()

export function markIncomplete(list: object): void {
  INCOMPLETE.add(list)
}

export function isComplete(list: object): boolean {
  return !INCOMPLETE.has(list)
}

export function originOf(o: object): Origin | undefined {
  return ORIGINS.get(o)
}

export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`
  return base === '' ? key : `${base}.${key}`
}

export class Ctx {
  readonly issues: Issue[] = []
  readonly warnings: Issue[] = []
  /** Empty values (`key:` with nothing after) have no range of their own; report them at their key. */
  readonly keyOffsetOf = new WeakMap<object, number>()
  constructor(
    readonly doc: Document,
    readonly text: string,
    readonly lc: LineCounter,
  ) {}

  offsetOf(node: YNode | null | undefined): number {
    if (!node) return 0
    const k = this.keyOffsetOf.get(node)
    const r = node.range
    if (k !== undefined && (!r || r[0] === r[1] || (isScalar(node) && node.value === null))) return k
    return r ? r[0] : (k ?? 0)
  }

  reportAt(offset: number, path: string, message: string): void {
    const { line, col } = this.lc.linePos(offset)
    this.issues.push({ offset, line, col, path, message })
  }

  report(node: YNode | null | undefined, path: string, message: string): void {
    this.reportAt(this.offsetOf(node), path, message)
  }

  remember(out: object, path: string, offset: number): Origin {
    const o: Origin = { path, offset, keys: new Map() }
    ORIGINS.set(out, o)
    return o
  }

  resolve(node: YNode): YNode {
    if (!isAlias(node)) return node
    return (node.resolve(this.doc) as YNode | undefined) ?? node
  }
}

function locate(obj: object, key: string | number | undefined, at: 'key' | 'value'): { offset: number; path: string } {
  const o = ORIGINS.get(obj)
  if (!o) throw new Error(`internal: no origin recorded for ${JSON.stringify(key)}`)
  if (key === undefined) return { offset: o.offset, path: o.path }
  const k = o.keys.get(key)
  return { offset: k ? k[at] : o.offset, path: joinPath(o.path, key) }
}

/** Reports a semantic issue at obj[key] (the value, or the object itself when the key is absent). */
export function reportOn(
  ctx: Ctx,
  obj: object,
  key: string | number | undefined,
  message: string,
  at: 'key' | 'value' = 'value',
): void {
  const l = locate(obj, key, at)
  ctx.reportAt(l.offset, l.path, message)
}

export function warnOn(ctx: Ctx, obj: object, key: string | number | undefined, message: string): void {
  const l = locate(obj, key, 'value')
  const { line, col } = ctx.lc.linePos(l.offset)
  ctx.warnings.push({ offset: l.offset, line, col, path: l.path, message })
}

/** True when the key was written in the file (not filled in from a default). */
export function hasKey(obj: object, key: string): boolean {
  return ORIGINS.get(obj)?.keys.has(key) ?? false
}

/** "line N" of obj[key] (or of obj), for messages that point back at a first occurrence. */
export function lineOf(ctx: Ctx, obj: object, key?: string | number): string {
  const l = locate(obj, key, 'value')
  return `line ${ctx.lc.linePos(l.offset).line}`
}

export function pathOf(obj: object): string {
  return ORIGINS.get(obj)?.path ?? ''
}

export function describeNode(node: YNode | null | undefined, ctx: Ctx): string {
  const n = node ? ctx.resolve(node) : node
  if (!n) return 'nothing'
  if (isMap(n)) return 'a mapping'
  if (isSeq(n)) return 'a list'
  if (isScalar(n)) {
    const v = n.value
    if (v === null) return 'empty'
    if (typeof v === 'string') return JSON.stringify(v)
    if (typeof v === 'number') return `the number ${String(v)}`
    return String(v)
  }
  return 'an unsupported YAML node'
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)])
  for (let j = 0; j <= b.length; j++) d[0]![j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1)
      d[i]![j] = v
    }
  }
  return d[a.length]![b.length]!
}

/** " (did you mean 'priority'?)" when one candidate is close, else "". */
export function didYouMean(word: string, candidates: readonly string[]): string {
  let best = ''
  let bestD = Number.POSITIVE_INFINITY
  for (const c of candidates) {
    const dist = editDistance(word.toLowerCase(), c)
    if (dist < bestD) {
      best = c
      bestD = dist
    }
  }
  const limit = Math.max(1, Math.floor(Math.max(word.length, best.length) / 3))
  return bestD <= limit ? ` (did you mean '${best}'?)` : ''
}
