// Structural schema combinators (mapping, list, tagged union, scalar-or-mapping) over the YAML AST:
// unknown and duplicate keys are errors, every error keeps its node's position.
import { isMap, isScalar, isSeq, type YAMLMap, type Node as YNode } from 'yaml'
import { BAD, enumOf, type Infer, type Json, type Out, Schema } from './dsl.js'
import { type Ctx, describeNode, didYouMean, joinPath, markIncomplete } from './walk.js'

// biome-ignore lint/suspicious/noExplicitAny: the field table holds schemas of every output type
export type Fields = Record<string, Schema<any>>
export type ObjOut<F extends Fields> = { -readonly [K in keyof F]: Infer<F[K]> }

/** Absent from the input: undefined, the declared default, or (orEmpty) the value of an empty node. */
function absentValue<T>(s: Schema<T>): { ok: true; value: T | undefined } | { ok: false } {
  if (s.hasDefault) return { ok: true, value: structuredClone(s.defaultValue) }
  if (s instanceof ObjSchema && s.emptyOk) return { ok: true, value: s.emptyValue() as T }
  if (s instanceof ArrSchema && s.emptyOk) return { ok: true, value: [] as T }
  if (s.optionalFlag) return { ok: true, value: undefined }
  return { ok: false }
}

export class ObjSchema<F extends Fields> extends Schema<ObjOut<F>> {
  readonly kind = 'obj'
  emptyOk = false
  constructor(readonly fields: F) {
    super()
  }
  /** An absent mapping means all its defaults (every field must have one or be optional). */
  orEmpty(): this {
    const c = this.clone()
    c.emptyOk = true
    return c
  }
  emptyValue(): ObjOut<F> {
    const out: Record<string, unknown> = {}
    for (const [k, s] of Object.entries(this.fields)) {
      const a = absentValue(s)
      if (!a.ok) throw new Error(`internal: ${k} has no default but its mapping is orEmpty`)
      out[k] = a.value
    }
    return out as ObjOut<F>
  }
  parse(node: YNode, ctx: Ctx, path: string): Out<ObjOut<F>> {
    const n = ctx.resolve(node)
    if (!isMap(n)) {
      ctx.report(node, path, `must be a mapping, not ${describeNode(node, ctx)}`)
      return BAD
    }
    return this.parseMap(n as YAMLMap<YNode, YNode | null>, ctx, path)
  }
  parseMap(map: YAMLMap<YNode, YNode | null>, ctx: Ctx, path: string, skip?: string): Out<ObjOut<F>> {
    const r = this.parsePartial(map, ctx, path, skip)
    return r.ok ? r.out : BAD
  }
  /** The fields that parsed, even when others did not (the root uses it to check sound sections). */
  parsePartial(
    map: YAMLMap<YNode, YNode | null>,
    ctx: Ctx,
    path: string,
    skip?: string,
  ): { ok: boolean; out: Partial<ObjOut<F>> & ObjOut<F> } {
    const out: Record<string, unknown> = {}
    const mapOffset = ctx.offsetOf(map)
    const origin = ctx.remember(out, path, mapOffset)
    const seen = new Map<string, number>()
    const names = Object.keys(this.fields)
    let ok = true
    for (const pair of map.items) {
      const keyNode = pair.key
      const keyOffset = ctx.offsetOf(keyNode)
      if (!isScalar(keyNode) || typeof keyNode.value !== 'string') {
        ctx.report(keyNode, path, `keys must be plain strings, not ${describeNode(keyNode, ctx)}`)
        ok = false
        continue
      }
      const key = keyNode.value
      const valuePath = joinPath(path, key)
      const first = seen.get(key)
      if (first !== undefined) {
        ctx.reportAt(keyOffset, valuePath, `duplicate key (first at line ${ctx.lc.linePos(first).line})`)
        ok = false
        continue
      }
      seen.set(key, keyOffset)
      if (key === skip) continue
      const schema = this.fields[key]
      if (!schema) {
        const hint = didYouMean(key, names)
        ctx.reportAt(keyOffset, valuePath, `unknown key${hint || ` (known keys: ${names.join(', ')})`}`)
        ok = false
        continue
      }
      const valueNode = pair.value
      if (valueNode) ctx.keyOffsetOf.set(valueNode, keyOffset)
      origin.keys.set(key, { key: keyOffset, value: valueNode ? ctx.offsetOf(valueNode) : keyOffset })
      if (!valueNode) {
        ctx.reportAt(keyOffset, valuePath, 'has no value')
        ok = false
        continue
      }
      const v = schema.parse(valueNode, ctx, valuePath)
      if (v === BAD) ok = false
      else out[key] = v
    }
    for (const [key, schema] of Object.entries(this.fields)) {
      if (seen.has(key) || key === skip) continue
      const a = absentValue(schema)
      if (a.ok) {
        out[key] = a.value
        // defaults filled in have no node of their own: checks about them point at the parent
        if (a.value !== null && typeof a.value === 'object') ctx.remember(a.value, joinPath(path, key), mapOffset)
      } else {
        ctx.reportAt(mapOffset, joinPath(path, key), 'required key missing')
        ok = false
      }
    }
    return { ok, out: out as ObjOut<F> }
  }
  typeName(): string {
    return 'mapping'
  }
  jsonBody(): Json {
    const properties: Record<string, Json> = {}
    const required: string[] = []
    for (const [k, s] of Object.entries(this.fields)) {
      properties[k] = s.json()
      if (absentValue(s).ok === false) required.push(k)
    }
    const j: Json = { type: 'object', additionalProperties: false, properties }
    if (required.length > 0) j.required = required
    return j
  }
  override json(): Json {
    // an object's default is its fields' defaults, shown there, not repeated here
    const j = super.json()
    delete j.default
    return j
  }
}

