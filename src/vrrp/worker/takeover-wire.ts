// What a takeover puts on the wire, in the order its commit sends it, built in the lead so that it
// can leave in one native call at the deadline (sys/sent-ahead.ts): the advert, the held VIP
// additions, then the first GARP/NA round. Only a prefix of the commit's sends: where a part
// cannot be known ahead (a fake channel, a deletion, additions that are not held), the list stops,
// so nothing after it can overtake what the commit still sends itself.
import { type Outgoing, SendAhead, settleSentAhead } from '../../sys/sent-ahead.js'
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

/** One instance's wire list: built in the lead, sent at the deadline, settled after the commit. */
export class WireAhead {
  private batch: SendAhead | undefined
  private sentAt: number | undefined
  private sent = 0
  /** The last send() waited for the deadline in C (nothing was queued to read first). */
  private inC = false

  /** In the lead: the list for these steps, replacing one never sent (a takeover called off). */
  prepare(steps: fsm.Step[], parts: WireParts): void {
    this.batch = new SendAhead(takeoverWire(steps, parts))
  }

  /**
   * Sends the list; `wall` is the time the takeover's reports then carry. With `at`, waits in C for
   * the deadline and sends only if nothing is queued on the `quiet` sockets: false when something
   * was (nothing sent; the list is kept for a send() after the caller has read it).
   */
  send(wall: number, at?: { notBeforeNs: number; quiet: Int32Array }): boolean {
    const b = this.batch ?? new SendAhead([])
    if (!b.send(at)) return false
    this.batch = undefined
    this.sentAt = wall
    this.sent = b.size
    this.inC = at !== undefined
    return true
  }

  /** The wall-clock time of the last send(), once; undefined when none is waiting for its commit. */
  takeSentAt(): number | undefined {
    const at = this.sentAt
    this.sentAt = undefined
    return at
  }

  /**
   * After the commit: how many datagrams the list held, how many the commit did not ask for, and
   * whether the list left from the wait in C at the deadline.
   */
  settle(): { sent: number; unasked: number; inC: boolean } {
    const r = { sent: this.sent, unasked: settleSentAhead(), inC: this.inC }
    this.sent = 0
    this.inC = false
    return r
  }
}
