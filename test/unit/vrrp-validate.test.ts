// Receive validation (RFC 5798 §7.1, RFC 3768 §7.1): keepalived's packets pass, and each way a
// packet can be wrong is dropped with its own stable reason, without throwing.
import test from 'ava'
import { type Addr, parseAddr } from '../../src/net/addr.js'
import { internetChecksum } from '../../src/net/checksum.js'
import { type Advert, encode, passwordAuthData } from '../../src/vrrp/packet.js'
import { DROP_REASONS, intervalCs, type LocalInstance, type Received, validate } from '../../src/vrrp/validate.js'
import { hexFixture } from '../helpers/codec.js'
import { ip4 as ip4Header } from '../helpers/ip4.js'

const A = (s: string): Addr => parseAddr(s)
const peer4 = A('10.0.0.5')
const group4 = A('224.0.0.18')
const peer6 = A('fe80::c0:ff:fe00:5')
const group6 = A('ff02::12')

/** `payload` behind an IPv4 header from peer4 (test/helpers/ip4.ts). */
const ip4 = (payload: Buffer, o: { ttl?: number; proto?: number; src?: Addr; dst?: Addr } = {}): Buffer =>
  ip4Header(payload, { src: peer4, ...o })

const local2: LocalInstance = {
  vrid: 51,
  version: 2,
  family: 4,
  priority: 150,
  advertMs: 1000,
  vips: [A('10.0.0.3')],
  ownAddrs: [A('10.0.0.6')],
}
const local2auth: LocalInstance = {
  ...local2,
  vrid: 53,
  vips: [A('10.0.0.4')],
  auth: { type: 1, password: 'lvsd1234' },
}
const local3: LocalInstance = {
  vrid: 54,
  version: 3,
  family: 4,
  priority: 150,
  advertMs: 100,
  vips: [A('10.0.0.10'), A('10.0.0.9')],
  ownAddrs: [A('10.0.0.6')],
}
const local6: LocalInstance = {
  vrid: 52,
  version: 3,
  family: 6,
  priority: 150,
  advertMs: 1000,
  vips: [A('fd00:c::3')],
  ownAddrs: [A('fe80::c0:ff:fe00:6'), A('fd00:c::6')],
}
const rx4: Received = { family: 4 }
const rx6 = (hopLimit = 255, src = peer6): Received => ({ family: 6, hopLimit, src, dst: group6 })

const ipOf = (name: string): Buffer => hexFixture(`vrrp/${name}.hex`).subarray(14)

test('keepalived 2.2.7 packets pass validation and yield the sender and interval', (t) => {
  const cases: Array<[string, Received, LocalInstance, number, number]> = [
    ['v2-advert', rx4, local2, 100, 100],
    ['v2-priority0', rx4, local2, 0, 100],
    ['v2-auth-pass', rx4, local2auth, 150, 100],
    ['v3-ipv4-advert', rx4, local3, 100, 10],
    ['v3-ipv4-priority0', rx4, local3, 0, 10],
  ]
  for (const [name, rx, local, prio, cs] of cases) {
    const v = validate(ipOf(name), rx, local)
    if (!v.ok) return t.fail(`${name}: dropped for ${v.reason}`)
    t.is(v.advert.priority, prio, name)
    t.is(intervalCs(v.advert), cs, name)
    t.deepEqual(v.src, peer4, name)
    t.deepEqual(v.dst, group4, name)
    t.false(v.addrsMismatch, name)
  }
  for (const name of ['v3-ipv6-advert', 'v3-ipv6-priority0']) {
    const v = validate(hexFixture(`vrrp/${name}.hex`).subarray(14 + 40), rx6(), local6)
    t.true(v.ok, name)
  }
})

test('bytes past the IPv4 total length (Ethernet padding) are ignored', (t) => {
  const padded = Buffer.concat([ipOf('v2-advert'), Buffer.alloc(6, 0xee)])
  t.true(validate(padded, rx4, local2).ok)
})

const v3 = (over: Partial<Advert> = {}, ph = { src: peer4, dst: group4 }): Buffer =>
  encode(
    { version: 3, type: 1, vrid: 54, priority: 100, interval: 10, family: 4, addrs: local3.vips.slice(), ...over },
    ph,
  )
