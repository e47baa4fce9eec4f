// Fakes for driving a runtime Instance (src/vrrp/worker/instance.ts) and the worker (worker-core.ts) in the
// unit tier: the tier's virtual clock, a fake kernel address table, a fake
// namespace and advert socket, recorders of what went on the wire, into the kernel and up to the main
// thread, and the worker run in-process behind the port the main thread's VrrpRuntime talks to.
import { EventEmitter } from 'node:events'
import { type Addr, parseAddr, parsePrefix, sameAddr } from '../../src/net/addr.js'
import type { Address } from '../../src/net/rtnl-addr.js'
import type { Link } from '../../src/net/rtnl-link.js'
import type { ReceivedDatagram } from '../../src/sys/types.js'
import type { WorkerPort } from '../../src/vrrp/main/runtime.js'
import type { Down, RuntimeInstance, Up } from '../../src/vrrp/messages.js'
import { decode, encode } from '../../src/vrrp/packet.js'
import { Instance, type InstanceDeps } from '../../src/vrrp/worker/instance.js'
import type { NetEvents } from '../../src/vrrp/worker/netstate.js'
import { type ChannelSpec, GROUP4 } from '../../src/vrrp/worker/sockets.js'
import {
  VrrpWorkerCore,
  type WorkerChannel,
  type WorkerDeps,
  type WorkerNet,
} from '../../src/vrrp/worker/worker-core.js'
import { ip4 } from '../helpers/ip4.js'
import { VirtualClock } from '../helpers/virtual-clock.js'
import { webInstance } from '../helpers/vrrp-instance.js'

/** The fakes' clock: the tier's VirtualClock, starting at 1000 ms. */
export const newClock = (): VirtualClock => new VirtualClock(1000)

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

export function setup(over: Partial<RuntimeInstance> = {}, extra: Partial<InstanceDeps> = {}, clock = newClock()) {
  const sent: Sent[] = []
  const kernel: Addr[] = [PRIMARY]
  const vipOps: string[] = []
  const up: Up[] = []
  const garps: Addr[] = []
  const show = (a: Addr) => Array.from(a.bytes).join('.')
  const deps = {
    now: () => clock.now(),
    wall: () => clock.now(),
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
    timers: clock,
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
  return {
    data: ip4(vrrp, { src, ...(o.ttl === undefined ? {} : { ttl: o.ttl }) }),
    from: Buffer.alloc(16),
    cmsg: {},
    flags: 0,
  }
}

export const flush = () => new Promise((r) => setImmediate(r))
export const transitions = (up: Up[]) =>
  up.flatMap((m) => (m.type === 'transition' ? [`${m.from}>${m.to}:${m.why}`] : []))

export const link = (index: number, name: string, up = true): Link => ({
  index,
  name,
  flags: 0,
  up,
  lowerUp: up,
  running: up,
  operState: up ? 'UP' : 'DOWN',
  mac: Uint8Array.of(2, 0, 0, 0, 0, index),
})
export const address = (ifindex: number, a: string): Address => ({
  family: 4,
  ifindex,
  prefixLen: 24,
  address: parseAddr(a),
  flags: 0,
  scope: 0,
})

/** A namespace: links and addresses the test changes, then announces through the worker's NetEvents. */
export class FakeNet {
  readonly links = new Map<string, Link>()
  readonly addrs: Address[] = []
  events: NetEvents | undefined
  closed = false
  addLink(l: Link): void {
    this.links.set(l.name, l)
    this.events?.link(l)
  }
  addAddress(a: Address): void {
    this.addrs.push(a)
    this.events?.addressAdded(a.ifindex, a.address)
  }
  readonly api: WorkerNet = {
    link: (ifindex) => [...this.links.values()].find((l) => l.index === ifindex),
    linkByName: (name) => this.links.get(name),
    addresses: (ifindex, family) =>
      this.addrs.filter((a) => a.ifindex === ifindex && (family === undefined || a.family === family)),
    has: (ifindex, addr) => this.addrs.some((a) => a.ifindex === ifindex && sameAddr(a.address, addr)),
    primary: (ifindex, family, vips) =>
      this.addrs.find((a) => a.ifindex === ifindex && a.family === family && !vips.some((v) => sameAddr(v, a.address)))
        ?.address,
    tentative: () => false,
    addVip: async (ifindex, v) => {
      if (!this.api.has(ifindex, v.prefix.addr))
        this.addrs.push({ family: 4, ifindex, prefixLen: v.prefix.len, address: v.prefix.addr, flags: 0, scope: 0 })
    },
    deleteVip: async (ifindex, v) => {
      const i = this.addrs.findIndex((a) => a.ifindex === ifindex && sameAddr(a.address, v.prefix.addr))
      if (i >= 0) this.addrs.splice(i, 1)
    },
    createVmac: async () => {
      throw new Error('no macvlan in the unit tier')
    },
    deleteLink: async () => {},
    close: () => {
      this.closed = true
    },
  }
}

export class FakeChannel implements WorkerChannel {
  closed = false
  sent: Array<{ to: Addr; bytes: number }> = []
  receive: (m: ReceivedDatagram) => void = () => {}
  constructor(readonly spec: ChannelSpec) {}
  readonly socket = {
    onReceive: (cb: (m: ReceivedDatagram) => void) => {
      this.receive = cb
    },
  }
  get group(): Addr | undefined {
    return this.spec.unicast ? undefined : GROUP4
  }
  send(packet: Buffer, to: Addr): boolean {
    this.sent.push({ to, bytes: packet.length })
    return true
  }
  close(): void {
    this.closed = true
  }
}

/** A namespace with eth0 (10.0.0.1), the worker's deps over it and `clock`, and the sockets it opened. */
export function workerRig(clock = newClock(), post: (m: Up) => void = () => {}) {
  const net = new FakeNet()
  net.addLink(link(2, 'eth0'))
  net.addAddress(address(2, '10.0.0.1'))
  const channels: FakeChannel[] = []
  const deps: WorkerDeps = {
    post,
    now: () => clock.now(),
    wall: () => clock.now(),
    openTimers: () => ({
      set: (fn: () => void, ms: number) => clock.set(fn, ms),
      clear: (h: unknown) => clock.clear(h),
      close: () => {},
    }),
    openNet: async (events) => {
      net.events = events
      return net.api
    },
    openChannel: (spec) => {
      const c = new FakeChannel(spec)
      channels.push(c)
      return c
    },
    announcer: { garp: () => true, na: () => true, close: () => {} },
    setRealtime: () => ({ ok: false, tid: 1, reason: 'test' }),
  }
  return { clock, net, channels, deps }
}

/** The worker in this thread behind a port like the thread's: messages cross asynchronously, both ways. */
export function inProcessWorker(rig: ReturnType<typeof workerRig>): { port: WorkerPort; core: VrrpWorkerCore } {
  const ee = new EventEmitter()
  const core = new VrrpWorkerCore({ ...rig.deps, post: (m) => setImmediate(() => ee.emit('message', m)) })
  const port: WorkerPort = {
    postMessage: (m: Down) => setImmediate(() => core.handle(m)),
    on: (event: string, fn: (...args: never[]) => void) => ee.on(event, fn as (...args: unknown[]) => void),
    once: (event: string, fn: (...args: never[]) => void) => ee.once(event, fn as (...args: unknown[]) => void),
    terminate: async () => {
      ee.emit('exit', 1)
      return 1
    },
  }
  return { port, core }
}
