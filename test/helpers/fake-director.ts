// An in-memory Director for tests of the API, lvsctl and metrics: it keeps a Status, applies drain,
// weight and release to it the way the real director's status would show them, and publishes events.

import type {
  ConfigInfo,
  Director,
  InstanceStatus,
  ReloadResult,
  ServerRef,
  ServerStatus,
  ServiceStatus,
  Status,
} from '../../src/api/types.js'
import { LvsdError } from '../../src/errors.js'
import { EventBus } from '../../src/events.js'
import { sameAddr, tryParseAddr } from '../../src/net/addr.js'

export interface FakeDirectorOptions {
  status: Status
  bus?: EventBus
  /** What the next reload answers (default: ok, no changes). */
  reload?: () => ReloadResult | Promise<ReloadResult>
}

function parseServerText(s: string): { addr: string; port: number } {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(s)
  return { addr: m?.[1] ?? s, port: Number(m?.[2] ?? 0) }
}

export class FakeDirector implements Director {
  readonly events: EventBus
  status: Status
  /** Calls in order, e.g. ['drain web 10.0.0.7:80']: what the API asked for. */
  readonly calls: string[] = []
  private readonly reloadFn: () => ReloadResult | Promise<ReloadResult>
  private reloading = false

  constructor(opts: FakeDirectorOptions) {
    this.status = structuredClone(opts.status)
    this.events = opts.bus ?? new EventBus()
    this.reloadFn =
      opts.reload ??
      (() => ({ ok: true, config: this.status.config, changes: { added: [], removed: [], changed: [] } }))
  }

  getStatus(): Status {
    return structuredClone(this.status)
  }

  getConfig(): ConfigInfo {
    return { ...this.status.config }
  }

  private service(name: string): ServiceStatus {
    const s = this.status.services.find((x) => x.name === name)
    if (!s) throw new LvsdError('LVSD_API_UNKNOWN_SERVICE', `no service ${name}`, { service: name })
    return s
  }

  private server(ref: ServerRef): ServerStatus {
    const s = this.service(ref.service)
    const r = s.servers.find((x) => {
      const p = parseServerText(x.server)
      const a = tryParseAddr(p.addr)
      return a !== undefined && sameAddr(a, ref.addr) && p.port === ref.port
    })
    if (!r) throw new LvsdError('LVSD_API_UNKNOWN_SERVER', `no such server in ${ref.service}`, { service: ref.service })
    return r
  }

  private effective(r: ServerStatus): void {
    const base = r.weight.operator ?? r.weight.configured
    r.weight.effective = r.drained || r.health === 'down' ? 0 : base
  }

  private instance(name: string): InstanceStatus {
    const i = this.status.instances.find((x) => x.name === name)
    if (!i) throw new LvsdError('LVSD_API_UNKNOWN_INSTANCE', `no instance ${name}`, { instance: name })
    return i
  }

  async reload(): Promise<ReloadResult> {
    this.calls.push('reload')
    if (this.reloading) throw new LvsdError('LVSD_API_CONFLICT', 'a reload is already running')
    this.reloading = true
    try {
      return await this.reloadFn()
    } finally {
      this.reloading = false
    }
  }

  async drain(ref: ServerRef): Promise<ServerStatus> {
    const r = this.server(ref)
    this.calls.push(`drain ${ref.service} ${r.server}`)
    r.drained = true
    this.effective(r)
    return structuredClone(r)
  }

  async undrain(ref: ServerRef): Promise<ServerStatus> {
    const r = this.server(ref)
    this.calls.push(`undrain ${ref.service} ${r.server}`)
    r.drained = false
    this.effective(r)
    return structuredClone(r)
  }

  async setWeight(ref: ServerRef, weight: number | null): Promise<ServerStatus> {
    const r = this.server(ref)
    this.calls.push(`weight ${ref.service} ${r.server} ${weight}`)
    if (weight === null) delete r.weight.operator
    else r.weight.operator = weight
    this.effective(r)
    return structuredClone(r)
  }

  async release(name: string): Promise<InstanceStatus> {
    const i = this.instance(name)
    this.calls.push(`release ${name}`)
    if (i.state === 'FAULT') throw new LvsdError('LVSD_API_CONFLICT', `${name} is in FAULT`, { instance: name })
    i.released = true
    i.effectivePriority = 0
    return structuredClone(i)
  }

