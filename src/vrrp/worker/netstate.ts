// The worker's view of its network namespace: links (state, MAC) and addresses per interface, kept
// current by rtnetlink events, with VIP add/delete that tolerates "already there" / "already gone".
import { type Addr, type Family, formatPrefix, sameAddr } from '../../net/addr.js'
import type { HeldRequests } from '../../net/netlink-cork.js'
import { type LinkWatch, Rtnetlink } from '../../net/rtnetlink.js'
import { type Address, IFA_F_DADFAILED, IFA_F_SECONDARY, IFA_F_TENTATIVE } from '../../net/rtnl-addr.js'
import type { Link } from '../../net/rtnl-link.js'
import { sysErrorCode } from '../../sys/errno.js'
import type { RuntimeVip } from '../messages.js'
import { createRequest, deleteRequest, prepareSysctls, upRequest } from './vmac.js'

export interface NetEvents {
  link(link: Link): void
  addressAdded(ifindex: number, addr: Addr): void
  addressDeleted(ifindex: number, addr: Addr): void
  error(msg: string, fields: Record<string, unknown>): void
}

function errCode(e: unknown): string | undefined {
  const d = (e as { details?: { code?: unknown } }).details
  return typeof d?.code === 'string' ? d.code : sysErrorCode(e)
}

export class NetState {
  private readonly links = new Map<number, Link>()
  private readonly addrs = new Map<number, Address[]>()
  private addrGeneration = 0
  private readonly watches: LinkWatch[] = []

  private constructor(private readonly rtnl: Rtnetlink) {}

  static async open(events: NetEvents): Promise<NetState> {
    const n = new NetState(Rtnetlink.open())
    // watch first, then dump: an event racing the dump is applied again, which is harmless
    n.watches.push(
      n.rtnl.watchLinks((e) => {
        if (e.kind === 'resync')
          void n.reload().catch((err) => events.error('link resync failed', { err: String(err) }))
        else if (e.kind === 'del') {
          n.links.delete(e.link.index)
          // a deleted interface is as down as can be (FAULT for an instance on it)
          events.link({ ...e.link, up: false, lowerUp: false })
        } else {
          n.links.set(e.link.index, e.link)
          events.link(e.link)
        }
      }),
      n.rtnl.watchAddresses((e) => {
        if (e.kind === 'resync') {
          void n.reload().catch((err) => events.error('address resync failed', { err: String(err) }))
          return
        }
        const a = e.address
        const list = (n.addrs.get(a.ifindex) ?? []).filter((x) => !sameAddr(x.address, a.address))
        if (e.kind === 'new') list.push(a)
        n.addrs.set(a.ifindex, list)
        n.addrGeneration++
        if (e.kind === 'del') events.addressDeleted(a.ifindex, a.address)
        else events.addressAdded(a.ifindex, a.address)
      }),
    )
    await n.reload()
    return n
  }

  async reload(): Promise<void> {
    // one dump at a time: the kernel answers a second concurrent dump on one socket with EBUSY
    const links = await this.rtnl.listLinks()
    const addrs = await this.rtnl.listAddresses()
    this.links.clear()
    for (const l of links) this.links.set(l.index, l)
    this.addrs.clear()
    for (const a of addrs) this.addrs.set(a.ifindex, [...(this.addrs.get(a.ifindex) ?? []), a])
    this.addrGeneration++
  }

  link(ifindex: number): Link | undefined {
    return this.links.get(ifindex)
  }

  linkByName(name: string): Link | undefined {
    for (const l of this.links.values()) if (l.name === name) return l
    return undefined
  }

  /** Changes whenever an address is added or deleted anywhere, so readers may cache what they derive. */
  get generation(): number {
    return this.addrGeneration
  }

  addresses(ifindex: number, family?: Family): Address[] {
    return (this.addrs.get(ifindex) ?? []).filter((a) => family === undefined || a.family === family)
  }

