// Seeded fuzzing of the VRRP, ARP and NA decoders and of VRRP receive validation: random bytes and
// mutated keepalived 2.2.7 packets. Property: nothing but LvsdError is thrown, validate() never
// throws, and whatever decodes re-encodes stably (decode ∘ encode is the identity on it).
// `node dist/bench/vrrp-fuzz.js [iterations] [seed]` runs 1,000,000 by default and prints figures;
// test/unit/vrrp-fuzz.test.ts runs a smaller count of the same loop.
import { readFileSync } from 'node:fs'
import { isDeepStrictEqual } from 'node:util'
import { isLvsdError } from '../src/errors.js'
import { type Addr, parseAddr } from '../src/net/addr.js'
import * as arp from '../src/net/arp.js'
import * as ndp from '../src/net/ndp.js'
import * as packet from '../src/vrrp/packet.js'
import { type LocalInstance, type Received, validate } from '../src/vrrp/validate.js'
import { prng } from '../test/helpers/prng.js'

export interface FuzzStats {
  iterations: number
  decoded: number
  accepted: number
  drops: Record<string, number>
  errors: Record<string, number>
  ms: number
}

function fixture(root: string, name: string, skip: number): Buffer {
  const text = readFileSync(`${root}/test/fixtures/vrrp/${name}.hex`, 'utf8')
  const hex = text
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join('')
    .trim()
  return Buffer.from(hex, 'hex').subarray(skip)
}

const A = (s: string): Addr => parseAddr(s)
const ph4 = { src: A('10.0.0.5'), dst: A('224.0.0.18') }
const ph6 = { src: A('fe80::c0:ff:fe00:5'), dst: A('ff02::12') }
const locals: LocalInstance[] = [
  { vrid: 51, version: 2, family: 4, priority: 150, advertMs: 1000, vips: [A('10.0.0.3')], ownAddrs: [A('10.0.0.6')] },
  {
    vrid: 53,
    version: 2,
    family: 4,
    priority: 150,
    advertMs: 1000,
    vips: [A('10.0.0.4')],
    ownAddrs: [],
    auth: { type: 1, password: 'lvsd1234' },
  },
  {
    vrid: 54,
    version: 3,
    family: 4,
    priority: 150,
    advertMs: 100,
    vips: [A('10.0.0.9'), A('10.0.0.10')],
    ownAddrs: [],
  },
]
const local6: LocalInstance = {
  vrid: 52,
  version: 3,
  family: 6,
  priority: 150,
  advertMs: 1000,
  vips: [A('fd00:c::3')],
  ownAddrs: [],
}
const rx4: Received = { family: 4 }
const rx6: Received = { family: 6, hopLimit: 255, src: ph6.src, dst: ph6.dst }

/** Calls f; an LvsdError is counted by code, anything else escapes and fails the run. */
function guarded<T>(stats: FuzzStats, f: () => T): T | undefined {
  try {
    return f()
  } catch (e) {
    if (!isLvsdError(e)) throw e
    stats.errors[e.code] = (stats.errors[e.code] ?? 0) + 1
    return undefined
  }
}

function stableReencode<T>(value: T, enc: (v: T) => Buffer, dec: (b: Buffer) => { value: T }): void {
  const once = enc(value)
  const back = dec(once).value
  if (!isDeepStrictEqual(back, value) || !enc(back).equals(once)) {
    throw new Error(`unstable re-encode: ${once.toString('hex')}`)
  }
}

export function fuzz(iterations: number, seed: number, root: string): FuzzStats {
  const rnd = prng(seed)
  const int = (n: number) => Math.floor(rnd() * n)
  const seeds4 = ['v2-advert', 'v2-auth-pass', 'v2-priority0', 'v3-ipv4-advert', 'v3-ipv4-priority0'].map((n) =>
    fixture(root, n, 14),
  )
  const seeds6 = ['v3-ipv6-advert', 'v3-ipv6-priority0'].map((n) => fixture(root, n, 54))
  const garp = fixture(root, 'garp', 0)
  const na = fixture(root, 'na', 54)
  const stats: FuzzStats = { iterations, decoded: 0, accepted: 0, drops: {}, errors: {}, ms: 0 }
  const t0 = performance.now()
  for (let i = 0; i < iterations; i++) {
    const kind = i % 4
    let input: Buffer
    const base = kind === 0 ? seeds4[int(seeds4.length)]! : kind === 1 ? seeds6[int(seeds6.length)]! : undefined
    if (!base || int(8) === 0) {
      input = Buffer.allocUnsafe(int(kind === 1 ? 100 : 80))
      for (let j = 0; j < input.length; j++) input[j] = int(256)
    } else {
      input = Buffer.from(base)
      const flips = 1 + int(3)
      for (let f = 0; f < flips; f++) {
        const at = int(input.length)
        const r = int(4)
        if (r === 0) input[at] = int(256)
        else if (r === 1) input[at] = (input[at] ?? 0) ^ (1 << int(8))
        else if (r === 2) input = input.subarray(0, at)
        else input = Buffer.concat([input, Buffer.alloc(int(20), int(256))])
      }
    }
    if (kind === 0 || kind === 2) {
      // an IPv4 raw-socket read: the IP header, then VRRP
      for (const local of locals) {
        const v = validate(input, rx4, local)
        if (v.ok) stats.accepted++
        else stats.drops[v.reason] = (stats.drops[v.reason] ?? 0) + 1
      }
      const body = input.subarray(Math.min(input.length, 20))
      const d = guarded(stats, () => packet.decode(body, 0, 4))
      if (d) {
        stats.decoded++
        stableReencode(
          d.value,
          (v) => packet.encode(v, ph4),
          (b) => packet.decode(b, 0, 4),
        )
      }
    } else if (kind === 1) {
      const v = validate(input, rx6, local6)
      if (v.ok) stats.accepted++
      else stats.drops[v.reason] = (stats.drops[v.reason] ?? 0) + 1
      const d = guarded(stats, () => packet.decode(input, 0, 6))
      if (d) {
        stats.decoded++
        stableReencode(
          d.value,
          (x) => packet.encode(x, ph6),
          (b) => packet.decode(b, 0, 6),
        )
      }
    } else {
      const a = Buffer.from(i % 8 === 3 ? garp : na)
      a[int(a.length)] = int(256)
      const cut = int(4) === 0 ? a.subarray(0, int(a.length)) : a
      const ad = guarded(stats, () => arp.decode(cut))
      if (ad) {
        stats.decoded++
        stableReencode(ad.value, arp.encode, arp.decode)
      }
      const nd = guarded(stats, () => ndp.decode(cut))
      if (nd) {
        stats.decoded++
        // option data shorter than its 8-byte slot is padded on encode, so compare bytes only
        const once = ndp.encode(nd.value)
        if (!ndp.encode(ndp.decode(once).value).equals(once)) throw new Error('unstable NA re-encode')
      }
    }
  }
  stats.ms = performance.now() - t0
  return stats
}

const invokedAsMain = process.argv[1]?.endsWith('vrrp-fuzz.js') ?? false
if (invokedAsMain) {
  const n = Number(process.argv[2] ?? 1_000_000)
  const seed = Number(process.argv[3] ?? 0x5eed)
  const root = new URL('../..', import.meta.url).pathname
  const s = fuzz(n, seed, root)
  console.log(JSON.stringify({ ...s, nsPerIteration: Math.round((s.ms * 1e6) / n) }, null, 2))
}