export class ArrSchema<T> extends Schema<T[]> {
  readonly kind = 'arr'
  emptyOk = false
  dropBad = false
  constructor(
    readonly item: Schema<T>,
    readonly min: number,
    readonly max: number,
  ) {
    super()
  }
  orEmpty(): this {
    const c = this.clone()
    c.emptyOk = true
    return c
  }
  /**
   * A list of whole entities (instances, services…): an invalid item is dropped and the list
   * marked incomplete instead of failing the list, so the valid entities still get their semantic
   * checks. The file has failed anyway (an issue is recorded); nothing partial is ever returned.
   */
  entities(): this {
    const c = this.clone()
    c.dropBad = true
    return c
  }
  parse(node: YNode, ctx: Ctx, path: string): Out<T[]> {
    const n = ctx.resolve(node)
    if (!isSeq(n)) {
      ctx.report(node, path, `must be a list, not ${describeNode(node, ctx)}`)
      return BAD
    }
    const out: T[] = []
    const origin = ctx.remember(out, path, ctx.offsetOf(n))
    let ok = true
    n.items.forEach((item, i) => {
      const itemNode = item as YNode | null
      const at = itemNode ? ctx.offsetOf(itemNode) : ctx.offsetOf(n)
      origin.keys.set(i, { key: at, value: at })
      if (!itemNode) {
        ctx.reportAt(at, joinPath(path, i), 'empty list item')
        ok = false
        return
      }
      const v = this.item.parse(itemNode, ctx, joinPath(path, i))
      if (v === BAD) ok = false
      else out.push(v)
    })
    if (ok && (out.length < this.min || out.length > this.max)) {
      const range = this.max === Number.POSITIVE_INFINITY ? `at least ${this.min}` : `${this.min}..${this.max}`
      ctx.report(
        n,
        path,
        `must have ${range} item${range === '1' || range === 'at least 1' ? '' : 's'}, not ${out.length}`,
      )
      return BAD
    }
    if (ok) return out
    if (!this.dropBad) return BAD
    markIncomplete(out)
    return out
  }
  typeName(): string {
    return `list of ${this.item.typeName()}`
  }
  jsonBody(): Json {
    const j: Json = { type: 'array', items: this.item.json() }
    if (this.min > 0) j.minItems = this.min
    if (this.max !== Number.POSITIVE_INFINITY) j.maxItems = this.max
    return j
  }
}

