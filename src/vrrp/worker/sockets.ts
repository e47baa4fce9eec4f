// The VRRP worker's kernel sockets (node-systems-notes §3.3): raw IP protocol 112 for adverts over
// IPv4 and IPv6, multicast or unicast, AF_PACKET for gratuitous ARP, raw ICMPv6 for unsolicited NA.
import type { Addr } from '../../net/addr.js'
import * as arp from '../../net/arp.js'
import * as ndp from '../../net/ndp.js'
import * as C from '../../sys/constants.js'
import { Pacer, type PacerEvents, type PacerStats } from '../../sys/pacer.js'
import type { Outgoing } from '../../sys/sent-ahead.js'
import type { SilenceEvents, SilenceTimer } from '../../sys/silence-timer.js'
import { decodeSockaddr, ipMreqn, ipv6Mreq, sockaddrIn, sockaddrIn6, sockaddrLl } from '../../sys/sockaddr.js'
import { Socket } from '../../sys/socket.js'
import type { ReceivedDatagram as SysReceived } from '../../sys/types.js'
import type { Received } from '../validate.js'
import type { RoutePrograms } from './advert-filters.js'
import { type AsideTaken, SideQueues } from './side-queues.js'

export const GROUP4: Addr = { family: 4, bytes: Uint8Array.of(224, 0, 0, 18) }
export const GROUP6: Addr = {
  family: 6,
  bytes: Uint8Array.from(Buffer.from('ff020000000000000000000000000012', 'hex')),
}
export const ALL_NODES6: Addr = {
  family: 6,
  bytes: Uint8Array.from(Buffer.from('ff020000000000000000000000000001', 'hex')),
}
/** DSCP CS6 (network control), as keepalived marks its adverts (IPv4 TOS and IPv6 traffic class). */
const TOS_CS6 = 0xc0
// <linux/in6.h> values src/sys/constants.ts does not list yet
const IPV6_TCLASS = 67
const IPV6_AUTOFLOWLABEL = 70
/** Binding to an address not (yet) on the host (Linux 4.15+): the NA socket is readied before its VIP. */
const IPV6_FREEBIND = 78
const IP_PMTUDISC_DONT = 0

export interface ChannelSpec {
  family: 4 | 6
  ifname: string
  ifindex: number
  /** Multicast: the source address (IPv4 primary) chosen with IP_MULTICAST_IF. Unicast: bound. */
  source?: Addr
  /** Unicast instead of the VRRP group; `ttl` is then the unicast TTL / hop limit. */
  unicast?: { ttl: number }
}

/** A master's routine adverts sent without JavaScript, on a channel's socket (native/pacer.cc). */
export interface AdvertPace {
  /** `packets[i]` to `targets[i]` `firstInMs` from now, then an interval after each send; replaces what ran. */
  start(packets: Buffer[], targets: Addr[], firstInMs: number, intervalMs: number, lateMs: number): void
  stop(): void
  /** ms from now until the next round, undefined when stopped. */
  readonly nextInMs: number | undefined
  stats(): PacerStats
  close(): void
}

/** One socket sending and receiving adverts on one interface for one family and mode. */
/** The part of the silence timer a channel's routing drives (the rest is SideQueues'). */
export type Silence = Pick<SilenceTimer, 'arm' | 'disarm'>

export class Channel {
  readonly socket: Socket
  private readonly sockaddrs = new WeakMap<Addr, Buffer>()
  /** Closed before the socket: a pacer left running would send on whatever reuses the fd number. */
  private readonly pacers = new Set<Pacer>()
  private side: SideQueues | undefined
  constructor(readonly spec: ChannelSpec) {
    this.socket = spec.family === 4 ? open4(spec) : open6(spec)
  }

  /**
   * Routes adverts between this channel's sockets (advert-filters.ts): the polled one keeps what
   * needs a decision now. The side sockets open at the first call.
   */
  route(p: RoutePrograms): void {
    this.side ??= SideQueues.open(this.socket, () => (this.spec.family === 4 ? open4(this.spec) : open6(this.spec)))
    this.side.route(p)
  }

  /** What the kernel set aside (SideQueues.take); nothing before the first route(). */
  takeAside(all: boolean): AsideTaken {
    return this.side?.take(all) ?? { repeats: [], skipped: 0, foreign: [], queueFull: 0 }
  }

  /** Master_Down read over the repeat queue in C++ (SideQueues.silence); undefined before the first route(). */
  silence(events: SilenceEvents): Silence | undefined {
    return this.side?.silence(events)
  }

  /**
   * The sockets whose adverts a takeover reads at its deadline (SharedChannel.receiveQueued): this
   * one and the repeat queue. With nothing to read on them the read would find nothing.
   */
  queuedFds(): number[] {
    return this.side ? [this.socket.fd, this.side.repeatFd] : [this.socket.fd]
  }

