// The direct reader of destination dump parts gives exactly the generic decoder's result without counters,
// on well-formed parts and on damaged bytes alike (same value or same error code), and declines the rest.
import test from 'ava'
import { isLvsdError } from '../../src/errors.js'
import { CMD } from '../../src/ipvs/attrs.js'
import { decode, decodeGeneric, encode, type IpvsMessage, ipvsMessage } from '../../src/ipvs/codec.js'
import { decodeDestLean } from '../../src/ipvs/codec-fast-read.js'
import { destToWire, serviceKeyToWire } from '../../src/ipvs/domain.js'
import { defaultDest } from '../../src/ipvs/model.js'
import { addrFromBytes, parseAddr } from '../../src/net/addr.js'
import { prng } from '../helpers/codec.js'

const NO_STATS = { stats: false } as const

/** The value, or the error code: what a caller of decode can observe. */
function outcome(f: () => { value: IpvsMessage }): unknown {
  try {
    return { value: f().value }
  } catch (e) {
    if (!isLvsdError(e)) throw e
    return { code: e.code }
  }
}

function randomPart(rnd: () => number): Buffer {
  const int = (n: number) => Math.floor(rnd() * n)
  const addr = addrFromBytes(Uint8Array.from({ length: rnd() < 0.6 ? 4 : 16 }, () => int(256)))
  const fwds = ['masq', 'local', 'tunnel', 'droute'] as const
  const d = defaultDest(addr, int(65536), fwds[int(4)] as (typeof fwds)[number], {
    weight: int(2 ** 31) - (rnd() < 0.1 ? 2 ** 30 : 0),
    upperThreshold: int(2 ** 32),
    lowerThreshold: int(2 ** 32),
    ...(rnd() < 0.3 ? { tunnel: { type: 'gue', port: 1 + int(65535), csum: rnd() < 0.5, remcsum: false } } : {}),
  })
  const dest = {
    ...destToWire(d),
    activeConns: int(1000),
    inactConns: int(1000),
    persistConns: int(10),
    ...(rnd() < 0.8 ? { stats64: { conns: BigInt(int(1e9)), inBytes: 2n ** 40n + BigInt(int(100)) } } : {}),
    ...(rnd() < 0.8 ? { stats: { conns: BigInt(int(1e6)), inPkts: BigInt(int(1e6)) } } : {}),
  }
  return encode(ipvsMessage(CMD.NEW_DEST, { dest }))
}

test('random destination dump parts read as the generic decoder reads them without counters', (t) => {
  const rnd = prng(37298)
  for (let i = 0; i < 2000; i++) {
    const b = randomPart(rnd)
    const lean = decodeDestLean(b)
    t.truthy(lean?.dest)
    t.is(lean?.dest?.stats64, undefined)
    t.deepEqual(lean, decodeGeneric(b, 0, NO_STATS).value, `part ${i}`)
    t.deepEqual(decode(b, 0, NO_STATS).value, lean)
  }
})

test('damaged parts: decode without counters gives the generic decoder’s value or its error code', (t) => {
  const rnd = prng(2318)
  let declined = 0
  for (let i = 0; i < 3000; i++) {
    const b = Buffer.from(randomPart(rnd))
    const cuts = 1 + Math.floor(rnd() * 3)
    for (let c = 0; c < cuts; c++) b[Math.floor(rnd() * b.length)] = Math.floor(rnd() * 256)
    const damaged = rnd() < 0.3 ? b.subarray(0, Math.floor(rnd() * b.length)) : b
    if (decodeDestLean(damaged) === undefined) declined++
    t.deepEqual(
      outcome(() => decode(damaged, 0, NO_STATS)),
      outcome(() => decodeGeneric(damaged, 0, NO_STATS)),
      `part ${i}: ${damaged.toString('hex')}`,
    )
  }
  t.true(declined > 0, 'some damage made the direct reader decline')
})

test('other messages are left to the generic decoder', (t) => {
  const key = { protocol: 'tcp', addr: parseAddr('10.0.0.3'), port: 80 } as const
  const dest = destToWire(defaultDest(parseAddr('10.0.0.7'), 80, 'droute'))
  t.is(decodeDestLean(encode(ipvsMessage(CMD.NEW_DEST, { service: serviceKeyToWire(key), dest }))), undefined)
  t.is(decodeDestLean(encode(ipvsMessage(CMD.NEW_SERVICE, { service: serviceKeyToWire(key) }))), undefined)
  t.is(decodeDestLean(encode(ipvsMessage(CMD.GET_INFO))), undefined)
  t.is(decodeDestLean(encode(ipvsMessage(CMD.SET_CONFIG, { timeouts: { tcp: 30, tcpFin: 5, udp: 60 } }))), undefined)
})
