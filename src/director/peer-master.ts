// Who is master of an instance, as this node sees it: itself; else the sender of a recent advert (the
// wire, which needs no channel); else what the peer channel last said. An advert counts while it is
// younger than Master_Down_Interval could be (4 × its interval), the time a backup would wait too.
import type { PeerInstance } from '../peer/message.js'
import type { HeardAdvert } from '../vrrp/messages.js'
import type { PeerStatus } from './types.js'

export type SeenMaster = NonNullable<PeerStatus['instances'][number]['master']>

export interface MasterInputs {
  /** This node's name and its view of the instance. */
  node: string
  mine: PeerInstance | undefined
  /** The peer's node name, channel address and view of the instance (only while the channel is up). */
  peerNode: string | undefined
  peerAddress: string
  theirs: PeerInstance | undefined
  /** When the peer's view was heard (wall ms). */
  peerHeard: number | undefined
  /** The last advert this node accepted for the instance. */
  advert: HeardAdvert | undefined
  now: number
}

export function seenMaster(x: MasterInputs): SeenMaster | undefined {
  const { mine, theirs, advert } = x
  if (mine?.state === 'MASTER')
    return {
      node: x.node,
      ...(mine.address ? { address: mine.address } : {}),
      priority: mine.effectivePriority,
      advertMs: mine.advertMs,
      lastHeard: x.now,
    }
  if (advert && advert.priority > 0 && x.now - advert.at <= 4 * advert.advertMs) {
    const fromPeer = advert.from === x.peerAddress || advert.from === theirs?.address
    return {
      // a sender that is not the configured peer (a keepalived, a third router) is named by its address
      node: fromPeer && x.peerNode ? x.peerNode : advert.from,
      address: advert.from,
      priority: advert.priority,
      advertMs: advert.advertMs,
      lastHeard: advert.at,
    }
  }
  if (theirs?.state === 'MASTER' && x.peerNode && x.peerHeard !== undefined)
    return {
      node: x.peerNode,
      address: theirs.address ?? x.peerAddress,
      priority: theirs.effectivePriority,
      advertMs: theirs.advertMs,
      lastHeard: x.peerHeard,
    }
  return undefined
}
