// The schema combinators: each declares a value's type, doc, default and range once, and knows how
// to validate a YAML AST node (errors with the node's position) and how to describe itself as JSON Schema.
import { isAlias, isScalar, type Scalar, type Node as YNode } from 'yaml'
import {
  type Addr,
  type Family,
  formatAddr,
  formatPrefix,
  hasHostBits,
  isMulticast,
  isUnspecified,
  type Prefix,
  tryParseAddr,
  tryParsePrefix,
} from '../net/addr.js'
import { type Ctx, describeNode, didYouMean } from './walk.js'

export const BAD = Symbol('invalid')
export type Out<T> = T | typeof BAD
export type Json = Record<string, unknown>

/** How a field compares with keepalived's equivalent, for the docs' "defaults that differ" table. */
export interface KeepalivedNote {
  readonly keepalived: string
  readonly why: string
}

export abstract class Schema<T> {
  doc = ''
  /** Absent in input: undefined in output (optional()) or the default (def()). */
  optionalFlag = false
  hasDefault = false
  defaultValue: T | undefined
  note: KeepalivedNote | undefined
  abstract readonly kind: string
  abstract parse(node: YNode, ctx: Ctx, path: string): Out<T>
  abstract jsonBody(): Json
  /** The default as written in YAML (a duration as "1s", an address as text). */
  show(v: T): unknown {
    return v
  }
  /** Short type name for the reference docs. */
  abstract typeName(): string

  protected clone(): this {
    return Object.assign(Object.create(Object.getPrototypeOf(this)), this)
  }
  describe(doc: string): this {
    const c = this.clone()
    c.doc = doc
    return c
  }
  def(v: T): this {
    const c = this.clone()
    c.hasDefault = true
    c.defaultValue = v
    return c
  }
  optional(): Schema<T | undefined> {
    const c = this.clone()
    c.optionalFlag = true
    // an optional field inherits from elsewhere (resolve.ts); a default here would mask that
    c.hasDefault = false
    c.defaultValue = undefined
    return c as Schema<T | undefined>
  }
  differs(keepalived: string, why: string): this {
    const c = this.clone()
    c.note = { keepalived, why }
    return c
  }
  json(): Json {
    const j: Json = { ...this.jsonBody() }
    if (this.doc) j.description = this.doc
    if (this.hasDefault && this.defaultValue !== undefined) j.default = this.show(this.defaultValue)
    return j
  }
}

export type Infer<S> = S extends Schema<infer T> ? T : never

function scalarOf(node: YNode, ctx: Ctx): Scalar | undefined {
  const n = isAlias(node) ? node.resolve(ctx.doc) : node
  return n && isScalar(n) ? n : undefined
}

/** A scalar value of a given JS type, with a check hook; the rest of the scalar kinds build on it. */
export abstract class ScalarSchema<T> extends Schema<T> {
  abstract convert(s: Scalar, ctx: Ctx, path: string, node: YNode): Out<T>
  parse(node: YNode, ctx: Ctx, path: string): Out<T> {
    const s = scalarOf(node, ctx)
    if (!s || s.value === null) {
      ctx.report(node, path, `must be ${this.expect()}, not ${describeNode(node, ctx)}`)
      return BAD
    }
    return this.convert(s, ctx, path, node)
  }
  abstract expect(): string
}

class StrSchema extends ScalarSchema<string> {
  readonly kind = 'str'
  constructor(
    readonly pattern?: RegExp,
    readonly patternDoc?: string,
  ) {
    super()
  }
  expect(): string {
    return 'a string'
  }
  convert(s: Scalar, ctx: Ctx, path: string, node: YNode): Out<string> {
    if (typeof s.value !== 'string') {
      ctx.report(node, path, `must be a string, not ${describeNode(node, ctx)}`)
      return BAD
    }
    if (s.value === '') {
      ctx.report(node, path, 'must not be empty')
      return BAD
    }
    if (this.pattern && !this.pattern.test(s.value)) {
      ctx.report(node, path, `must be ${this.patternDoc}`)
      return BAD
    }
    return s.value
  }
  typeName(): string {
    return this.patternDoc ?? 'string'
  }
  jsonBody(): Json {
    return this.pattern ? { type: 'string', pattern: this.pattern.source } : { type: 'string', minLength: 1 }
  }
}

