// Virtual MAC interfaces for VRRP (RFC 5798 §7.3: 00:00:5e:00:0{1,2}:VRID for IPv4/IPv6), as keepalived's
// use_vmac: a macvlan in private mode on the instance's interface carries the adverts, the VIPs and
// the GARPs, so hosts and switches keep one MAC for the VIP whichever director is master.
// rtnetlink RTM_NEWLINK / RTM_DELLINK with IFLA_LINKINFO (<linux/if_link.h>).
import { writeFile } from 'node:fs/promises'
import { AttrBuilder } from '../../net/nlattr.js'
import { NLM_F_ACK, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST, type NlMessage } from '../../net/nlmsg.js'
import {
  encode,
  IFF_UP,
  IFLA_ADDRESS,
  IFLA_IFNAME,
  IFLA_LINK,
  IFLA_LINKINFO,
  RTM_DELLINK,
  RTM_NEWLINK,
} from '../../net/rtnl-link.js'

const IFLA_INFO_KIND = 1
const IFLA_INFO_DATA = 2
const IFLA_MACVLAN_MODE = 1
const MACVLAN_MODE_PRIVATE = 1
const AF_UNSPEC = 0

/**
 * keepalived's name for the interface of a VRID; IPv6 gets its own (`vrrp6.VRID`), since an IPv4
 * and an IPv6 instance may share a VRID on one interface and each needs its own virtual MAC.
 */
export const vmacName = (vrid: number, family: 4 | 6 = 4): string => `vrrp${family === 6 ? '6' : ''}.${vrid}`

/** RFC 5798 §7.3: 00:00:5e:00:01:VRID for IPv4, 00:00:5e:00:02:VRID for IPv6. */
export function vmacAddress(vrid: number, family: 4 | 6 = 4): Uint8Array {
  return Uint8Array.of(0x00, 0x00, 0x5e, 0x00, family === 6 ? 0x02 : 0x01, vrid)
}

/** RTM_NEWLINK creating the macvlan (down: sysctls are set before it comes up). */
export function createRequest(name: string, parentIndex: number, mac: Uint8Array): NlMessage {
  const b = new AttrBuilder()
    .string(IFLA_IFNAME, name, 15)
    .u32(IFLA_LINK, parentIndex)
    .binary(IFLA_ADDRESS, mac)
    .nested(IFLA_LINKINFO, (li) =>
      li
        .string(IFLA_INFO_KIND, 'macvlan')
        .nested(IFLA_INFO_DATA, (d) => d.u32(IFLA_MACVLAN_MODE, MACVLAN_MODE_PRIVATE)),
    )
  const err = b.firstError
  if (err) throw err
  return {
    type: RTM_NEWLINK,
    flags: NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
    seq: 0,
    pid: 0,
    payload: encode({ family: AF_UNSPEC, devType: 0, index: 0, flags: 0, change: 0, attrs: b.attrs() }),
  }
}

/** RTM_NEWLINK setting IFF_UP (only that flag, through the change mask). */
export function upRequest(index: number): NlMessage {
  return {
    type: RTM_NEWLINK,
    flags: NLM_F_REQUEST | NLM_F_ACK,
    seq: 0,
    pid: 0,
    payload: encode({ family: AF_UNSPEC, devType: 0, index, flags: IFF_UP, change: IFF_UP, attrs: [] }),
  }
}

export function deleteRequest(index: number): NlMessage {
  return {
    type: RTM_DELLINK,
    flags: NLM_F_REQUEST | NLM_F_ACK,
    seq: 0,
    pid: 0,
    payload: encode({ family: AF_UNSPEC, devType: 0, index, flags: 0, change: 0, attrs: [] }),
  }
}

const sysctl = (path: string, value: number) => writeFile(`/proc/sys/net/${path}`, `${value}\n`)

/**
 * keepalived's sysctls: the parent answers ARP only for its own addresses (arp_ignore 1,
 * arp_filter 1), so the VIP on the macvlan is answered with the virtual MAC; the macvlan gets no
 * IPv6 (both directors' macvlans share the MAC, hence the link-local address: DAD would fail).
 */
export async function prepareSysctls(parent: string, vmac: string, family: 4 | 6 = 4): Promise<void> {
  if (family === 6) return prepareSysctls6(vmac)
  await sysctl(`ipv4/conf/${parent}/arp_ignore`, 1)
  await sysctl(`ipv4/conf/${parent}/arp_filter`, 1)
  await sysctl(`ipv4/conf/${vmac}/arp_ignore`, 1)
  await sysctl(`ipv4/conf/${vmac}/accept_local`, 1)
  await sysctl(`ipv6/conf/${vmac}/disable_ipv6`, 1).catch(() => {}) // IPv6 may be off entirely
}

/**
 * IPv6: the macvlan gets no address of its own (addr_gen_mode 1 = none: both directors' macvlans
 * share the MAC, so an EUI-64 link-local would be the same on both and fail DAD). The parent's
 * link-local is added to it instead (netstate.ts), as keepalived does, so adverts leave the
 * virtual MAC with this director's own link-local source, which the tie-break compares.
 */
async function prepareSysctls6(vmac: string): Promise<void> {
  await sysctl(`ipv6/conf/${vmac}/disable_ipv6`, 0)
  await sysctl(`ipv6/conf/${vmac}/addr_gen_mode`, 1)
  await sysctl(`ipv6/conf/${vmac}/accept_dad`, 0)
}