  /** The VRRP group, or nothing for unicast (each send names its peer). */
  get group(): Addr | undefined {
    if (this.spec.unicast) return undefined
    return this.spec.family === 4 ? GROUP4 : GROUP6
  }

  send(packet: Buffer, to: Addr): boolean {
    return this.socket.send(packet, this.sockaddrOf(to))
  }

  /** The datagram send(packet, to) would send, for a batch sent ahead of it (sys/sent-ahead.ts). */
  outgoing(packet: Buffer, to: Addr): Outgoing {
    return this.socket.outgoing(packet, this.sockaddrOf(to))
  }

  /** A pacer sending on this socket, for one instance. */
  pacer(events: PacerEvents): AdvertPace {
    const p = new Pacer(this.socket.fd, events)
    this.pacers.add(p)
    return {
      start: (packets, targets, firstInMs, intervalMs, lateMs) =>
        p.startIn(
          packets,
          targets.map((t) => this.sockaddrOf(t)),
          firstInMs,
          intervalMs,
          lateMs,
        ),
      stop: () => p.stop(),
      get nextInMs() {
        return p.nextInMs
      },
      stats: () => p.stats(),
      close: () => {
        p.close()
        this.pacers.delete(p)
      },
    }
  }

  private sockaddrOf(to: Addr): Buffer {
    // one sockaddr per destination object (the group constant, the configured peers), not per send
    let sa = this.sockaddrs.get(to)
    if (!sa) {
      sa =
        to.family === 4
          ? sockaddrIn(to.bytes)
          : sockaddrIn6(to.bytes, { scopeId: isLinkScope(to) ? this.spec.ifindex : 0 })
      this.sockaddrs.set(to, sa)
    }
    return sa
  }

  close(): void {
    for (const p of this.pacers) p.close()
    this.pacers.clear()
    this.side?.close()
    this.side = undefined
    this.socket.close()
  }
}

const isLinkScope = (a: Addr) => a.family === 6 && (a.bytes[0] === 0xff || (a.bytes[0] === 0xfe && a.bytes[1] === 0x80))

function bindToDevice(s: Socket, ifname: string): void {
  s.setOption(C.SOL_SOCKET, C.SO_BINDTODEVICE, Buffer.from(`${ifname}\0`))
}

/**
 * At most this many datagrams per wake-up, then the loop serves its other handles (the advert
 * timer) before reading on. Under a 30,000 pps flood the default (4,096) was 55 ms of validation in
 * one go, and the timerfd waited behind two of them: adverts 100 ms late (vrrp-flood-cadence, max
 * gap 204-211 ms). 128 is under 2 ms here. Borrowed: Instance.receive copies only what it keeps
 * (addresses, the decoded advert), so a dropped datagram allocates no buffer.
 */
const VRRP_RECEIVE = { drainLimit: 128, borrow: true }

/** Master_Down counts from when the kernel had the advert, not from when this thread read it. */
function stampArrivals(s: Socket): void {
  s.setOption(C.SOL_SOCKET, C.SO_TIMESTAMPNS, 1)
}

function open4(spec: ChannelSpec): Socket {
  const s = Socket.open(C.AF_INET, C.SOCK_RAW, C.IPPROTO_VRRP, VRRP_RECEIVE)
  try {
    bindToDevice(s, spec.ifname)
    stampArrivals(s)
    s.setOption(C.IPPROTO_IP, C.IP_TOS, TOS_CS6)
    // no DF bit, as keepalived's adverts (a 40-byte packet never needs path MTU discovery)
    s.setOption(C.IPPROTO_IP, C.IP_MTU_DISCOVER, IP_PMTUDISC_DONT)
    if (spec.unicast) {
      if (spec.source) s.bind(sockaddrIn(spec.source.bytes))
      s.setOption(C.IPPROTO_IP, C.IP_TTL, spec.unicast.ttl)
    } else {
      // without a membership on this very interface nothing arrives over veth (lab-recipes A.7)
      s.setOption(C.IPPROTO_IP, C.IP_ADD_MEMBERSHIP, ipMreqn(GROUP4.bytes, { ifindex: spec.ifindex }))
      s.setOption(C.IPPROTO_IP, C.IP_MULTICAST_ALL, 0)
      const mreq = ipMreqn(GROUP4.bytes, {
        ifindex: spec.ifindex,
        ...(spec.source ? { address: spec.source.bytes } : {}),
      })
      s.setOption(C.IPPROTO_IP, C.IP_MULTICAST_IF, mreq)
      s.setOption(C.IPPROTO_IP, C.IP_MULTICAST_TTL, 255)
      s.setOption(C.IPPROTO_IP, C.IP_MULTICAST_LOOP, 0)
    }
    return s
  } catch (e) {
    s.close()
    throw e
  }
}