class IntSchema extends ScalarSchema<number> {
  readonly kind = 'int'
  constructor(
    readonly min: number,
    readonly max: number,
  ) {
    super()
  }
  expect(): string {
    return 'an integer'
  }
  convert(s: Scalar, ctx: Ctx, path: string, node: YNode): Out<number> {
    if (typeof s.value !== 'number' || !Number.isInteger(s.value)) {
      ctx.report(node, path, `must be an integer, not ${describeNode(node, ctx)}`)
      return BAD
    }
    if (s.value < this.min || s.value > this.max) {
      ctx.report(node, path, `must be ${this.min}..${this.max}`)
      return BAD
    }
    return s.value
  }
  typeName(): string {
    return `integer ${this.min}..${this.max}`
  }
  jsonBody(): Json {
    return { type: 'integer', minimum: this.min, maximum: this.max }
  }
}

class BoolSchema extends ScalarSchema<boolean> {
  readonly kind = 'bool'
  expect(): string {
    return 'true or false'
  }
  convert(s: Scalar, ctx: Ctx, path: string, node: YNode): Out<boolean> {
    if (typeof s.value !== 'boolean') {
      ctx.report(node, path, `must be true or false, not ${describeNode(node, ctx)}`)
      return BAD
    }
    return s.value
  }
  typeName(): string {
    return 'boolean'
  }
  jsonBody(): Json {
    return { type: 'boolean' }
  }
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
export const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/

export function formatDuration(ms: number): string {
  if (ms !== 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`
  if (ms !== 0 && ms % 60_000 === 0) return `${ms / 60_000}m`
  if (ms % 1000 === 0) return `${ms / 1000}s`
  return `${ms}ms`
}

class DurationSchema extends ScalarSchema<number> {
  readonly kind = 'duration'
  constructor(
    readonly min: number,
    readonly max: number,
    /** 1000: the kernel counts whole seconds. */
    readonly step: number,
  ) {
    super()
  }
  expect(): string {
    return 'a duration such as 500ms, 2s or 1m'
  }
  convert(s: Scalar, ctx: Ctx, path: string, node: YNode): Out<number> {
    if (typeof s.value === 'number') {
      ctx.report(node, path, `must be a duration with a unit, such as ${s.value}s or ${s.value}ms`)
      return BAD
    }
    const m = typeof s.value === 'string' ? DURATION_RE.exec(s.value) : null
    if (!m) {
      ctx.report(node, path, `must be ${this.expect()}, not ${describeNode(node, ctx)}`)
      return BAD
    }
    const ms = Number(m[1]) * (UNIT_MS[m[2]!] ?? 1)
    if (!Number.isInteger(ms)) {
      ctx.report(node, path, 'must be a whole number of milliseconds')
      return BAD
    }
    if (ms < this.min || ms > this.max) {
      ctx.report(node, path, `must be ${formatDuration(this.min)}..${formatDuration(this.max)}`)
      return BAD
    }
    if (ms % this.step !== 0) {
      ctx.report(node, path, 'must be a whole number of seconds (the kernel counts seconds)')
      return BAD
    }
    return ms
  }
  override show(v: number): unknown {
    return formatDuration(v)
  }
  typeName(): string {
    const whole = this.step === 1000 ? ', whole seconds' : ''
    return `duration ${formatDuration(this.min)}..${formatDuration(this.max)}${whole}`
  }
  jsonBody(): Json {
    return { type: 'string', pattern: DURATION_RE.source }
  }
}

class EnumSchema<T extends string | number> extends ScalarSchema<T> {
  readonly kind = 'enum'
  constructor(readonly values: readonly T[]) {
    super()
  }
  expect(): string {
    return `one of ${this.values.join(', ')}`
  }
  convert(s: Scalar, ctx: Ctx, path: string, node: YNode): Out<T> {
    const v = s.value as T
    if (this.values.includes(v)) return v
    const hint = typeof s.value === 'string' ? didYouMean(s.value, this.values.map(String)) : ''
    ctx.report(node, path, `must be one of ${this.values.join(', ')}${hint}`)
    return BAD
  }
  typeName(): string {
    return this.values.map((v) => `\`${v}\``).join(' | ')
  }
  jsonBody(): Json {
    return { enum: [...this.values] }
  }
}

export interface AddrOpts {
  family?: Family
  /** A host's own address: neither multicast nor unspecified. */
  unicast?: boolean
  multicast?: boolean
}

