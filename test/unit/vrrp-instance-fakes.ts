// Fakes for driving a runtime Instance (src/vrrp/instance.ts) in the unit tier: a manual clock
// whose timers run in deadline order, a fake kernel address table, and recorders of what went on
// the wire (advert priority and VIPs), into the kernel and up to the main thread.
import { type Addr, parseAddr, parsePrefix, sameAddr } from '../../src/net/addr.js'
import type { ReceivedDatagram } from '../../src/sys/types.js'
import { Instance, type InstanceDeps } from '../../src/vrrp/instance.js'
import type { RuntimeInstance, Up } from '../../src/vrrp/messages.js'
import { decode, encode } from '../../src/vrrp/packet.js'
import { GROUP4 } from '../../src/vrrp/sockets.js'
import { webInstance } from '../helpers/vrrp-instance.js'

export class Clock {
  now = 1000
  private seq = 0
  private readonly due = new Map<number, { at: number; fn: () => void }>()
  readonly timers = {
    set: (fn: () => void, ms: number) => {
      const id = ++this.seq
      this.due.set(id, { at: this.now + ms, fn })
      return id
    },
    clear: (h: unknown) => {
      this.due.delete(h as number)
    },
  }
  /** Runs every timer due up to `to`, in deadline order, moving the clock to each. */
  advance(to: number): void {
    for (;;) {
      const next = [...this.due.entries()].filter(([, t]) => t.at <= to).sort((a, b) => a[1].at - b[1].at)[0]
      if (!next) break
      this.due.delete(next[0])
      this.now = Math.max(this.now, next[1].at)
      next[1].fn()
    }
    this.now = to
  }
}

export const PRIMARY = parseAddr('10.0.0.1')
export const PEER = parseAddr('10.0.0.2')
export const VIP = parsePrefix('10.0.0.100/24')

export function config(over: Partial<RuntimeInstance> = {}): RuntimeInstance {
  return webInstance('10.0.0.100/24', over)
}

export interface Sent {
  priority: number
  to: Addr
  /** The VIPs the advert carried, as strings. */
  addrs: string[]
}

export function setup(over: Partial<RuntimeInstance> = {}, extra: Partial<InstanceDeps> = {}, clock = new Clock()) {
  const sent: Sent[] = []
  const kernel: Addr[] = [PRIMARY]
  const vipOps: string[] = []
  const up: Up[] = []
  const garps: Addr[] = []
  const show = (a: Addr) => Array.from(a.bytes).join('.')
  const deps = {
    now: () => clock.now,
    wall: () => clock.now,
    net: {
      addresses: () => kernel.map((address) => ({ address })),
      has: (_i: number, a: Addr) => kernel.some((k) => sameAddr(k, a)),
      addVip: async (_i: number, v: { prefix: { addr: Addr } }) => {
        vipOps.push(`add ${show(v.prefix.addr)}`)
        if (!kernel.some((k) => sameAddr(k, v.prefix.addr))) kernel.push(v.prefix.addr)
      },
      deleteVip: async (_i: number, v: { prefix: { addr: Addr } }) => {
        vipOps.push(`del ${show(v.prefix.addr)}`)
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
        const v = decode(pkt, 0, 4).value
        sent.push({ priority: v.priority, to, addrs: v.addrs.map(show) })
        return true
      },
    },
    ifindex: 2,
    primary: PRIMARY,
    timers: clock.timers,
    post: (m: Up) => up.push(m),
    log: () => {},
    ...extra,
  } as unknown as InstanceDeps
  const inst = new Instance(config(over), deps)
  return { inst, clock, sent, kernel, vipOps, up, garps }
}

/** An IPv4 packet as a raw socket delivers it: header (TTL, addresses) + a VRRPv3 advert. */
export function advert(o: {
  priority: number
  src?: Addr
  ttl?: number
  vrid?: number
  vips?: Addr[]
}): ReceivedDatagram {
  const src = o.src ?? PEER
  const vrrp = encode(
    {
      version: 3,
      type: 1,
      vrid: o.vrid ?? 51,
      priority: o.priority,
      interval: 10,
      family: 4,
      addrs: o.vips ?? [VIP.addr],
    },
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

export const flush = () => new Promise((r) => setImmediate(r))
export const transitions = (up: Up[]) =>
  up.flatMap((m) => (m.type === 'transition' ? [`${m.from}>${m.to}:${m.why}`] : []))