function open6(spec: ChannelSpec): Socket {
  const s = Socket.open(C.AF_INET6, C.SOCK_RAW, C.IPPROTO_VRRP, VRRP_RECEIVE)
  try {
    bindToDevice(s, spec.ifname)
    stampArrivals(s)
    // the kernel computes (and, receiving, verifies) the checksum at offset 6 over the pseudo-header
    s.setOption(C.IPPROTO_IPV6, C.IPV6_CHECKSUM, 6)
    s.setOption(C.IPPROTO_IPV6, IPV6_TCLASS, TOS_CS6)
    // IPv6 raw sockets do not deliver the header: hop limit and destination come as cmsgs (§7.1)
    s.setOption(C.IPPROTO_IPV6, C.IPV6_RECVHOPLIMIT, 1)
    s.setOption(C.IPPROTO_IPV6, C.IPV6_RECVPKTINFO, 1)
    if (spec.unicast) {
      if (spec.source) s.bind(sockaddrIn6(spec.source.bytes))
      s.setOption(C.IPPROTO_IPV6, C.IPV6_UNICAST_HOPS, spec.unicast.ttl)
    } else {
      s.setOption(C.IPPROTO_IPV6, C.IPV6_JOIN_GROUP, ipv6Mreq(GROUP6.bytes, spec.ifindex))
      s.setOption(C.IPPROTO_IPV6, C.IPV6_MULTICAST_ALL, 0)
      s.setOption(C.IPPROTO_IPV6, C.IPV6_MULTICAST_IF, spec.ifindex)
      s.setOption(C.IPPROTO_IPV6, C.IPV6_MULTICAST_HOPS, 255)
      s.setOption(C.IPPROTO_IPV6, C.IPV6_MULTICAST_LOOP, 0)
    }
    return s
  } catch (e) {
    s.close()
    throw e
  }
}

const IPV4_ARRIVAL: Received = Object.freeze({ family: 4 })

/**
 * What validate() needs about how a datagram arrived. IPv4: the header is in the data. IPv6: the
 * source from recvfrom, the destination from IPV6_PKTINFO and the hop limit from IPV6_HOPLIMIT.
 */
export function arrival(family: 4 | 6, m: SysReceived): Received | undefined {
  if (family === 4) return IPV4_ARRIVAL
  const sa = decodeSockaddr(m.from)
  const dst = m.cmsg.pktinfo6?.addr
  if (!('addr' in sa) || sa.family !== C.AF_INET6 || !dst) return undefined
  return {
    family: 6,
    hopLimit: m.cmsg.hopLimit,
    src: { family: 6, bytes: sa.addr },
    dst: { family: 6, bytes: dst },
  }
}

/** One VIP's announcement as it goes on the wire: the message, where it goes, and the MAC it names. */
interface Announcement {
  mac: Uint8Array
  msg: Buffer
  to: Buffer
}

/** Announcements kept per VIP; past this many (VIPs reloaded away over a long life) they are rebuilt. */
const KEPT_ANNOUNCEMENTS = 4096

const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && a.every((x, i) => x === b[i])

/** Sends gratuitous ARPs and unsolicited NAs; one AF_PACKET socket, one ICMPv6 socket per IPv6 VIP. */
export class Announcer {
  private packet: Socket | undefined
  private readonly icmp6 = new Map<string, Socket>()
  /**
   * Each VIP's GARP/NA built once (prepareFor, in the lead) and sent as is at the takeover and by
   * every burst after it: the first announcement after the advert only looks it up and sends.
   */
  private readonly built = new Map<string, Announcement>()
  /** Inside rehearse(): everything runs but the send, and what would have been sent is kept here. */
  private withheld: Outgoing[] | undefined

  /**
   * Readies the take-over path before any takeover: the GARP socket opened and the frame builders run
   * once on throwaway values, so V8 compiles them now and not between a new master's first advert and
   * its first GARP. Nothing is sent. Failing here only leaves the socket to the first GARP.
   */
  prepare(): void {
    const mac = new Uint8Array(6)
    this.build(0, mac, { family: 4, bytes: new Uint8Array(4) })
    this.build(0, mac, { family: 6, bytes: new Uint8Array(16) })
    try {
      this.packet ??= Socket.open(C.AF_PACKET, C.SOCK_RAW, 0)
    } catch {}
  }

