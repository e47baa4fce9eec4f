// rtnetlink operations lvsd needs (rtnetlink(7)): list links and addresses, add and delete VIPs,
// and watch link and address changes. Requests and events use separate sockets: a notification
// caused by our own request carries that request's seq and port id, and would look like a reply.

import { NETLINK_ROUTE } from '../sys/constants.js'
import type { Family } from './addr.js'
import { dumpInterrupted, type NetlinkClient } from './netlink-client.js'
import { type OpenOptions, openNetlink } from './netlink-transport.js'
import type { NlMessage } from './nlmsg.js'
import {
  type Address,
  type AddressEvent,
  type AddressSpec,
  addressDumpRequest,
  addressFromMessage,
  addressRequest,
  RTM_DELADDR,
  RTM_NEWADDR,
  RTNLGRP_IPV4_IFADDR,
  RTNLGRP_IPV6_IFADDR,
} from './rtnl-addr.js'
import {
  type Link,
  type LinkEvent,
  linkDumpRequest,
  linkFromMessage,
  linkUpRequest,
  RTM_DELLINK,
  RTM_NEWLINK,
  RTNLGRP_LINK,
} from './rtnl-link.js'

/** Messages were lost or could not be read: rebuild state from a dump. */
export interface ResyncEvent {
  kind: 'resync'
  reason: string
}

export interface LinkWatch {
  close(): void
}

export type OpenClient = (protocol: number, opts: OpenOptions) => NetlinkClient

/** Event sockets get 4 MiB: a burst of VIP changes or a link flap must not overrun them. */
export const EVENT_RECEIVE_BUFFER = 4 << 20
const DUMP_ATTEMPTS = 3

export class Rtnetlink {
  constructor(
    readonly client: NetlinkClient,
    private readonly openClient: OpenClient = openNetlink,
    private readonly openOpts: OpenOptions = {},
  ) {}

  static open(opts: OpenOptions = {}): Rtnetlink {
    return new Rtnetlink(openNetlink(NETLINK_ROUTE, opts), openNetlink, opts)
  }

  async listLinks(): Promise<Link[]> {
    const parts = await this.dump(linkDumpRequest(), 'RTM_GETLINK')
    return parts.filter((m) => m.type === RTM_NEWLINK).map((m) => linkFromMessage(m).link)
  }

  /** Addresses of one family (or both), optionally of one interface (filtered here: old kernels ignore the filter). */
  async listAddresses(family?: Family, ifindex?: number): Promise<Address[]> {
    const parts = await this.dump(addressDumpRequest(family), 'RTM_GETADDR')
    return parts
      .filter((m) => m.type === RTM_NEWADDR)
      .map((m) => addressFromMessage(m).address)
      .filter((a) => (family === undefined || a.family === family) && (ifindex === undefined || a.ifindex === ifindex))
  }

  /** Adds an address; an existing one is LVSD_NL_KERNEL with details.code 'EEXIST'. */
  async addAddress(spec: AddressSpec): Promise<void> {
    await this.client.request(addressRequest('add', spec), { op: 'RTM_NEWADDR' })
  }

  /** Deletes an address; a missing one is LVSD_NL_KERNEL with details.code 'EADDRNOTAVAIL'. */
  async deleteAddress(spec: Pick<AddressSpec, 'ifindex' | 'prefix'>): Promise<void> {
    await this.client.request(addressRequest('del', spec), { op: 'RTM_DELADDR' })
  }

  /** Brings a link up or down (IFF_UP only). */
  async setLinkUp(ifindex: number, up: boolean): Promise<void> {
    await this.client.request(linkUpRequest(ifindex, up), { op: 'RTM_NEWLINK' })
  }

  /**
   * Link changes (RTNLGRP_LINK) on a socket of their own. A 'resync' event means events were lost:
   * re-list and diff (the watch itself keeps going, on a new socket if it had to).
   */
  watchLinks(cb: (e: LinkEvent | ResyncEvent) => void): LinkWatch {
    return this.watch([RTNLGRP_LINK], [RTM_NEWLINK, RTM_DELLINK], linkFromMessage, cb)
  }

  /** Address changes of the given families (RTNLGRP_IPV4_IFADDR / RTNLGRP_IPV6_IFADDR). */
  watchAddresses(cb: (e: AddressEvent | ResyncEvent) => void, families: Family[] = [4, 6]): LinkWatch {
    const groups = families.map((f) => (f === 4 ? RTNLGRP_IPV4_IFADDR : RTNLGRP_IPV6_IFADDR))
    return this.watch(groups, [RTM_NEWADDR, RTM_DELADDR], addressFromMessage, cb)
  }

  close(): void {
    this.client.close()
  }

  private watch<E>(
    groups: number[],
    types: number[],
    decode: (m: NlMessage) => E,
    cb: (e: E | ResyncEvent) => void,
  ): LinkWatch {
    let closed = false
    let c: NetlinkClient
    const open = () => {
      c = this.openClient(NETLINK_ROUTE, { receiveBuffer: EVENT_RECEIVE_BUFFER, ...this.openOpts, groups })
      c.onNotification((m) => {
        if (!types.includes(m.type)) return
        let e: E
        try {
          e = decode(m)
        } catch (err) {
          cb({ kind: 'resync', reason: `undecodable notification: ${(err as Error).message}` })
          return
        }
        cb(e)
      })
      c.onResync((reason) => resync(reason))
      c.onError((err) => resync(`socket error: ${(err as Error).message}`))
    }
    // A socket that stopped delivering (an overrun can do that) is replaced before the caller
    // hears of the resync, so the dump it then makes is followed by every later event.
    const resync = (reason: string) => {
      if (!closed && !c.alive) {
        c.close()
        try {
          open()
        } catch (err) {
          closed = true
          cb({ kind: 'resync', reason: `${reason}; event socket not reopened: ${(err as Error).message}` })
          return
        }
      }
      cb({ kind: 'resync', reason })
    }
    open()
    return {
      close: () => {
        closed = true
        c.close()
      },
    }
  }

  /** A dump, retried when the kernel flags it inconsistent (NLM_F_DUMP_INTR). */
  private async dump(req: NlMessage, op: string): Promise<NlMessage[]> {
    let parts: NlMessage[] = []
    for (let i = 0; i < DUMP_ATTEMPTS; i++) {
      parts = await this.client.request(req, { op })
      if (!dumpInterrupted(parts)) return parts
    }
    return parts
  }
}
