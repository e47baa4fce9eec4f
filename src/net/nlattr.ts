// Netlink attributes (struct nlattr, <linux/netlink.h>): TLV codec, typed readers and a builder.
// Integers are host order, which lvsd takes to be little-endian (x86-64, arm64); fields a family
// declares big-endian use the be16/be32 readers and writers. Unknown attributes are kept raw, so
// decode → encode gives back the same bytes.
import { LvsdError } from '../errors.js'

export const NLA_HDRLEN = 4
export const NLA_F_NESTED = 0x8000
export const NLA_F_NET_BYTEORDER = 0x4000
export const NLA_TYPE_MASK = 0x3fff

export interface Attr {
  /** Attribute type with the NESTED and NET_BYTEORDER bits masked off. */
  readonly type: number
  /** The masked-off flag bits (NLA_F_NESTED | NLA_F_NET_BYTEORDER), kept for lossless re-encoding. */
  readonly flags: number
  /** Payload without header or padding (a view into the decoded buffer). */
  readonly data: Buffer
}

export const align4 = (n: number): number => (n + 3) & ~3

// ---- codec triple over a list of attributes ----

export function size(attrs: readonly Attr[]): number {
  let n = 0
  for (const a of attrs) n += align4(NLA_HDRLEN + a.data.length)
  return n
}

export function encodeInto(attrs: readonly Attr[], buf: Buffer, off: number): number {
  let p = off
  for (const a of attrs) {
    const len = NLA_HDRLEN + a.data.length
    buf.writeUInt16LE(len, p)
    buf.writeUInt16LE((a.type & NLA_TYPE_MASK) | a.flags, p + 2)
    a.data.copy(buf, p + NLA_HDRLEN)
    buf.fill(0, p + len, p + align4(len))
    p += align4(len)
  }
  return p - off
}

export function encode(attrs: readonly Attr[]): Buffer {
  const buf = Buffer.alloc(size(attrs))
  encodeInto(attrs, buf, 0)
  return buf
}

/**
 * Decodes the attributes in buf[off, end). The last attribute may lack its padding (the kernel's
 * nla_ok() accepts that too); any other shortfall is LVSD_DECODE_TRUNCATED.
 */
export function decode(buf: Buffer, off = 0, end = buf.length): { value: Attr[]; bytes: number } {
  const out: Attr[] = []
  let p = off
  while (p < end) {
    if (end - p < NLA_HDRLEN) {
      throw new LvsdError('LVSD_DECODE_TRUNCATED', 'netlink attribute header cut short', { offset: p })
    }
    const len = buf.readUInt16LE(p)
    const rawType = buf.readUInt16LE(p + 2)
    if (len < NLA_HDRLEN) {
      throw new LvsdError('LVSD_DECODE_INVALID', `netlink attribute length ${len} is below 4`, { offset: p, len })
    }
    if (len > end - p) {
      throw new LvsdError('LVSD_DECODE_TRUNCATED', `netlink attribute of ${len} bytes overruns its container`, {
        offset: p,
        len,
        available: end - p,
      })
    }
    out.push({
      type: rawType & NLA_TYPE_MASK,
      flags: rawType & ~NLA_TYPE_MASK,
      data: buf.subarray(p + NLA_HDRLEN, p + len),
    })
    p = Math.min(p + align4(len), end)
  }
  return { value: out, bytes: p - off }
}

// ---- typed readers ----

function need(a: Attr, n: number, what: string): Buffer {
  if (a.data.length !== n) {
    throw new LvsdError(
      'LVSD_DECODE_INVALID',
      `attribute ${a.type}: a ${what} needs ${n} bytes, has ${a.data.length}`,
      {
        type: a.type,
        len: a.data.length,
      },
    )
  }
  return a.data
}

export const read = {
  u8: (a: Attr): number => need(a, 1, 'u8').readUInt8(0),
  u16: (a: Attr): number => need(a, 2, 'u16').readUInt16LE(0),
  u32: (a: Attr): number => need(a, 4, 'u32').readUInt32LE(0),
  s32: (a: Attr): number => need(a, 4, 's32').readInt32LE(0),
  u64: (a: Attr): bigint => need(a, 8, 'u64').readBigUInt64LE(0),
  be16: (a: Attr): number => need(a, 2, 'be16').readUInt16BE(0),
  be32: (a: Attr): number => need(a, 4, 'be32').readUInt32BE(0),
  /** Text up to the first NUL (NLA_NUL_STRING); a missing NUL is tolerated (NLA_STRING). */
  string: (a: Attr): string => {
    const nul = a.data.indexOf(0)
    return a.data.toString('utf8', 0, nul < 0 ? a.data.length : nul)
  },
  binary: (a: Attr): Buffer => a.data,
  nested: (a: Attr): Attrs => Attrs.decode(a.data),
}

/**
 * A decoded attribute list with lookup by type. Like the kernel's nla_parse(), a repeated type
 * resolves to its last occurrence; use all() for lists whose entries share a type.
 */
export class Attrs {
  private readonly byType = new Map<number, Attr>()

  constructor(readonly list: readonly Attr[]) {
    for (const a of list) this.byType.set(a.type, a)
  }

  static decode(buf: Buffer, off = 0, end = buf.length): Attrs {
    return new Attrs(decode(buf, off, end).value)
  }

  get(type: number): Attr | undefined {
    return this.byType.get(type)
  }
  has(type: number): boolean {
    return this.byType.has(type)
  }
  all(type: number): Attr[] {
    return this.list.filter((a) => a.type === type)
  }
  /** type → attribute (last occurrence wins). */
  toMap(): Map<number, Attr> {
    return new Map(this.byType)
  }

