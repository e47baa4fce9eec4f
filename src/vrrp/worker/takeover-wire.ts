// What a takeover puts on the wire, in the order its commit sends it, built in the lead so that it
// can leave in one native call at the deadline (sys/sent-ahead.ts): the advert, the held VIP
// additions, then the first GARP/NA round. Only a prefix of the commit's sends: where a part
// cannot be known ahead (a fake channel, a deletion, additions that are not held), the list stops,
// so nothing after it can overtake what the commit still sends itself.
import { type Outgoing, SEND_AHEAD_MAX, SendAhead, settleSentAhead } from '../../sys/sent-ahead.js'
import type * as fsm from '../fsm.js'

export interface WireParts {
  /** An advert at `priority` as sent to each target; undefined when the channel cannot say. */
  advert(priority: number): Outgoing[] | undefined
  /** The held VIP additions' one datagram; undefined when they are not held or not known. */
  adds: Outgoing | undefined
  /** The first GARP/NA round as rehearsed (announcements.ts), sent once the additions are. */
  announced: Outgoing[]
}

export function takeoverWire(steps: fsm.Step[], p: WireParts): Outgoing[] {
  const out: Outgoing[] = []
  let added = false
  for (const r of steps)
    for (const a of r.actions) {
      switch (a.kind) {
        case 'send': {
          const advert = p.advert(a.priority)
          if (!advert) return out
          out.push(...advert)
          break
        }
        case 'vips':
          // a deletion is queued behind the VIP chain; additions go at once only when held
          if (a.op !== 'add' || !p.adds || added) return out
          out.push(p.adds)
          added = true
          break
        case 'announce':
          // the commit announces at once only after its own additions (Instance.act)
          if (!added) return out
          out.push(...p.announced)
          return out
        default:
          break
      }
    }
  return out
}

/** The instance's clock and sockets as the wire list needs them (InstanceDeps). */
export interface WireHost {
  now(): number
  wall(): number
  /** CLOCK_MONOTONIC ns of a time on now()'s clock; absent, the wait for the deadline is JavaScript's. */
  deadlineNs?(atMs: number): number
  /** The sockets a takeover reads at its deadline; undefined: not known. */
  queuedFds?(): number[] | undefined
}

/** Where what the list did is told (the instance's log). */
export interface WireLog {
  warnOnce(key: string, msg: string, fields: Record<string, unknown>): void
  debug(msg: string, fields: Record<string, unknown>): void
}

/** One instance's wire list: built in the lead, sent at the deadline, settled after the commit. */
export class WireAhead {
  private batch: SendAhead | undefined
  private sentAt: number | undefined
  private sent = 0
  /** The last send waited for the deadline in C (nothing was queued to read first). */
  private inC = false
  /** Why the last list could not be sent. */
  private failure: unknown

  constructor(
    private readonly host: WireHost,
    private readonly log: WireLog,
  ) {}

  /**
   * In the lead: the list for these steps, replacing one never sent (a takeover called off). A
   * longer list than one call takes is cut: still a prefix, the commit sends the rest.
   */
  prepare(steps: fsm.Step[], parts: WireParts): void {
    this.batch = new SendAhead(takeoverWire(steps, parts).slice(0, SEND_AHEAD_MAX))
  }

  /**
   * Waits in C for the deadline `at` and sends the list there, unless something is queued on the
   * channel's sockets: false when it is (nothing sent; the list is kept for sendNow() once the
   * caller has read it), and when the host cannot wait in C.
   */
  sendAt(at: number): boolean {
    const quiet = this.host.queuedFds?.()
    if (!this.host.deadlineNs || !quiet) return false
    const wall = this.host.wall() + Math.max(0, at - this.host.now())
    return this.send(wall, { notBeforeNs: this.host.deadlineNs(at), quiet: Int32Array.from(quiet) })
  }

  /** Sends the list now (the deadline has passed and what was queued has been read). */
  sendNow(): void {
    this.send(this.host.wall())
  }

  /** The wall-clock time of the last send, once; undefined when none is waiting for its commit. */
  takeSentAt(): number | undefined {
    const at = this.sentAt
    this.sentAt = undefined
    return at
  }

  /** After the commit: the results nobody took dropped, and what the list did logged. */
  settle(): void {
    const unasked = settleSentAhead()
    if (this.failure !== undefined)
      this.log.warnOnce('send-ahead', 'takeover datagrams could not be sent in one call: sent one by one', {
        err: String(this.failure),
      })
    // the list mirrors the commit's sends (takeoverWire): a datagram left means they parted
    if (unasked > 0) this.log.warnOnce('sent-ahead', 'takeover sent datagrams its commit did not', { unasked })
    // atDeadline: from the wait in C; false: an advert was queued there and was read first
    if (this.sent > 0)
      this.log.debug('takeover datagrams sent in one call', { datagrams: this.sent, atDeadline: this.inC })
    this.sent = 0
    this.inC = false
    this.failure = undefined
  }

  /** The list, with `wall` the time the takeover's reports carry; false when not sent. */
  private send(wall: number, at?: { notBeforeNs: number; quiet: Int32Array }): boolean {
    const b = this.batch ?? new SendAhead([])
    try {
      if (!b.send(at)) return false
    } catch (err) {
      // refused before anything was sent: the list is dropped and the commit sends it all itself
      this.batch = undefined
      this.failure = err
      return false
    }
    this.batch = undefined
    this.sentAt = wall
    this.sent = b.size
    this.inC = at !== undefined
    return true
  }
}
