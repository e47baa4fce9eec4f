// The direct writer for destination commands and service keys gives the generic codec's exact bytes, and
// declines whatever it does not cover so that validation errors stay the generic codec's.
import test from 'ava'
import type { LvsdError } from '../../src/errors.js'
import { CMD } from '../../src/ipvs/attrs.js'
import { encode, encodeInto, type IpvsMessage, ipvsMessage, size } from '../../src/ipvs/codec.js'
import { encodeFast } from '../../src/ipvs/codec-fast.js'
import { destKeyToWire, destToWire, type ServiceKey, serviceKeyToWire, serviceToWire } from '../../src/ipvs/domain.js'
import { defaultDest, defaultService } from '../../src/ipvs/model.js'
import { addrFromBytes } from '../../src/net/addr.js'
import { prng } from '../helpers/codec.js'

const generic = (m: IpvsMessage) => {
  const b = Buffer.alloc(size(m))
  encodeInto(m, b, 0)
  return b
}

test('random destination commands and service keys encode to the generic codec’s bytes', (t) => {
  const rnd = prng(2318)
  const int = (n: number) => Math.floor(rnd() * n)
  const addr = () => addrFromBytes(Uint8Array.from({ length: rnd() < 0.5 ? 4 : 16 }, () => int(256)))
  const fwds = ['masq', 'local', 'tunnel', 'droute'] as const
  for (let i = 0; i < 2000; i++) {
    const a = addr()
    const protocol = (['tcp', 'udp', 'sctp'] as const)[int(3)] ?? 'tcp'
    const key: ServiceKey =
      rnd() < 0.2 ? { fwmark: 1 + int(0xfffffffe), family: a.family } : { protocol, addr: a, port: int(65536) }
    const d = defaultDest(addr(), int(65536), fwds[int(4)] as (typeof fwds)[number], {
      weight: int(2 ** 31),
      upperThreshold: int(2 ** 32),
      lowerThreshold: int(2 ** 32),
      ...(rnd() < 0.3 ? { tunnel: { type: 'gue', port: 1 + int(65535), csum: rnd() < 0.5, remcsum: false } } : {}),
    })
    const cmd = [CMD.NEW_DEST, CMD.SET_DEST, CMD.DEL_DEST, CMD.DEL_SERVICE, CMD.GET_DEST][int(5)] as number
    const m = ipvsMessage(cmd, {
      service: serviceKeyToWire(key),
      ...(cmd === CMD.DEL_DEST ? { dest: destKeyToWire(d) } : cmd <= CMD.DEL_DEST ? { dest: destToWire(d) } : {}),
    })
    const fast = encodeFast(m)
    t.truthy(fast)
    if (!fast?.equals(generic(m))) {
      t.fail(`message ${i} differs: ${JSON.stringify(m)}`)
      return
    }
  }
})

test('full services, daemons, timeouts and out-of-range values are left to the generic codec', (t) => {
  const key = { protocol: 'tcp', addr: addrFromBytes(Uint8Array.of(10, 0, 0, 3)), port: 80 } as const
  t.is(encodeFast(ipvsMessage(CMD.NEW_SERVICE, { service: serviceToWire(defaultService(key, 'wrr')) })), undefined)
  t.is(encodeFast(ipvsMessage(CMD.SET_CONFIG, { timeouts: { tcp: 30, tcpFin: 5, udp: 60 } })), undefined)
  t.is(encodeFast(ipvsMessage(CMD.GET_SERVICE)), undefined)
  const big = ipvsMessage(CMD.NEW_DEST, {
    service: serviceKeyToWire(key),
    dest: { ...destToWire(defaultDest(key.addr, 80, 'droute')), weight: 2 ** 31 },
  })
  t.is(encodeFast(big), undefined)
  t.is(t.throws<LvsdError>(() => encode(big))?.code, 'LVSD_ENCODE_INVALID')
})
