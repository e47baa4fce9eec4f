// The runtime instance (src/vrrp/worker/instance.ts) against fake sockets, a fake kernel address table
// and the tier's virtual clock: what goes on the wire, into the kernel and up to the main thread, in order.
import test from 'ava'
import { type Addr, parseAddr, parsePrefix, sameAddr } from '../../src/net/addr.js'
import type { ReceivedDatagram } from '../../src/sys/types.js'
import type { RuntimeInstance, Up } from '../../src/vrrp/messages.js'
import { decode, encode } from '../../src/vrrp/packet.js'
import { Instance, type InstanceDeps } from '../../src/vrrp/worker/instance.js'
import { GROUP4 } from '../../src/vrrp/worker/sockets.js'
import { VirtualClock } from '../helpers/virtual-clock.js'
import { webInstance } from '../helpers/vrrp-instance.js'

const PRIMARY = parseAddr('10.0.0.1')
const PEER = parseAddr('10.0.0.2')
const VIP = parsePrefix('10.0.0.100/24')

function config(over: Partial<RuntimeInstance> = {}): RuntimeInstance {
  return webInstance('10.0.0.100/24', over)
}

function setup(over: Partial<RuntimeInstance> = {}, leftover: Addr[] = []) {
  const clock = new VirtualClock(1000)
  const sent: Array<{ priority: number; to: Addr }> = []
  const kernel: Addr[] = [PRIMARY, ...leftover]
  const vipOps: string[] = []
  const up: Up[] = []
  const garps: Addr[] = []
  const deps = {
    now: () => clock.now(),
    wall: () => clock.now(),
    net: {
      addresses: () => kernel.map((address) => ({ address })),
      has: (_i: number, a: Addr) => kernel.some((k) => sameAddr(k, a)),
      addVip: async (_i: number, v: { prefix: { addr: Addr } }) => {
        vipOps.push('add')
        if (!kernel.some((k) => sameAddr(k, v.prefix.addr))) kernel.push(v.prefix.addr)
      },
      deleteVip: async (_i: number, v: { prefix: { addr: Addr } }) => {
        vipOps.push('del')
        const i = kernel.findIndex((k) => sameAddr(k, v.prefix.addr))
        if (i >= 0) kernel.splice(i, 1)
      },
      link: () => ({ mac: Uint8Array.of(2, 0xc0, 0, 0, 0, 1) }),
      linkByName: () => undefined,
    },
    announcer: {
      garp: (_i: number, _m: Uint8Array, vip: Addr) => {
        garps.push(vip)
        return true
      },
      na: () => true,
    },
    channel: {
      group: GROUP4,
      send: (pkt: Buffer, to: Addr) => {
        sent.push({ priority: decode(pkt, 0, 4).value.priority, to })
        return true
      },
    },
    ifindex: 2,
    primary: PRIMARY,
    timers: clock,
    post: (m: Up) => up.push(m),
    log: () => {},
  } as unknown as InstanceDeps
  const inst = new Instance(config(over), deps)
  return { inst, clock, sent, kernel, vipOps, up, garps }
}

/** An IPv4 packet as a raw socket delivers it: header (TTL, addresses) + a VRRPv3 advert. */
function advert(o: { priority: number; src?: Addr; ttl?: number; vrid?: number }): ReceivedDatagram {
  const src = o.src ?? PEER
  const vrrp = encode(
    { version: 3, type: 1, vrid: o.vrid ?? 51, priority: o.priority, interval: 10, family: 4, addrs: [VIP.addr] },
    { src, dst: GROUP4 },
  )
  const ip = Buffer.alloc(20)
  ip[0] = 0x45
  ip.writeUInt16BE(20 + vrrp.length, 2)
  ip[8] = o.ttl ?? 255
  ip[9] = 112
  ip.set(src.bytes, 12)
  ip.set(GROUP4.bytes, 16)
  return { data: Buffer.concat([ip, vrrp]), from: Buffer.alloc(16), cmsg: {}, flags: 0 }
}

const flush = () => new Promise((r) => setImmediate(r))
const transitions = (up: Up[]) => up.flatMap((m) => (m.type === 'transition' ? [`${m.from}>${m.to}:${m.why}`] : []))

test('a lone backup becomes master after Master_Down_Interval: advert, VIP added, then 5 GARPs', async (t) => {
  const s = setup()
  await s.inst.start()
  t.deepEqual(transitions(s.up), ['INIT>BACKUP:startup'])
  s.clock.advanceTo(1000 + 360)
  t.is(s.inst.role, 'BACKUP', 'not before 361 ms (3 × 100 + 156 × 100 / 256)')
  s.clock.advanceTo(1000 + 361)
  t.is(s.inst.role, 'MASTER')
  t.deepEqual(s.sent, [{ priority: 100, to: GROUP4 }])
  await flush()
  t.deepEqual(s.vipOps, ['add'])
  t.is(s.garps.length, 5, 'the first burst, after the VIP is in')
  s.clock.advanceTo(1361 + 4999)
  t.is(s.garps.length, 5)
  s.clock.advanceTo(1361 + 5000)
  t.is(s.garps.length, 10, 'the second burst 5 s later')
  t.is(s.sent.length, 1 + 50, 'one advert per 100 ms')
  t.is(s.inst.counters.lateAdverts, 0)
})