type TaggedOut<K extends string, V extends Record<string, ObjSchema<Fields>>> = {
  [T in keyof V]: { [P in K]: T } & Infer<V[T]>
}[keyof V]

export class TaggedSchema<K extends string, V extends Record<string, ObjSchema<Fields>>> extends Schema<
  TaggedOut<K, V>
> {
  readonly kind = 'tagged'
  constructor(
    readonly tag: K,
    readonly variants: V,
  ) {
    super()
  }
  parse(node: YNode, ctx: Ctx, path: string): Out<TaggedOut<K, V>> {
    const n = ctx.resolve(node)
    if (!isMap(n)) {
      ctx.report(node, path, `must be a mapping, not ${describeNode(node, ctx)}`)
      return BAD
    }
    const map = n as YAMLMap<YNode, YNode | null>
    const tagPair = map.items.find((p) => isScalar(p.key) && p.key.value === this.tag)
    const names = Object.keys(this.variants)
    if (!tagPair) {
      ctx.report(map, joinPath(path, this.tag), `required key missing (one of ${names.join(', ')})`)
      return BAD
    }
    const tagPath = joinPath(path, this.tag)
    const which = enumOf(names).parse(tagPair.value ?? tagPair.key, ctx, tagPath)
    if (which === BAD) return BAD
    const out = this.variants[which]!.parseMap(map, ctx, path, this.tag)
    if (out === BAD) return BAD
    const tagged = out as Record<string, unknown>
    tagged[this.tag] = which
    return out as TaggedOut<K, V>
  }
  typeName(): string {
    return `mapping, by \`${this.tag}\`: ${Object.keys(this.variants).join(', ')}`
  }
  jsonBody(): Json {
    const oneOf = Object.entries(this.variants).map(([name, v]) => {
      const j = v.json()
      const props = { [this.tag]: { const: name }, ...(j.properties as Json) }
      return { ...j, properties: props, required: [this.tag, ...((j.required as string[]) ?? [])] }
    })
    return { type: 'object', required: [this.tag], oneOf }
  }
}

/** A short scalar form (e.g. `10.0.0.3/24`) or the full mapping form of the same thing. */
export class EitherSchema<S, T extends object> extends Schema<T> {
  readonly kind = 'either'
  constructor(
    readonly short: Schema<S>,
    readonly full: Schema<T>,
    readonly expand: (s: S) => T,
  ) {
    super()
  }
  parse(node: YNode, ctx: Ctx, path: string): Out<T> {
    const n = ctx.resolve(node)
    if (!isScalar(n)) return this.full.parse(node, ctx, path)
    const s = this.short.parse(node, ctx, path)
    if (s === BAD) return BAD
    const out = this.expand(s)
    ctx.remember(out, path, ctx.offsetOf(node))
    return out
  }
  typeName(): string {
    return `${this.short.typeName()} or mapping`
  }
  jsonBody(): Json {
    return { anyOf: [this.short.json(), this.full.json()] }
  }
}

export const obj = <F extends Fields>(fields: F): ObjSchema<F> => new ObjSchema(fields)
export const arr = <T>(item: Schema<T>, min = 0, max = Number.POSITIVE_INFINITY): ArrSchema<T> =>
  new ArrSchema(item, min, max)
export const tagged = <K extends string, V extends Record<string, ObjSchema<Fields>>>(
  tag: K,
  variants: V,
): TaggedSchema<K, V> => new TaggedSchema(tag, variants)
export const either = <S, T extends object>(
  short: Schema<S>,
  full: Schema<T>,
  expand: (s: S) => T,
): EitherSchema<S, T> => new EitherSchema(short, full, expand)
