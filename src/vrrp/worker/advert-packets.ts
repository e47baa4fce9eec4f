// An instance's adverts as they go on the wire, one per target (the multicast group, or each
// unicast peer). They repeat byte for byte until the priority, the config or the source address
// changes, so they are encoded once, not on every tick of a master (each encode was garbage and CPU
// in the worker), and a takeover's are encoded in the lead before its deadline.
import type { Addr } from '../../net/addr.js'
import type { Outgoing } from '../../sys/sent-ahead.js'
import type { RuntimeInstance } from '../messages.js'
import { encode, passwordAuthData } from '../packet.js'
import { intervalOnWire } from '../timers.js'
import type { Channel } from './sockets.js'

export interface AdvertPacketsDeps {
  cfg(): RuntimeInstance
  /** The source address (VRRPv3's checksum covers it). */
  primary(): Addr
  /** The multicast group; undefined in unicast mode. */
  group(): Addr | undefined
  /** A target whose advert cannot be encoded is reported here and has no packet. */
  failed(err: unknown): void
}

export class AdvertPackets {
  private last:
    | { cfg: RuntimeInstance; primary: Addr; priority: number; packets: Array<Buffer | undefined> }
    | undefined

  constructor(private readonly d: AdvertPacketsDeps) {}

  /** Where adverts go: each unicast peer, or the group. */
  targets(): Addr[] {
    const c = this.d.cfg()
    return c.unicast ? c.unicast.peers : [this.d.group() as Addr]
  }

  /**
   * The adverts at `priority` as `channel` sends them to each target, for a batch sent ahead
   * (takeover-wire.ts); undefined when the channel cannot say or a target has no packet.
   */
  outgoing(priority: number, channel: Partial<Pick<Channel, 'outgoing'>>): Outgoing[] | undefined {
    if (!channel.outgoing) return undefined
    const targets = this.targets()
    const packets = this.at(priority)
    const out: Outgoing[] = []
    for (let i = 0; i < targets.length; i++) {
      const pkt = packets[i]
      if (!pkt) return undefined
      out.push(channel.outgoing(pkt, targets[i] as Addr))
    }
    return out
  }

  /** The adverts at `priority`, in targets() order; encoded now if the cached ones are stale. */
  at(priority: number): Array<Buffer | undefined> {
    const cfg = this.d.cfg()
    const primary = this.d.primary()
    let a = this.last
    if (a?.cfg !== cfg || a.primary !== primary || a.priority !== priority) {
      a = { cfg, primary, priority, packets: [] }
      this.last = a
    }
    const targets = this.targets()
    for (let i = 0; i < targets.length; i++) {
      if (a.packets[i]) continue
      try {
        a.packets[i] = encodeAdvert(cfg, priority, primary, targets[i] as Addr)
      } catch (err) {
        this.d.failed(err)
      }
    }
    return a.packets
  }
}

function encodeAdvert(c: RuntimeInstance, priority: number, src: Addr, to: Addr): Buffer {
  return encode(
    {
      version: c.version,
      type: 1,
      vrid: c.vrid,
      priority,
      interval: intervalOnWire(c.version, c.advertMs),
      family: c.family,
      addrs: c.vips.map((v) => v.prefix.addr),
      ...(c.version === 2
        ? {
            auth: {
              type: c.auth?.type ?? 0,
              data: passwordAuthData(c.auth?.type === 1 ? (c.auth.password ?? '') : ''),
            },
          }
        : {}),
    },
    c.version === 3 ? { src, dst: to } : undefined,
  )
}
