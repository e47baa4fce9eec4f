// The schedule of gratuitous ARP / unsolicited NA bursts of a master (keepalived's garp_* settings):
// `repeat` packets at once, `repeat` more after `delay`, then `refresh_repeat` every `refresh`.
import { realClock, type Timers } from '../../clock.js'
import type { AnnounceConfig } from '../messages.js'

export class BurstSchedule {
  private readonly handles = new Set<unknown>()

  constructor(
    private readonly cfg: AnnounceConfig,
    /** Sends one announcement for every VIP. */
    private readonly sendRound: () => void,
    private readonly timers: Timers = realClock,
  ) {}

  /** Becoming master (or a split brain healing): a full burst now, the second later, refreshes. */
  start(): void {
    this.stop()
    this.burst(this.cfg.repeat)
    if (this.cfg.delayMs > 0) this.after(this.cfg.delayMs, () => this.burst(this.cfg.repeat))
    if (this.cfg.refreshMs > 0) this.refresh()
  }

  /** A single burst without touching the schedule (used after a VIP was re-added). */
  once(): void {
    this.burst(this.cfg.repeat)
  }

  /** A reload changed the schedule of a running master: no new burst, only the refreshes go on. */
  refreshOnly(): void {
    this.stop()
    if (this.cfg.refreshMs > 0) this.refresh()
  }

  stop(): void {
    for (const h of this.handles) this.timers.clear(h)
    this.handles.clear()
  }

  private refresh(): void {
    this.after(this.cfg.refreshMs, () => {
      this.burst(this.cfg.refreshRepeat)
      this.refresh()
    })
  }

  private burst(n: number): void {
    if (this.cfg.intervalMs <= 0) {
      for (let i = 0; i < n; i++) this.sendRound()
      return
    }
    this.sendRound()
    let left = n - 1
    const next = () => {
      if (left-- <= 0) return
      this.sendRound()
      this.after(this.cfg.intervalMs, next)
    }
    this.after(this.cfg.intervalMs, next)
  }

  private after(ms: number, fn: () => void): void {
    const h = this.timers.set(() => {
      this.handles.delete(h)
      fn()
    }, ms)
    this.handles.add(h)
  }
}
