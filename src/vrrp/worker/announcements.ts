// A master's gratuitous ARPs and unsolicited NAs for its VIPs: the burst schedule (keepalived's
// garp_* settings), one round over every VIP, and the takeover's lead, which readies each VIP's
// announcement and rehearses the burst so that the first GARP after the advert is not the first
// run of its path.
import type { Timers } from '../../clock.js'
import type { Outgoing } from '../../sys/sent-ahead.js'
import type { AnnounceConfig, Counters } from '../messages.js'
import { BurstSchedule } from './burst.js'
import type { NetState } from './netstate.js'
import type { Announcer } from './sockets.js'
import type { VipChanges } from './vip-changes.js'

export interface AnnouncementsDeps {
  announcer: Pick<Announcer, 'garp' | 'na'> & Partial<Pick<Announcer, 'prepareFor' | 'rehearse'>>
  net: Pick<NetState, 'link'>
  vips: Pick<VipChanges, 'all' | 'ifindexOf'>
  timers: Timers
  /** The instance's counters: each GARP and NA sent is counted there. */
  counters: Pick<Counters, 'garp' | 'na'>
  warnOnce(key: string, msg: string, fields: Record<string, unknown>): void
}

/** Timers that never fire: a rehearsed burst's second round and refreshes stay unarmed. */
const NEVER: Timers = { set: () => undefined, clear: () => {} }

export class Announcements {
  private schedule: BurstSchedule

  constructor(
    private cfg: AnnounceConfig,
    private readonly d: AnnouncementsDeps,
  ) {
    this.schedule = new BurstSchedule(cfg, () => this.round(), d.timers)
  }

  /** Becoming master: a full burst now, the second after `delay`, then the refreshes. */
  start(): void {
    this.schedule.start()
  }

  /** One burst, the schedule untouched (a VIP added again, or added by a reload). */
  once(): void {
    this.schedule.once()
  }

  stop(): void {
    this.schedule.stop()
  }

  /** A reload changed the settings: a new schedule, on which a master only goes on refreshing. */
  reconfigure(cfg: AnnounceConfig, master: boolean): void {
    this.schedule.stop()
    this.cfg = cfg
    this.schedule = new BurstSchedule(cfg, () => this.round(), this.d.timers)
    if (master) this.schedule.refreshOnly()
  }

  /**
   * In the lead before a takeover: every VIP's socket opened and announcement built (an IPv6 VIP's
   * NA socket alone took 0.3 ms after the advert, docs/benchmarks.md), then the burst run through
   * once with its sends withheld and its timers never armed. Returns what that first round would
   * have sent, in order (takeover-wire.ts).
   */
  prepare(): Outgoing[] {
    this.round(true)
    const { announcer } = this.d
    if (!announcer.rehearse) return []
    const dry = new BurstSchedule(this.cfg, () => this.round(), NEVER)
    return announcer.rehearse(() => dry.start())
  }

  /** One GARP/NA for every VIP; readying only opens the sockets and builds the announcements. */
  private round(readying = false): void {
    const { announcer, counters } = this.d
    for (const v of this.d.vips.all()) {
      const ifindex = this.d.vips.ifindexOf(v)
      const mac = ifindex === undefined ? undefined : this.d.net.link(ifindex)?.mac
      if (ifindex === undefined || !mac || mac.length !== 6) continue
      try {
        if (readying) announcer.prepareFor?.(ifindex, mac, v.prefix.addr)
        else if (v.prefix.addr.family === 4) {
          if (announcer.garp(ifindex, mac, v.prefix.addr)) counters.garp++
        } else if (announcer.na(ifindex, mac, v.prefix.addr)) counters.na++
      } catch (err) {
        const what = readying ? 'GARP/NA socket could not be opened' : 'GARP/NA send failed'
        this.d.warnOnce(`announce:${v.prefix.addr.family}`, what, { err: String(err) })
      }
    }
  }
}
