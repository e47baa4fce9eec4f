// The VRRP codec (RFC 5798 §5, RFC 3768 §5): keepalived 2.2.7 packets decode to the expected
// values and re-encode byte for byte; round trips; hostile input; values that cannot be encoded.
import test from 'ava'
import { type Addr, parseAddr } from '../../src/net/addr.js'
import {
  type Advert,
  decode,
  encode,
  encodeInto,
  type PseudoHeader,
  passwordAuthData,
  size,
} from '../../src/vrrp/packet.js'
import { type Codec, hexFixture, roundTrip } from '../helpers/codec.js'

const A = (s: string): Addr => parseAddr(s)
const ph4: PseudoHeader = { src: A('10.0.0.5'), dst: A('224.0.0.18') }
const ph6: PseudoHeader = { src: A('fe80::c0:ff:fe00:5'), dst: A('ff02::12') }

function codec(ph: PseudoHeader | undefined, family: 4 | 6 = 4): Codec<Advert> {
  return {
    size,
    encode: (v) => encode(v, ph),
    encodeInto: (v, b, o) => encodeInto(v, b, o, ph),
    decode: (b, o) => decode(b, o, family),
  }
}

/** The VRRP message inside a captured Ethernet frame (IPv4 IHL 5, or IPv6 without extensions). */
function vrrpOf(name: string): Buffer {
  const f = hexFixture(`vrrp/${name}.hex`)
  return f.readUInt16BE(12) === 0x86dd ? f.subarray(14 + 40) : f.subarray(14 + 20)
}

const zeros8 = new Uint8Array(8)

const fixtures: Array<{ name: string; family: 4 | 6; ph?: PseudoHeader; value: Advert }> = [
  {
    name: 'v2-advert',
    family: 4,
    value: {
      version: 2,
      type: 1,
      vrid: 51,
      priority: 100,
      interval: 1,
      family: 4,
      addrs: [A('10.0.0.3')],
      auth: { type: 0, data: zeros8 },
    },
  },
  {
    name: 'v2-priority0',
    family: 4,
    value: {
      version: 2,
      type: 1,
      vrid: 51,
      priority: 0,
      interval: 1,
      family: 4,
      addrs: [A('10.0.0.3')],
      auth: { type: 0, data: zeros8 },
    },
  },
  {
    name: 'v2-auth-pass',
    family: 4,
    value: {
      version: 2,
      type: 1,
      vrid: 53,
      priority: 150,
      interval: 1,
      family: 4,
      addrs: [A('10.0.0.4')],
      auth: { type: 1, data: passwordAuthData('lvsd1234') },
    },
  },
  {
    name: 'v3-ipv4-advert',
    family: 4,
    ph: ph4,
    value: {
      version: 3,
      type: 1,
      vrid: 54,
      priority: 100,
      interval: 10,
      family: 4,
      addrs: [A('10.0.0.9'), A('10.0.0.10')],
    },
  },
  {
    name: 'v3-ipv4-priority0',
    family: 4,
    ph: ph4,
    value: {
      version: 3,
      type: 1,
      vrid: 54,
      priority: 0,
      interval: 10,
      family: 4,
      addrs: [A('10.0.0.9'), A('10.0.0.10')],
    },
  },
  {
    name: 'v3-ipv6-advert',
    family: 6,
    ph: ph6,
    value: { version: 3, type: 1, vrid: 52, priority: 100, interval: 100, family: 6, addrs: [A('fd00:c::3')] },
  },
  {
    name: 'v3-ipv6-priority0',
    family: 6,
    ph: ph6,
    value: { version: 3, type: 1, vrid: 52, priority: 0, interval: 100, family: 6, addrs: [A('fd00:c::3')] },
  },
]

for (const f of fixtures) {
  test(`keepalived 2.2.7 ${f.name}: decodes to the expected advert and re-encodes byte for byte`, (t) => {
    const wire = vrrpOf(f.name)
    const d = decode(wire, 0, f.family)
    t.is(d.bytes, wire.length)
    t.deepEqual(d.value, f.value)
    t.deepEqual(encode(f.value, f.ph), wire)
  })
}

test('the v2 advert is 20 bytes for one VIP (8 zero auth bytes) and v3 IPv4 is 8 + 4 per VIP', (t) => {
  t.is(vrrpOf('v2-advert').length, 20)
  t.is(size(fixtures[0]!.value), 20)
  t.is(vrrpOf('v3-ipv4-advert').length, 16)
  t.is(vrrpOf('v3-ipv6-advert').length, 24)
})