  u8(type: number): number | undefined {
    return this.map(type, read.u8)
  }
  u16(type: number): number | undefined {
    return this.map(type, read.u16)
  }
  u32(type: number): number | undefined {
    return this.map(type, read.u32)
  }
  s32(type: number): number | undefined {
    return this.map(type, read.s32)
  }
  u64(type: number): bigint | undefined {
    return this.map(type, read.u64)
  }
  be16(type: number): number | undefined {
    return this.map(type, read.be16)
  }
  be32(type: number): number | undefined {
    return this.map(type, read.be32)
  }
  string(type: number): string | undefined {
    return this.map(type, read.string)
  }
  binary(type: number): Buffer | undefined {
    return this.byType.get(type)?.data
  }
  nested(type: number): Attrs | undefined {
    return this.map(type, read.nested)
  }
  /** A nested attribute whose children form a list (their types are indexes or all the same). */
  nestedList(type: number): Attr[] | undefined {
    return this.map(type, (a) => decode(a.data).value)
  }

  private map<T>(type: number, f: (a: Attr) => T): T | undefined {
    const a = this.byType.get(type)
    return a === undefined ? undefined : f(a)
  }
}

/** Makes an absent mandatory attribute a decode error rather than an undefined deeper in. */
export function required<T>(v: T | undefined, what: string): T {
  if (v === undefined) throw new LvsdError('LVSD_DECODE_INVALID', `mandatory attribute ${what} is missing`, { what })
  return v
}

// ---- builder ----

/**
 * Builds an attribute list. Each method checks its value; the first bad value is remembered and
 * thrown by finish()/attrs(), so a long encoding reads straight through without a check per line.
 * Nested attributes are built by a callback that receives a child builder whose first error
 * becomes the parent's (mdlayher/netlink's AttributeEncoder, in TypeScript).
 */
export class AttrBuilder {
  private readonly out: Attr[] = []
  private error: LvsdError | undefined

  /** The first error seen so far, if any. */
  get firstError(): LvsdError | undefined {
    return this.error
  }

  u8(type: number, v: number): this {
    return this.int(type, v, 1, 0, 0xff, (b) => b.writeUInt8(v, 0))
  }
  u16(type: number, v: number): this {
    return this.int(type, v, 2, 0, 0xffff, (b) => b.writeUInt16LE(v, 0))
  }
  u32(type: number, v: number): this {
    return this.int(type, v, 4, 0, 0xffffffff, (b) => b.writeUInt32LE(v, 0))
  }
  s32(type: number, v: number): this {
    return this.int(type, v, 4, -0x80000000, 0x7fffffff, (b) => b.writeInt32LE(v, 0))
  }
  be16(type: number, v: number): this {
    return this.int(type, v, 2, 0, 0xffff, (b) => b.writeUInt16BE(v, 0))
  }
  be32(type: number, v: number): this {
    return this.int(type, v, 4, 0, 0xffffffff, (b) => b.writeUInt32BE(v, 0))
  }
  u64(type: number, v: bigint): this {
    if (v < 0n || v > 0xffffffffffffffffn) return this.fail(type, `u64 value ${v} out of range`)
    const b = Buffer.alloc(8)
    b.writeBigUInt64LE(v, 0)
    return this.push(type, b)
  }
  /** A NUL-terminated string (NLA_NUL_STRING); maxLen counts the text without its NUL. */
  string(type: number, v: string, maxLen?: number): this {
    const text = Buffer.from(v, 'utf8')
    if (text.includes(0)) return this.fail(type, 'string contains a NUL byte')
    if (maxLen !== undefined && text.length > maxLen) {
      return this.fail(type, `string of ${text.length} bytes exceeds ${maxLen}`)
    }
    return this.push(type, Buffer.concat([text, Buffer.alloc(1)]))
  }
  binary(type: number, v: Uint8Array): this {
    return this.push(type, Buffer.from(v))
  }
  /** A flag attribute (NLA_FLAG): present means true. */
  flag(type: number): this {
    return this.push(type, Buffer.alloc(0))
  }
  nested(type: number, build: (b: AttrBuilder) => void): this {
    const child = new AttrBuilder()
    build(child)
    if (child.error) {
      this.error ??= child.error
      return this
    }
    return this.push(type, encode(child.out), NLA_F_NESTED)
  }
  /** Re-emits attributes as decoded (unknown ones included): the lossless path. */
  raw(...attrs: Attr[]): this {
    for (const a of attrs) this.push(a.type, a.data, a.flags)
    return this
  }

  /** The list built so far; throws the first error. */
  attrs(): Attr[] {
    if (this.error) throw this.error
    return [...this.out]
  }
  /** The encoded bytes; throws the first error. */
  finish(): Buffer {
    return encode(this.attrs())
  }

  private int(type: number, v: number, n: number, min: number, max: number, w: (b: Buffer) => void, flags = 0): this {
    if (!Number.isInteger(v) || v < min || v > max) return this.fail(type, `value ${v} does not fit ${n * 8} bits`)
    const b = Buffer.alloc(n)
    w(b)
    return this.push(type, b, flags)
  }

  private push(type: number, data: Buffer, flags = 0): this {
    if (!Number.isInteger(type) || type < 0 || type > NLA_TYPE_MASK) return this.fail(type, 'type out of range')
    if (NLA_HDRLEN + data.length > 0xffff) return this.fail(type, `payload of ${data.length} bytes exceeds 65531`)
    this.out.push({ type, flags, data })
    return this
  }

  private fail(type: number, why: string): this {
    this.error ??= new LvsdError('LVSD_ENCODE_INVALID', `netlink attribute ${type}: ${why}`, { type })
    return this
  }
}