  /**
   * The address adverts are sent from: IPv4 the first primary (not secondary) address that is not
   * a VIP; IPv6 the link-local address (RFC 5798 §5.1.2.1).
   */
  primary(ifindex: number, family: Family, vips: readonly Addr[]): Addr | undefined {
    // a tentative address (DAD in progress, e.g. at boot) cannot be a source yet: the instance waits
    // until the kernel says DAD is over, instead of failing every send and electing itself alone
    const usable = (a: Address) => (a.flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) === 0
    const list = this.addresses(ifindex, family).filter((a) => usable(a) && !vips.some((v) => sameAddr(v, a.address)))
    if (family === 6)
      return list.find((a) => a.address.bytes[0] === 0xfe && (a.address.bytes[1]! & 0xc0) === 0x80)?.address
    return (list.find((a) => (a.flags & IFA_F_SECONDARY) === 0) ?? list[0])?.address
  }

  /** Whether an address of the family on the interface is waiting for duplicate address detection. */
  tentative(ifindex: number, family: Family): boolean {
    return this.addresses(ifindex, family).some((a) => (a.flags & IFA_F_TENTATIVE) !== 0)
  }

  has(ifindex: number, addr: Addr): boolean {
    return this.addresses(ifindex).some((a) => sameAddr(a.address, addr))
  }

  /** Requests from now on wait for release() (NetlinkClient.hold): a takeover's VIPs, built ahead. */
  hold(): HeldRequests {
    return this.rtnl.client.hold()
  }

  /** Adds a VIP; one already present counts as added. IPv6 without DAD, so it is usable at once. */
  async addVip(ifindex: number, v: RuntimeVip): Promise<void> {
    const family = v.prefix.addr.family
    try {
      await this.rtnl.addAddress({
        ifindex,
        prefix: v.prefix,
        ...(family === 4 && v.label ? { label: v.label } : {}),
        ...(family === 6 ? { nodad: true } : {}),
      })
    } catch (e) {
      if (errCode(e) !== 'EEXIST') throw e
    }
  }

  /** Deletes a VIP; one already gone counts as deleted. */
  async deleteVip(ifindex: number, v: RuntimeVip): Promise<void> {
    try {
      await this.rtnl.deleteAddress({ ifindex, prefix: v.prefix })
    } catch (e) {
      const code = errCode(e)
      if (code !== 'EADDRNOTAVAIL' && code !== 'ENODEV') throw e
    }
  }

  /**
   * A fresh macvlan `name` with `mac` on `parent` (one left by a crashed run is deleted first,
   * taking its VIPs with it), sysctls set, up. Returns its ifindex.
   */
  async createVmac(name: string, parent: Link, mac: Uint8Array, family: Family = 4): Promise<number> {
    const old = this.linkByName(name)
    if (old) await this.rtnl.client.request(deleteRequest(old.index), { op: 'RTM_DELLINK' })
    await this.rtnl.client.request(createRequest(name, parent.index, mac), { op: 'RTM_NEWLINK macvlan' })
    await this.reload()
    const link = this.linkByName(name)
    if (!link) throw new Error(`macvlan ${name} not found after creation`)
    await prepareSysctls(parent.name, name, family)
    await this.rtnl.client.request(upRequest(link.index), { op: 'RTM_NEWLINK up' })
    if (family === 6) {
      // the parent's link-local on the macvlan too: the source of this director's IPv6 adverts
      const ll = this.primary(parent.index, 6, [])
      if (!ll) throw new Error(`no IPv6 link-local address on ${parent.name} for ${name}`)
      await this.addVip(link.index, { prefix: { addr: ll, len: 64 } })
    }
    return link.index
  }

  async deleteLink(index: number): Promise<void> {
    try {
      await this.rtnl.client.request(deleteRequest(index), { op: 'RTM_DELLINK' })
    } catch (e) {
      if (errCode(e) !== 'ENODEV') throw e
    }
  }

  close(): void {
    for (const w of this.watches) w.close()
    this.rtnl.close()
  }
}

export const vipText = (v: RuntimeVip): string => formatPrefix(v.prefix)