const roundTrips: Array<[string, Advert, PseudoHeader | undefined]> = [
  [
    'v2 without auth (auth omitted encodes as type 0, zeros; decodes explicit)',
    {
      version: 2,
      type: 1,
      vrid: 1,
      priority: 254,
      interval: 255,
      family: 4,
      addrs: [A('192.0.2.1')],
      auth: { type: 0, data: zeros8 },
    },
    undefined,
  ],
  [
    'v2 with a short password, zero-padded to 8 bytes',
    {
      version: 2,
      type: 1,
      vrid: 255,
      priority: 1,
      interval: 3,
      family: 4,
      addrs: [A('10.1.2.3'), A('10.1.2.4'), A('10.1.2.5')],
      auth: { type: 1, data: passwordAuthData('pw') },
    },
    undefined,
  ],
  ['v3 IPv4 with no VIPs', { version: 3, type: 1, vrid: 9, priority: 255, interval: 1, family: 4, addrs: [] }, ph4],
  [
    'v3 IPv4 with the largest interval (4095 cs) and reserved bits set',
    { version: 3, type: 1, vrid: 9, priority: 10, interval: 4095, rsvd: 0xa, family: 4, addrs: [A('10.0.0.1')] },
    ph4,
  ],
  [
    'v3 IPv6 with 255 VIPs',
    {
      version: 3,
      type: 1,
      vrid: 200,
      priority: 100,
      interval: 1,
      family: 6,
      addrs: Array.from({ length: 255 }, (_, i) => A(`2001:db8::${i.toString(16)}`)),
    },
    ph6,
  ],
  [
    'an unknown type is kept',
    { version: 3, type: 7, vrid: 1, priority: 1, interval: 100, family: 4, addrs: [A('10.0.0.1')] },
    ph4,
  ],
]

for (const [title, v, ph] of roundTrips) {
  test(`round trip: ${title}`, (t) => {
    roundTrip(t, codec(ph, v.family), v)
  })
}

test('v2 with auth omitted encodes the same bytes as auth type 0 with zero data', (t) => {
  const withAuth = fixtures[0]!.value
  const { auth: _auth, ...without } = withAuth
  t.deepEqual(encode(without), encode(withAuth))
})

test('passwordAuthData truncates to 8 bytes and zero-pads shorter passwords', (t) => {
  t.deepEqual(Buffer.from(passwordAuthData('abcdefghij')), Buffer.from('abcdefgh'))
  t.deepEqual(Buffer.from(passwordAuthData('ab')), Buffer.from('ab\0\0\0\0\0\0'))
})

// Hostile input: every case names the error code decode must throw.
const v2wire = (): Buffer => Buffer.from(vrrpOf('v2-advert'))
const v3wire = (): Buffer => Buffer.from(vrrpOf('v3-ipv4-advert'))
const hostile: Array<[string, () => Buffer, 4 | 6, string]> = [
  ['empty input', () => Buffer.alloc(0), 4, 'LVSD_DECODE_TRUNCATED'],
  ['7 bytes: fixed header cut short', () => v3wire().subarray(0, 7), 4, 'LVSD_DECODE_TRUNCATED'],
  ['v2 without its auth data', () => v2wire().subarray(0, 12), 4, 'LVSD_DECODE_TRUNCATED'],
  ['v3 count says 2 VIPs, 1 present', () => v3wire().subarray(0, 12), 4, 'LVSD_DECODE_TRUNCATED'],
  [
    'count lies high (255 VIPs in 16 bytes)',
    () => {
      const b = v3wire()
      b[3] = 255
      return b
    },
    4,
    'LVSD_DECODE_TRUNCATED',
  ],
  ['IPv4-sized v3 packet read as IPv6', () => v3wire(), 6, 'LVSD_DECODE_TRUNCATED'],
  [
    'version 1',
    () => {
      const b = v3wire()
      b[0] = 0x11
      return b
    },
    4,
    'LVSD_DECODE_INVALID',
  ],
  [
    'version 15',
    () => {
      const b = v3wire()
      b[0] = 0xf1
      return b
    },
    4,
    'LVSD_DECODE_INVALID',
  ],
  ['v2 over IPv6', () => v2wire(), 6, 'LVSD_DECODE_INVALID'],
]

for (const [title, input, family, code] of hostile) {
  test(`hostile input: ${title} → ${code}`, (t) => {
    t.throws(() => decode(input(), 0, family), { code })
  })
}

test('decode at an offset past the end is truncated, not a crash', (t) => {
  t.throws(() => decode(v3wire(), 100), { code: 'LVSD_DECODE_TRUNCATED' })
})

const base3: Advert = { version: 3, type: 1, vrid: 1, priority: 100, interval: 100, family: 4, addrs: [A('10.0.0.1')] }
const unencodable: Array<[string, Advert, PseudoHeader | undefined]> = [
  ['v3 without a pseudo-header', base3, undefined],
  ['pseudo-header of the other family', base3, ph6],
  ['interval 4096 cs', { ...base3, interval: 4096 }, ph4],
  ['priority 256', { ...base3, priority: 256 }, ph4],
  ['VRID -1', { ...base3, vrid: -1 }, ph4],
  ['an IPv6 VIP in an IPv4 advert', { ...base3, addrs: [A('::1')] }, ph4],
  ['256 VIPs', { ...base3, addrs: Array.from({ length: 256 }, () => A('10.0.0.1')) }, ph4],
  ['v2 interval 256 s', { ...fixtures[0]!.value, interval: 256 }, undefined],
  ['v2 over IPv6', { ...fixtures[0]!.value, family: 6, addrs: [] }, undefined],
  ['v2 auth data of 7 bytes', { ...fixtures[0]!.value, auth: { type: 1, data: new Uint8Array(7) } }, undefined],
]

for (const [title, v, ph] of unencodable) {
  test(`encode refuses ${title} with LVSD_ENCODE_INVALID`, (t) => {
    t.throws(() => encode(v, ph), { code: 'LVSD_ENCODE_INVALID' })
  })
}

test('encodeInto refuses a buffer too small at that offset', (t) => {
  t.throws(() => encodeInto(base3, Buffer.alloc(12), 1, ph4), { code: 'LVSD_ENCODE_INVALID' })
})