  /**
   * Runs `fn` with every GARP/NA looked up and readied as for real but not sent (garp() and na()
   * return false, so nothing is counted): the lead's rehearsal of a takeover's announcement path.
   * A path's first run is slow however warm the functions under it (docs/notes.md, session 13),
   * so the takeover's own first GARP must not be that first run. Returns what would have been
   * sent, in order, for a batch sent ahead of the real run (sys/sent-ahead.ts).
   */
  rehearse(fn: () => void): Outgoing[] {
    const kept: Outgoing[] = []
    this.withheld = kept
    try {
      fn()
    } finally {
      this.withheld = undefined
    }
    return kept
  }

  /** Sends, or inside rehearse() keeps what would have been sent and reports nothing sent. */
  private send(s: Socket, a: Announcement): boolean {
    if (!this.withheld) return s.send(a.msg, a.to)
    this.withheld.push(s.outgoing(a.msg, a.to))
    return false
  }

  /** One GARP for `vip` from `mac` out of `ifindex`. */
  garp(ifindex: number, mac: Uint8Array, vip: Addr): boolean {
    // protocol 0: a send-only packet socket, so the kernel queues nothing to it
    this.packet ??= Socket.open(C.AF_PACKET, C.SOCK_RAW, 0)
    const a = this.announcement(ifindex, mac, vip)
    return this.send(this.packet, a)
  }

  /**
   * One unsolicited NA for `vip` to ff02::1, hop limit 255 (RFC 4861 §7.2.6), from the VIP itself
   * and without a flow label, as keepalived sends it. The socket is bound to the VIP once it is on
   * the interface; if binding fails the kernel picks the source (a link-local address, also valid).
   */
  na(ifindex: number, mac: Uint8Array, vip: Addr): boolean {
    const a = this.announcement(ifindex, mac, vip)
    const s = this.naSocket(ifindex, vip)
    return this.send(s, a)
  }

  /**
   * Readies one VIP's announcements ahead of a takeover (an instance does it in the lead before
   * Master_Down): the socket opened (for an NA, bound to the VIP before it is on the host) and the
   * message and its address built and kept, so neither is done between the advert and the first
   * GARP/NA. Nothing is sent.
   */
  prepareFor(ifindex: number, mac: Uint8Array, vip: Addr): void {
    if (vip.family === 6) this.naSocket(ifindex, vip)
    else this.packet ??= Socket.open(C.AF_PACKET, C.SOCK_RAW, 0)
    this.announcement(ifindex, mac, vip)
  }

  /** The VIP's kept announcement, rebuilt when its interface's MAC changed since. */
  private announcement(ifindex: number, mac: Uint8Array, vip: Addr): Announcement {
    const key = `${ifindex}/${Buffer.from(vip.bytes).toString('hex')}`
    const kept = this.built.get(key)
    if (kept && sameBytes(kept.mac, mac)) return kept
    if (this.built.size >= KEPT_ANNOUNCEMENTS) this.built.clear()
    const a = this.build(ifindex, mac, vip)
    this.built.set(key, a)
    return a
  }

  private build(ifindex: number, mac: Uint8Array, vip: Addr): Announcement {
    if (vip.family === 6)
      return {
        mac: Uint8Array.from(mac),
        msg: ndp.encode(ndp.unsolicitedNa(vip, mac)),
        to: sockaddrIn6(ALL_NODES6.bytes, { scopeId: ifindex }),
      }
    return {
      mac: Uint8Array.from(mac),
      msg: arp.encode(arp.gratuitousArp(mac, vip)),
      to: sockaddrLl({ protocol: C.ETH_P_ARP, ifindex, addr: arp.BROADCAST }),
    }
  }

  /** One ICMPv6 socket per IPv6 VIP, bound to it so the NA comes from the VIP itself. */
  private naSocket(ifindex: number, vip: Addr): Socket {
    const key = `${ifindex}/${Buffer.from(vip.bytes).toString('hex')}`
    let s = this.icmp6.get(key)
    if (s) return s
    s = Socket.open(C.AF_INET6, C.SOCK_RAW, C.IPPROTO_ICMPV6)
    s.setOption(C.IPPROTO_IPV6, C.IPV6_MULTICAST_HOPS, 255)
    s.setOption(C.IPPROTO_IPV6, C.IPV6_MULTICAST_LOOP, 0)
    s.setOption(C.IPPROTO_IPV6, IPV6_AUTOFLOWLABEL, 0)
    try {
      // readied before its VIP is on the host (prepareFor): without it the bind fails and the
      // kernel picks a link-local source, also valid but not what keepalived sends
      s.setOption(C.IPPROTO_IPV6, IPV6_FREEBIND, 1)
    } catch {}
    try {
      s.bind(sockaddrIn6(vip.bytes))
    } catch {}
    this.icmp6.set(key, s)
    return s
  }

  close(): void {
    this.packet?.close()
    for (const s of this.icmp6.values()) s.close()
    this.packet = undefined
    this.icmp6.clear()
    this.built.clear()
  }
}
