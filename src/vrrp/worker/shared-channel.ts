// One advert channel and the instances that share it: every datagram is offered to each member,
// the kernel's routing of adverts is kept to the members' VRIDs and expectations
// (advert-routing.ts), and a takeover reads what the channel holds before it acts.
import type { Timers } from '../../clock.js'
import { toWireError } from '../../errors.js'
import type { ReceivedDatagram } from '../../sys/types.js'
import type { LogLevel } from '../messages.js'
import { AdvertRouting, type AsideHandle } from './advert-routing.js'
import type { Instance } from './instance.js'
import type { Channel } from './sockets.js'

/** One advert socket: Channel, or a fake. */
export type WorkerChannel = Pick<Channel, 'group' | 'send' | 'close'> &
  Partial<Pick<Channel, 'pacer' | 'route' | 'takeAside' | 'silence' | 'outgoing' | 'queuedFds'>> & {
    socket: {
      onReceive(cb: (m: ReceivedDatagram) => void, onError: (err: unknown) => void): void
      /** What is queued now, read at once (Socket.receiveAll); absent in fakes that only deliver. */
      receiveAll?(): ReceivedDatagram[]
    }
  }

export interface SharedChannelDeps {
  /** Monotonic ms. */
  now(): number
  /** For the foreign queue's paced reads. */
  timers: Timers
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void
}

export class SharedChannel {
  readonly members: Instance[] = []
  /** Where the kernel routes adverts (a real channel; a fake's datagrams are all read at once). */
  private readonly routing: AdvertRouting | undefined

  constructor(
    readonly channel: WorkerChannel,
    family: 4 | 6,
    private readonly d: SharedChannelDeps,
  ) {
    channel.socket.onReceive(
      (m) => this.deliver(m),
      (err) => d.log('error', 'VRRP socket receive failed', { family, err: toWireError(err) }),
    )
    const { route, takeAside, silence } = channel
    if (!route || !takeAside) return
    this.routing = new AdvertRouting(
      family,
      {
        route: route.bind(channel),
        takeAside: takeAside.bind(channel),
        ...(silence ? { silence: silence.bind(channel) } : {}),
      },
      {
        now: d.now,
        deliver: (m, maxAgeMs, repeat, copies) => this.deliver(m, maxAgeMs, repeat, copies),
        queueFull: (n) => {
          for (const i of this.members) i.countQueueFull(n)
        },
        timers: d.timers,
        failed: (err) =>
          d.log('warn', 'adverts not routed by the kernel: every one wakes the worker', {
            family,
            err: toWireError(err),
          }),
      },
    )
  }

  /** A member's handle on what the kernel sets aside for it, where the channel can route. */
  aside(name: string): { aside?: AsideHandle } {
    return this.routing ? { aside: this.routing.handle(name) } : {}
  }

  add(inst: Instance): void {
    this.members.push(inst)
    this.routeVrids()
  }

  /** Takes `inst` out; true when no member is left (the caller closes the channel). */
  remove(inst: Instance): boolean {
    const i = this.members.indexOf(inst)
    if (i < 0) return false
    this.members.splice(i, 1)
    this.routing?.forget(inst.cfg.name)
    this.routeVrids()
    return this.members.length === 0
  }

  /** Delivers what the channel holds now, as its poller would on the next turn (a takeover's last look). */
  receiveQueued(): void {
    // what was set aside reached the host first
    this.routing?.catchUp()
    let queued: ReceivedDatagram[] = []
    try {
      queued = this.channel.socket.receiveAll?.() ?? []
    } catch (err) {
      // the poller meets the same error on its next turn and reports it
      this.d.log('debug', 'VRRP socket read before a takeover failed', { err: toWireError(err) })
    }
    for (const m of queued) this.deliver(m)
  }

  /**
   * The sockets receiveQueued() reads, for a wait in C that checks them at the deadline; undefined
   * for a fake. What the silence timer read is not on them: a takeover's lead took it (catchUp)
   * and nothing runs on the thread between the lead and the deadline.
   */
  queuedFds(): number[] | undefined {
    return this.channel.queuedFds?.()
  }

  /**
   * What was set aside is handed over and no repeat is expected any more: the next advert of each
   * master is read and checked again (the host's addresses changed under the checks).
   */
  recheck(): void {
    this.routing?.catchUp(true)
    this.routing?.forgetAll()
  }

  /** Everything set aside, read now (counters are exact when read). */
  catchUp(): void {
    this.routing?.catchUp(true)
  }

  close(): void {
    this.routing?.close()
    this.channel.close()
  }

  private deliver(m: ReceivedDatagram, maxAgeMs?: number, repeat = false, copies = 1): void {
    for (const i of this.members) i.receive(m, maxAgeMs, repeat, copies)
  }

  /** The members' VRIDs, so the kernel sets aside only other routers' adverts. */
  private routeVrids(): void {
    this.routing?.setVrids(this.members.map((i) => i.cfg.vrid))
  }
}