const v2 = (over: Partial<Advert> = {}): Buffer =>
  encode({
    version: 2,
    type: 1,
    vrid: 51,
    priority: 100,
    interval: 1,
    family: 4,
    addrs: [A('10.0.0.3')],
    auth: { type: 0, data: new Uint8Array(8) },
    ...over,
  })
const v36 = (over: Partial<Advert> = {}, src = peer6): Buffer =>
  v3({ family: 6, vrid: 52, addrs: [A('fd00:c::3')], ...over }, { src, dst: group6 })
const mutate = (b: Buffer, f: (b: Buffer) => void): Buffer => {
  const c = Buffer.from(b)
  f(c)
  return c
}

// Each case isolates one fault: everything else about the packet is valid (checksums recomputed).
const drops: Array<[string, () => Buffer, Received, LocalInstance, string]> = [
  ['shorter than an IPv4 header', () => ipOf('v2-advert').subarray(0, 19), rx4, local2, 'ip_header'],
  ['IP version 6 in an IPv4 socket', () => mutate(ipOf('v2-advert'), (b) => (b[0] = 0x65)), rx4, local2, 'ip_header'],
  ['IHL 4', () => mutate(ipOf('v2-advert'), (b) => (b[0] = 0x44)), rx4, local2, 'ip_header'],
  ['IHL past the end', () => mutate(ipOf('v2-advert').subarray(0, 30), (b) => (b[0] = 0x4f)), rx4, local2, 'ip_header'],
  [
    'total length longer than the packet',
    () => mutate(ipOf('v2-advert'), (b) => b.writeUInt16BE(41, 2)),
    rx4,
    local2,
    'ip_header',
  ],
  ['total length below IHL', () => mutate(ipOf('v2-advert'), (b) => b.writeUInt16BE(19, 2)), rx4, local2, 'ip_header'],
  ['protocol 17', () => ip4(v2(), { proto: 17 }), rx4, local2, 'protocol'],
  ['IPv4 packet for an IPv6 instance', () => ipOf('v3-ipv4-advert'), rx4, local6, 'family'],
  ['TTL 254 (a routed packet)', () => ip4(v2(), { ttl: 254 }), rx4, local2, 'ttl'],
  ['IPv6 hop limit 64', () => v36(), rx6(64), local6, 'ttl'],
  [
    'IPv6 hop limit not reported',
    () => v36(),
    { family: 6, hopLimit: undefined, src: peer6, dst: group6 },
    local6,
    'ttl',
  ],
  ['7 bytes of VRRP', () => ip4(v3().subarray(0, 7)), rx4, local3, 'length'],
  ['v3 packet of our VRID at a v2 instance', () => ip4(mutate(v3(), (b) => (b[1] = 51))), rx4, local2, 'version'],
  ['v2 packet of our VRID at a v3 instance', () => ip4(mutate(v2(), (b) => (b[1] = 54))), rx4, local3, 'version'],
  // a keepalived v2 pair of another VRID on the same LAN is not a version error of ours
  ['v2 advert of another VRID at a v3 instance', () => ip4(v2()), rx4, local3, 'vrid'],
  ['v3 advert of another VRID at a v2 instance', () => ip4(v3()), rx4, local2, 'vrid'],
  ['version 4', () => ip4(mutate(v3(), (b) => (b[0] = 0x41))), rx4, local3, 'version'],
  ['type 2', () => ip4(v3({ type: 2 })), rx4, local3, 'type'],
  ['type 0', () => ip4(v2({ type: 0 })), rx4, local2, 'type'],
  ['v2 without auth data (12 bytes)', () => ip4(v2().subarray(0, 12)), rx4, local2, 'length'],
  ['count says 3 VIPs, 2 present', () => ip4(mutate(v3(), (b) => (b[3] = 3))), rx4, local3, 'addr_count'],
  ['count says 1 VIP, 2 present', () => ip4(mutate(v3(), (b) => (b[3] = 1))), rx4, local3, 'addr_count'],
  ['trailing bytes after the VIPs', () => ip4(Buffer.concat([v3(), Buffer.alloc(4)])), rx4, local3, 'addr_count'],
  ['v3 bad checksum', () => ip4(mutate(v3(), (b) => (b[7] = (b[7] ?? 0) ^ 1))), rx4, local3, 'checksum'],
  ['v2 bad checksum', () => ip4(mutate(v2(), (b) => (b[2] = 101))), rx4, local2, 'checksum'],
  [
    'v3 checksum over the wrong pseudo-header (sent to another group)',
    () => ip4(v3({}, { src: peer4, dst: A('224.0.0.19') })),
    rx4,
    local3,
    'checksum',
  ],
  [
    'v3 checksum computed without the pseudo-header (the v2 way)',
    () => {
      const b = v3()
      b.writeUInt16BE(0, 6)
      b.writeUInt16BE(internetChecksum(b), 6)
      return ip4(b)
    },
    rx4,
    local3,
    'checksum',
  ],
  ['another VRID', () => ip4(v2({ vrid: 52 })), rx4, local2, 'vrid'],
  ['our own advert looped back', () => ip4(v2(), { src: A('10.0.0.6') }), rx4, local2, 'own'],
  ['our own IPv6 advert', () => v36({}, A('fe80::c0:ff:fe00:6')), rx6(255, A('fe80::c0:ff:fe00:6')), local6, 'own'],
  ['v2 auth type 1 at a type-0 instance', () => ipOf('v2-auth-pass'), rx4, { ...local2auth, auth: undefined }, 'auth'],
  ['v2 auth type 0 at a PASS instance', () => ip4(v2({ vrid: 53, addrs: [A('10.0.0.4')] })), rx4, local2auth, 'auth'],
  [
    'v2 wrong password',
    () => ipOf('v2-auth-pass'),
    rx4,
    { ...local2auth, auth: { type: 1, password: 'lvsd1235' } },
    'auth',
  ],
  [
    'v2 auth type 2 (IP AH, removed by RFC 3768)',
    () => ip4(v2({ auth: { type: 2, data: passwordAuthData('x') } })),
    rx4,
    local2,
    'auth',
  ],
  ['v2 interval 2 s at a 1 s instance', () => ip4(v2({ interval: 2 })), rx4, local2, 'interval'],
  ['v3 interval 0', () => ip4(v3({ interval: 0 })), rx4, local3, 'interval'],
  ['a VIP missing', () => ip4(v3({ addrs: [A('10.0.0.9')] })), rx4, local3, 'addrs'],
  ['a different VIP', () => ip4(v3({ addrs: [A('10.0.0.9'), A('10.0.0.11')] })), rx4, local3, 'addrs'],
]

