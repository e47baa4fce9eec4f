// Netlink attributes: wire layout, typed readers, the first-error builder, lossless round trips,
// hostile inputs and a seeded fuzz loop.
import test from 'ava'
import { isLvsdError } from '../../src/errors.js'
import {
  type Attr,
  AttrBuilder,
  Attrs,
  decode,
  encode,
  encodeInto,
  NLA_F_NESTED,
  NLA_F_NET_BYTEORDER,
  read,
  required,
  size,
} from '../../src/net/nlattr.js'
import { prngU32 } from '../helpers/prng.js'

const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex')

test('a u32 attribute is len 8, host-order type and value', (t) => {
  const b = new AttrBuilder().u32(4, 1500).finish()
  t.deepEqual(b, hex('0800 0400 dc050000'))
})

test('a string attribute carries its NUL and is padded to 4 bytes, padding outside len', (t) => {
  const b = new AttrBuilder().string(3, 'veth0').finish()
  // len = 4 + 6 ("veth0\0"), padded to 12
  t.deepEqual(b, hex('0a00 0300 7665746830 00 0000'))
  t.is(read.string(decode(b).value[0] as Attr), 'veth0')
})

test('nested attributes are built by callback and flagged NLA_F_NESTED', (t) => {
  const b = new AttrBuilder()
    .nested(1, (s) => {
      s.u16(1, 2).be16(4, 80)
    })
    .finish()
  t.deepEqual(b, hex('1400 0180  0600 0100 0200 0000  0600 0400 0050 0000'))
  const outer = decode(b).value[0] as Attr
  t.is(outer.type, 1)
  t.is(outer.flags, NLA_F_NESTED)
  const inner = read.nested(outer)
  t.is(inner.u16(1), 2)
  t.is(inner.be16(4), 80)
})

test('the builder keeps the first error, also from inside a nested callback, and throws it at the end', (t) => {
  const b = new AttrBuilder()
    .u8(1, 7)
    .nested(2, (s) => {
      s.u8(9, 256) // first error
      s.u16(10, -1)
    })
    .u32(3, 2 ** 32)
  t.true(isLvsdError(b.firstError, 'LVSD_ENCODE_INVALID'))
  t.is(b.firstError?.details.type, 9)
  t.throws(() => b.finish(), { code: 'LVSD_ENCODE_INVALID' })
})

test('builder rejects values that cannot be encoded', (t) => {
  const cases: Array<[string, (b: AttrBuilder) => AttrBuilder]> = [
    ['u16 above range', (b) => b.u16(1, 0x10000)],
    ['s32 below range', (b) => b.s32(1, -0x80000001)],
    ['non-integer', (b) => b.u32(1, 1.5)],
    ['u64 negative', (b) => b.u64(1, -1n)],
    ['string with NUL', (b) => b.string(1, 'a\0b')],
    ['string longer than its field', (b) => b.string(1, 'abcdefghijklmnop', 15)],
    ['type above 0x3fff', (b) => b.u8(0x4000, 1)],
    ['payload above 65531 bytes', (b) => b.binary(1, new Uint8Array(65532))],
  ]
  for (const [name, f] of cases) {
    t.throws(() => f(new AttrBuilder()).finish(), { code: 'LVSD_ENCODE_INVALID' }, name)
  }
})

test('typed readers check their width and return undefined when absent', (t) => {
  const a = Attrs.decode(
    new AttrBuilder()
      .u8(1, 200)
      .u16(2, 65000)
      .u32(3, 0xfffffffe)
      .s32(4, -5)
      .u64(5, 2n ** 63n)
      .be32(6, 0x0a000001)
      .binary(7, Uint8Array.of(1, 2, 3))
      .flag(8)
      .finish(),
  )
  t.is(a.u8(1), 200)
  t.is(a.u16(2), 65000)
  t.is(a.u32(3), 0xfffffffe)
  t.is(a.s32(4), -5)
  t.is(a.u64(5), 2n ** 63n)
  t.is(a.be32(6), 0x0a000001)
  t.deepEqual([...(a.binary(7) ?? [])], [1, 2, 3])
  t.true(a.has(8))
  t.is(a.u32(99), undefined)
  t.throws(() => a.u32(1), { code: 'LVSD_DECODE_INVALID' })
  t.throws(() => required(a.u32(99), 'X'), { code: 'LVSD_DECODE_INVALID' })
})