  async resume(name: string): Promise<InstanceStatus> {
    const i = this.instance(name)
    this.calls.push(`resume ${name}`)
    i.released = false
    i.effectivePriority = i.priority
    return structuredClone(i)
  }
}

/** A status with a bit of everything (tests and docs examples start from it). */
export function exampleStatus(): Status {
  const kernel = (conns: number) => ({ conns, inPkts: conns * 10, outPkts: 0, inBytes: conns * 1000, outBytes: 0 })
  return {
    node: 'lb01',
    version: '0.1.0',
    pid: 4242,
    startedAt: Date.UTC(2026, 0, 1, 12, 0, 0),
    config: { source: '/etc/lvsd/lvsd.yaml', hash: 'ab'.repeat(32), loadedAt: Date.UTC(2026, 0, 1, 12, 0, 0) },
    instances: [
      {
        name: 'web',
        interface: 'eth0',
        vrid: 51,
        version: 3,
        state: 'MASTER',
        priority: 150,
        effectivePriority: 150,
        released: false,
        vips: ['10.0.0.3/24', '2001:db8::3/64'],
        lastTransition: { from: 'BACKUP', to: 'MASTER', why: 'master_down', at: Date.UTC(2026, 0, 1, 12, 0, 3, 120) },
        counters: { advertsSent: 1200, advertsReceived: 3, drops: { ttl: 2, vrid: 5 }, lateAdverts: 1, transitions: 2 },
      },
      {
        name: 'db',
        interface: 'eth1',
        vrid: 52,
        version: 2,
        state: 'BACKUP',
        priority: 100,
        effectivePriority: 90,
        released: false,
        vips: ['10.0.1.3/24'],
        lastTransition: { from: 'INIT', to: 'BACKUP', why: 'startup', at: Date.UTC(2026, 0, 1, 12, 0, 0, 10) },
        counters: { advertsSent: 0, advertsReceived: 1203, drops: {}, lateAdverts: 0, transitions: 1 },
      },
    ],
    services: [
      {
        name: 'web',
        key: 'tcp/10.0.0.3/80',
        protocol: 'tcp',
        address: '10.0.0.3:80',
        scheduler: 'wrr',
        flags: [],
        forwarding: 'dr',
        follow: 'web',
        quorum: { up: true, alive: 1, required: 1 },
        active: true,
        kernel: kernel(500),
        servers: [
          {
            server: '10.0.0.7:80',
            forwarding: 'dr',
            health: 'up',
            healthSince: Date.UTC(2026, 0, 1, 12, 0, 4),
            lastCheck: { ok: true, ms: 1.5, at: Date.UTC(2026, 0, 1, 12, 30, 0) },
            weight: { configured: 3, effective: 3 },
            drained: false,
            kernel: { ...kernel(400), activeConns: 12, inactiveConns: 40, persistentConns: 0 },
          },
          {
            server: '10.0.0.8:80',
            forwarding: 'dr',
            health: 'down',
            healthSince: Date.UTC(2026, 0, 1, 12, 10, 0),
            lastCheck: { ok: false, ms: 1000, at: Date.UTC(2026, 0, 1, 12, 30, 0), detail: 'timeout after 1000 ms' },
            weight: { configured: 1, effective: 0 },
            drained: false,
            kernel: { ...kernel(100), activeConns: 0, inactiveConns: 2, persistentConns: 0 },
          },
        ],
      },
      {
        name: 'dns6',
        key: 'udp/2001:db8::53/53',
        protocol: 'udp',
        address: '[2001:db8::53]:53',
        scheduler: 'sh',
        flags: ['sh-fallback', 'ops'],
        forwarding: 'dr',
        quorum: { up: true, alive: 1, required: 1 },
        active: true,
        servers: [
          {
            server: '[2001:db8::a]:53',
            forwarding: 'dr',
            health: 'unchecked',
            weight: { configured: 1, effective: 1 },
            drained: false,
          },
        ],
      },
      {
        name: 'mark7',
        key: 'fwmark/4/7',
        address: 'fwmark:7',
        scheduler: 'wlc',
        flags: ['persistent'],
        persistenceSec: 300,
        forwarding: 'nat',
        quorum: { up: false, alive: 0, required: 2 },
        active: false,
        servers: [],
      },
    ],
  }
}