for (const [title, input, rx, local, reason] of drops) {
  test(`drop: ${title} → '${reason}'`, (t) => {
    t.deepEqual(validate(input(), rx, local), { ok: false, reason })
    t.true((DROP_REASONS as readonly string[]).includes(reason))
  })
}

test('v3 advert interval differing from ours is accepted: the backup learns it (RFC 5798 §6.4.2)', (t) => {
  const v = validate(ip4(v3({ interval: 37 })), rx4, local3)
  t.true(v.ok)
  if (v.ok) t.is(intervalCs(v.advert), 37)
})

test("the owner's advert with a different VIP list is accepted but flagged (RFC 5798 §7.1)", (t) => {
  const v = validate(ip4(v3({ priority: 255, addrs: [A('10.0.0.99')] })), rx4, local3)
  t.true(v.ok)
  if (v.ok) t.true(v.addrsMismatch)
})

test('a valid IPv6 advert built here passes, and fails checksum when the source differs', (t) => {
  t.true(validate(v36(), rx6(), local6).ok)
  t.deepEqual(validate(v36(), rx6(255, A('fe80::99')), local6), { ok: false, reason: 'checksum' })
})

test('an advert reaching the address owner is accepted and flagged (RFC 9568 erratum 8298)', (t) => {
  const v = validate(ip4(v2({ priority: 255 })), rx4, { ...local2, priority: 255 })
  t.true(v.ok)
  if (v.ok) t.true(v.ownerConflict)
  const plain = validate(ip4(v2()), rx4, local2)
  if (plain.ok) t.false(plain.ownerConflict)
  else t.fail(plain.reason)
})

test('VIP order does not matter', (t) => {
  t.true(validate(ip4(v3({ addrs: [A('10.0.0.9'), A('10.0.0.10')] })), rx4, local3).ok)
  t.true(validate(ip4(v3({ addrs: [A('10.0.0.10'), A('10.0.0.9')] })), rx4, local3).ok)
})

test('every drop reason is exercised by the table above', (t) => {
  const used = new Set(drops.map((d) => d[4]))
  t.deepEqual(
    DROP_REASONS.filter((r) => !used.has(r)),
    [],
  )
})