test('a master hearing a higher priority steps down, says so once more, and removes its VIP', async (t) => {
  const s = setup()
  await s.inst.start()
  s.clock.advanceTo(1361)
  await flush()
  s.inst.receive(advert({ priority: 200 }))
  t.is(s.inst.role, 'BACKUP')
  t.deepEqual(transitions(s.up).at(-1), 'MASTER>BACKUP:higher_priority')
  t.is(s.sent.at(-1)?.priority, 100, 'one advert at our own priority, so the winner re-announces')
  await flush()
  t.deepEqual(s.vipOps, ['add', 'del'])
  t.is(s.inst.counters.rx, 1)
  const garps = s.garps.length
  // the new master keeps advertising, past the time of the old master's second burst (5 s)
  for (let i = 0; i < 60; i++) {
    s.clock.advance(100)
    s.inst.receive(advert({ priority: 200 }))
  }
  t.is(s.inst.role, 'BACKUP')
  t.is(s.garps.length, garps, 'no second burst after stepping down')
})

test('an accepted advert is remembered as the last one heard: sender, priority, interval, arrival', async (t) => {
  const s = setup()
  await s.inst.start()
  t.is(s.inst.counters.lastAdvert, undefined)
  s.clock.advance(300)
  const at = s.clock.now()
  s.inst.receive(advert({ priority: 200 }))
  t.deepEqual(s.inst.counters.lastAdvert, { from: '10.0.0.2', priority: 200, advertMs: 100, at })
  s.clock.advance(50)
  s.inst.receive(advert({ priority: 200, ttl: 64 }))
  t.is(s.inst.counters.lastAdvert?.at, at, 'a dropped packet is not an advert heard')
})

test('malformed and foreign packets are counted by reason and change nothing', async (t) => {
  const s = setup()
  await s.inst.start()
  s.inst.receive(advert({ priority: 200, ttl: 64 }))
  s.inst.receive(advert({ priority: 200, vrid: 9 }))
  s.inst.receive({ data: Buffer.from([0x45, 0]), from: Buffer.alloc(0), cmsg: {}, flags: 0 })
  const bad = advert({ priority: 200 })
  bad.data.writeUInt8((bad.data.at(-1) ?? 0) ^ 0xff, bad.data.length - 1)
  s.inst.receive(bad)
  s.inst.receive(advert({ priority: 200, src: PRIMARY }))
  t.deepEqual(s.inst.counters.drops, { ttl: 1, vrid: 1, ip_header: 1, checksum: 1, own: 1 })
  t.is(s.inst.counters.rx, 0)
  s.clock.advanceTo(1361)
  t.is(s.inst.role, 'MASTER', 'dropped packets did not reset Master_Down')
})

test('start-up removes a VIP left by an earlier run; shutdown of a master sends priority 0 and removes the VIP', async (t) => {
  const s = setup({}, [VIP.addr])
  await s.inst.start()
  t.deepEqual(s.vipOps, ['del'])
  s.clock.advanceTo(1361)
  await s.inst.shutdown()
  t.is(s.sent.at(-1)?.priority, 0)
  t.deepEqual(s.vipOps, ['del', 'add', 'del'])
  t.false(s.kernel.some((k) => sameAddr(k, VIP.addr)))
  t.is(transitions(s.up).at(-1), 'MASTER>INIT:shutdown')
  const n = s.sent.length
  s.clock.advanceTo(5000)
  t.is(s.sent.length, n, 'no timer survives shutdown')
})

test('a fault from a tracked interface resigns with priority 0; clearing it returns to BACKUP', async (t) => {
  const s = setup()
  await s.inst.start()
  s.clock.advanceTo(1361)
  s.inst.setFault('track:eth1', true)
  t.is(s.inst.role, 'FAULT')
  t.is(s.sent.at(-1)?.priority, 0)
  s.inst.setFault('track:eth1', false)
  t.deepEqual(transitions(s.up).slice(-2), ['MASTER>FAULT:fault', 'FAULT>BACKUP:fault_cleared'])
})

test('a priority delta on a master is advertised at once', async (t) => {
  const s = setup()
  await s.inst.start()
  s.clock.advanceTo(1361)
  s.inst.setDelta('track:eth1', -30)
  t.is(s.sent.at(-1)?.priority, 70)
  s.inst.setDelta('track:eth1', 0)
  t.is(s.sent.at(-1)?.priority, 100)
})

test('an advert whose timer fires more than half an interval late is counted', async (t) => {
  const s = setup()
  await s.inst.start()
  s.clock.advanceTo(1361)
  // the loop stalls: the next advert (due at 1461) runs at 1530
  s.clock.spend(1530 - s.clock.now())
  s.clock.advance(0)
  t.is(s.inst.counters.lateAdverts, 1)
  t.true(s.inst.counters.maxLateMs >= 69)
})