class AddrSchema extends ScalarSchema<Addr> {
  readonly kind = 'addr'
  constructor(readonly opts: AddrOpts) {
    super()
  }
  expect(): string {
    return this.opts.family ? `an IPv${this.opts.family} address` : 'an IP address'
  }
  convert(s: Scalar, ctx: Ctx, path: string, node: YNode): Out<Addr> {
    const a = typeof s.value === 'string' ? tryParseAddr(s.value) : undefined
    if (!a || (this.opts.family !== undefined && a.family !== this.opts.family)) {
      ctx.report(node, path, `must be ${this.expect()}, not ${describeNode(node, ctx)}`)
      return BAD
    }
    if (this.opts.unicast && isMulticast(a)) ctx.report(node, path, 'must be a unicast address, not multicast')
    else if (this.opts.unicast && isUnspecified(a)) ctx.report(node, path, 'must not be the unspecified address')
    else if (this.opts.multicast && !isMulticast(a)) ctx.report(node, path, 'must be a multicast address')
    else return a
    return BAD
  }
  override show(v: Addr): unknown {
    return formatAddr(v)
  }
  typeName(): string {
    const f = this.opts.family ? `IPv${this.opts.family} ` : 'IP '
    return `${this.opts.multicast ? 'multicast ' : ''}${f}address`
  }
  jsonBody(): Json {
    const f = this.opts.family
    if (f === 4) return { type: 'string', format: 'ipv4' }
    if (f === 6) return { type: 'string', format: 'ipv6' }
    return { type: 'string', anyOf: [{ format: 'ipv4' }, { format: 'ipv6' }] }
  }
}

class PrefixSchema extends ScalarSchema<Prefix> {
  readonly kind = 'prefix'
  /** network: the address part must have no host bits (a route or netmask, not an interface address). */
  constructor(readonly network: boolean) {
    super()
  }
  expect(): string {
    return this.network ? 'a network in CIDR notation' : 'an address with prefix length, such as 10.0.0.3/24'
  }
  convert(s: Scalar, ctx: Ctx, path: string, node: YNode): Out<Prefix> {
    const text = typeof s.value === 'string' ? s.value : ''
    const p = text.includes('/') ? tryParsePrefix(text) : undefined
    if (!p) {
      ctx.report(node, path, `must be ${this.expect()}, not ${describeNode(node, ctx)}`)
      return BAD
    }
    if (this.network && hasHostBits(p)) {
      const net = maskPrefix(p)
      ctx.report(node, path, `has host bits set (the network is ${formatPrefix(net)})`)
      return BAD
    }
    if (!this.network && (isMulticast(p.addr) || isUnspecified(p.addr))) {
      ctx.report(node, path, 'must be a unicast address')
      return BAD
    }
    return p
  }
  override show(v: Prefix): unknown {
    return formatPrefix(v)
  }
  typeName(): string {
    return this.network ? 'network (CIDR)' : 'address/prefix-length'
  }
  jsonBody(): Json {
    return { type: 'string', pattern: '^[0-9A-Fa-f:.]+/[0-9]{1,3}$' }
  }
}

export function maskPrefix(p: Prefix): Prefix {
  const bytes = Uint8Array.from(p.addr.bytes)
  for (let i = p.len; i < bytes.length * 8; i++) bytes[i >> 3] = (bytes[i >> 3] ?? 0) & ~(0x80 >> (i & 7))
  return { addr: { family: p.addr.family, bytes }, len: p.len }
}

/** A file mode; YAML reads 0660 as the decimal 660, so the digits are taken from the source text. */
class ModeSchema extends ScalarSchema<number> {
  readonly kind = 'mode'
  expect(): string {
    return 'an octal file mode such as 0660'
  }
  convert(s: Scalar, ctx: Ctx, path: string, node: YNode): Out<number> {
    const text = s.range ? ctx.text.slice(s.range[0], s.range[1]).replace(/^['"]|['"]$/g, '') : String(s.value)
    if (!/^0?[0-7]{3}$/.test(text)) {
      ctx.report(node, path, `must be ${this.expect()}`)
      return BAD
    }
    return Number.parseInt(text, 8)
  }
  override show(v: number): unknown {
    return `0${v.toString(8)}`
  }
  typeName(): string {
    return 'octal mode'
  }
  jsonBody(): Json {
    return { type: ['string', 'integer'], pattern: '^0?[0-7]{3}$' }
  }
}

export const str = (pattern?: RegExp, patternDoc?: string): Schema<string> => new StrSchema(pattern, patternDoc)
export const int = (min: number, max: number): Schema<number> => new IntSchema(min, max)
export const bool = (): Schema<boolean> => new BoolSchema()
export const duration = (min = 0, max = 86_400_000): Schema<number> => new DurationSchema(min, max, 1)
/** A duration the kernel keeps in whole seconds (IPVS timeouts, persistence). */
export const seconds = (min: number, max: number): Schema<number> => new DurationSchema(min, max, 1000)
export const enumOf = <const T extends string | number>(values: readonly T[]): Schema<T> => new EnumSchema(values)
export const addr = (opts: AddrOpts = {}): Schema<Addr> => new AddrSchema(opts)
export const prefix = (network = false): Schema<Prefix> => new PrefixSchema(network)
export const mode = (): Schema<number> => new ModeSchema()
