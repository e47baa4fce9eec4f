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

  /** In the lead: the list for these steps, replacing one never sent (a takeover called off). */
  prepare(steps: fsm.Step[], parts: WireParts): void {
    this.batch = new SendAhead(takeoverWire(steps, parts))
  }

  /** At the deadline: sends the list; `wall` is the time the takeover's reports then carry. */
  send(wall: number): void {
    const b = this.batch
    this.batch = undefined
    this.sentAt = wall
    this.sent = b?.size ?? 0
    b?.send()
  }

  /** The wall-clock time of the last send(), once; undefined when none is waiting for its commit. */
  takeSentAt(): number | undefined {
    const at = this.sentAt
    this.sentAt = undefined
    return at
  }

  /** After the commit: how many datagrams the list held and how many the commit did not ask for. */
  settle(): { sent: number; unasked: number } {
    const sent = this.sent
    this.sent = 0
    return { sent, unasked: settleSentAhead() }
  }
}