test('a repeated type resolves to its last occurrence, all() lists every one, toMap() indexes', (t) => {
  const a = Attrs.decode(new AttrBuilder().u32(1, 10).u32(2, 5).u32(1, 11).finish())
  t.is(a.u32(1), 11)
  t.deepEqual(
    a.all(1).map((x) => read.u32(x)),
    [10, 11],
  )
  t.is(a.toMap().size, 2)
})

test('a nested list decodes to an array of {type, data}', (t) => {
  const b = new AttrBuilder()
    .nested(7, (l) => {
      l.nested(1, (g) => g.string(1, 'a').u32(2, 16))
      l.nested(2, (g) => g.string(1, 'b').u32(2, 17))
    })
    .finish()
  const list = Attrs.decode(b).nestedList(7) ?? []
  t.deepEqual(
    list.map((x) => x.type),
    [1, 2],
  )
  t.deepEqual(
    list.map((x) => read.nested(x).string(1)),
    ['a', 'b'],
  )
})

test('unknown attributes and flag bits survive decode → encode byte for byte', (t) => {
  const wire = hex('0800 3412 01020304  0500 0140 aa000000  0c00 0580 0800 0100 05000000')
  const attrs = decode(wire).value
  t.is(attrs[0]?.type, 0x1234)
  t.is(attrs[1]?.flags, NLA_F_NET_BYTEORDER)
  t.deepEqual(encode(attrs), wire)
  t.deepEqual(new AttrBuilder().raw(...attrs).finish(), wire)
})

test('encodeInto writes at an offset inside a larger buffer and returns size()', (t) => {
  const attrs = new AttrBuilder().string(1, 'x').u64(2, 7n).attrs()
  const buf = Buffer.alloc(size(attrs) + 10, 0xee)
  t.is(encodeInto(attrs, buf, 10), size(attrs))
  t.deepEqual(decode(buf, 10).value, attrs)
})

test('a last attribute without its padding is accepted (as nla_ok does)', (t) => {
  const r = decode(hex('0500 0100 aa'))
  t.is(r.value.length, 1)
  t.is(r.bytes, 5)
})

test('hostile attribute inputs fail with a decode code', (t) => {
  const cases: Array<[string, string, string]> = [
    ['header cut short', '0800 01', 'LVSD_DECODE_TRUNCATED'],
    ['length below the header', '0200 0100', 'LVSD_DECODE_INVALID'],
    ['length beyond the buffer', '0c00 0100 01020304', 'LVSD_DECODE_TRUNCATED'],
    ['second attribute lies', '0800 0100 01020304 ff00 0200', 'LVSD_DECODE_TRUNCATED'],
    ['three stray bytes after an attribute', '0800 0100 01020304 000000', 'LVSD_DECODE_TRUNCATED'],
  ]
  for (const [name, h, code] of cases) t.throws(() => decode(hex(h)), { code }, name)
  t.throws(() => Attrs.decode(hex('0800 0100 0200 0100')).nested(1), { code: 'LVSD_DECODE_INVALID' }, 'bad nested')
})

test('fuzz: random bytes decode or throw only LvsdError; what decodes re-encodes stably', (t) => {
  const next = prngU32(0x5eed)
  let decoded = 0
  for (let i = 0; i < 3000; i++) {
    const n = next() % 40
    const b = Buffer.alloc(n)
    for (let j = 0; j < n; j++) b[j] = next() & 0xff
    // bias toward plausible lengths so some inputs decode
    if (n >= 2 && next() % 2 === 0) b.writeUInt16LE(4 + (next() % Math.max(1, n - 3)), 0)
    try {
      const attrs = decode(b).value
      decoded++
      const again = encode(attrs)
      t.deepEqual(encode(decode(again).value), again)
      for (const a of attrs) {
        try {
          read.nested(a)
        } catch (e) {
          if (!isLvsdError(e)) throw e
        }
      }
    } catch (e) {
      if (!isLvsdError(e)) t.fail(`non-LvsdError for ${b.toString('hex')}: ${String(e)}`)
      else t.true(e.code === 'LVSD_DECODE_TRUNCATED' || e.code === 'LVSD_DECODE_INVALID')
    }
  }
  t.true(decoded > 100, `only ${decoded} inputs decoded`)
})
