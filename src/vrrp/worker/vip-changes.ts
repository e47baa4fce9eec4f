// An instance's VIP changes, one after another in the order its state machine asked for them
// (a step-down's deletion before the next takeover's addition), and the jobs that must follow
// them (GARP/NA bursts). A takeover with nothing under way skips the queue: its additions go to the
// kernel at once (addNow), or are built before the deadline and held (ahead, the worker's lead).
import type { HeldRequests } from '../../net/netlink-cork.js'
import type { LogLevel, RuntimeInstance, RuntimeVip } from '../messages.js'
import type { NetState } from './netstate.js'

/** What VIP changes need of the namespace (NetState, or a fake in the unit tier). */
export type VipNet = Pick<NetState, 'linkByName' | 'addVip' | 'deleteVip'> & Partial<Pick<NetState, 'hold'>>

/** A takeover's VIP additions, built in the lead before Master_Down and sent at it. */
export interface VipAddsAhead {
  held: HeldRequests
  settled: Promise<PromiseSettledResult<void>[]>
}

export interface VipChangesDeps {
  net: VipNet
  /** The instance's own interface (or its virtual-MAC macvlan): VIPs without `dev` go there. */
  ifindex: number
  cfg(): RuntimeInstance
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void
}

export const vipsOf = (c: RuntimeInstance): RuntimeVip[] => [...c.vips, ...c.excludedVips]

export class VipChanges {
  private chain: Promise<void> = Promise.resolve()
  /** Jobs on the chain not finished yet. */
  private jobs = 0

  constructor(private readonly d: VipChangesDeps) {}

  /** Jobs queued and not finished. */
  get pending(): number {
    return this.jobs
  }

  /** Every VIP of the instance, excluded ones included. */
  all(): RuntimeVip[] {
    return vipsOf(this.d.cfg())
  }

  /** The interface a VIP goes on; undefined when its `dev` does not exist. */
  ifindexOf(v: RuntimeVip): number | undefined {
    const cfg = this.d.cfg()
    if (!v.dev || v.dev === cfg.interface) return this.d.ifindex
    return this.d.net.linkByName(v.dev)?.index
  }

  /** Runs `fn` after every job queued before it; a failure is logged, and the chain goes on. */
  queue(fn: () => Promise<void>): void {
    this.jobs++
    this.chain = this.chain
      .then(fn)
      .catch((err) => {
        this.d.log('error', 'VIP change failed', { vrrp: this.d.cfg().name, err: String(err) })
      })
      .finally(() => this.jobs--)
  }

  /** Adds or deletes every VIP, one after the other, after what is queued. */
  change(op: 'add' | 'del'): void {
    this.queue(async () => {
      for (const v of this.all()) await this.op(op, v)
    })
  }

  /**
   * Every addition goes to the kernel now, in this turn, not one awaited after the other in later
   * microtasks. rtnetlink handles a request inside sendmsg, so when this returns the VIPs are in (or
   * refused, which the chain logs) and the GARP/NA may go. Only with nothing pending.
   */
  addNow(): void {
    // settled here, in this turn: a refusal is logged by the job, never an unhandled rejection
    this.report(Promise.allSettled(this.all().map((v) => this.op('add', v))))
  }

  /**
   * The additions built now and held (NetState.hold), so at a deadline only their sendmsg is left:
   * release them (then report()) or withdraw them. Undefined when something is pending or the
   * namespace cannot hold requests.
   */
  ahead(): VipAddsAhead | undefined {
    if (this.jobs > 0 || !this.d.net.hold) return undefined
    const held = this.d.net.hold()
    return { held, settled: Promise.allSettled(this.all().map((v) => this.op('add', v))) }
  }

  /** The chain waits for additions already sent, and logs each refusal. */
  report(settled: Promise<PromiseSettledResult<void>[]>): void {
    this.queue(async () => {
      for (const r of await settled)
        if (r.status === 'rejected')
          this.d.log('error', 'VIP change failed', { vrrp: this.d.cfg().name, err: String(r.reason) })
    })
  }

  /** Resolves when every job queued so far has finished. */
  settled(): Promise<void> {
    return this.chain
  }

  /** One VIP added or deleted now (outside the chain: callers queue it when order matters). */
  async op(op: 'add' | 'del', v: RuntimeVip): Promise<void> {
    const ifindex = this.ifindexOf(v)
    if (ifindex === undefined) {
      this.d.log('error', 'VIP interface missing', { vrrp: this.d.cfg().name, dev: v.dev })
      return
    }
    if (op === 'add') await this.d.net.addVip(ifindex, v)
    else await this.d.net.deleteVip(ifindex, v)
  }
}
