// The doctor's view of the director's own side: a packet socket on one interface that hands each frame
// to whoever waits for it, and the interface's MAC and the address a probe of a server comes from.
import { type Addr, isLinkLocal, prefixContains } from '../net/addr.js'
import { Rtnetlink } from '../net/rtnetlink.js'
import { IFA_F_DADFAILED, IFA_F_TENTATIVE } from '../net/rtnl-addr.js'
import * as C from '../sys/constants.js'
import { sockaddrLl } from '../sys/sockaddr.js'
import { Socket } from '../sys/socket.js'
import type { ReceivedDatagram } from '../sys/types.js'

/** A packet socket on one interface, with a wait for the first frame a predicate accepts. */
export class PacketWire {
  private readonly waiters = new Set<(m: ReceivedDatagram) => void>()
  private constructor(
    readonly socket: Socket,
    readonly ifindex: number,
  ) {
    socket.onReceive(
      (m) => {
        for (const w of this.waiters) w(m)
      },
      () => {},
    )
  }

  static open(ifindex: number): PacketWire {
    // protocol htons(ETH_P_ALL): every frame on the interface, ARP, IPv4 and IPv6 alike
    const s = Socket.open(C.AF_PACKET, C.SOCK_RAW, ((C.ETH_P_ALL & 0xff) << 8) | (C.ETH_P_ALL >> 8))
    s.bind(sockaddrLl({ protocol: C.ETH_P_ALL, ifindex }))
    return new PacketWire(s, ifindex)
  }

  send(frame: Buffer, dst: Uint8Array, protocol: number): void {
    this.socket.send(frame, sockaddrLl({ protocol, ifindex: this.ifindex, addr: dst }))
  }

  wait<T>(match: (m: ReceivedDatagram) => T | undefined, timeoutMs: number): Promise<T | undefined> {
    return new Promise((resolve) => {
      const done = (v: T | undefined) => {
        clearTimeout(timer)
        this.waiters.delete(w)
        resolve(v)
      }
      const w = (m: ReceivedDatagram) => {
        let v: T | undefined
        try {
          v = match(m)
        } catch {
          v = undefined
        }
        if (v !== undefined) done(v)
      }
      const timer = setTimeout(() => done(undefined), timeoutMs)
      this.waiters.add(w)
    })
  }

  /**
   * Sends `send()`'s frame up to `tries` times, evenly over `timeoutMs`, until `match` accepts an
   * answer: one lost question (a link or an address not ready yet, a busy segment) is not a finding.
   */
  async ask<T>(send: () => void, match: (m: ReceivedDatagram) => T | undefined, timeoutMs: number, tries = 3) {
    let answered = false
    const answer = this.wait(match, timeoutMs).then((v) => {
      answered = true
      return v
    })
    const step = timeoutMs / tries
    for (let i = 0; i < tries && !answered; i++) {
      send()
      if (i < tries - 1) await Promise.race([answer, new Promise((r) => setTimeout(r, step))])
    }
    return answer
  }

  close(): void {
    this.socket.close()
  }
}

/** The director's side of a probe: the interface, its MAC and the address the probes come from. */
export interface LocalSide {
  ifname: string
  ifindex: number
  mac: Uint8Array
  src: Addr
  /** Every usable address of the server's family on the interface, with its prefix length. */
  addrs: { addr: Addr; len: number }[]
}

/**
 * The source for a probe of `server` among an interface's addresses of its family: one whose prefix
 * holds it, else (when the interface was named) the first global one; a link-local address only when
 * there is nothing else, since a server answers a global source the same way a client is answered.
 */
export function pickSource(addrs: { addr: Addr; len: number }[], server: Addr, named: boolean): Addr | undefined {
  const global = addrs.filter((a) => !(a.addr.family === 6 && isLinkLocal(a.addr)))
  const facing = global.find((a) => prefixContains({ addr: a.addr, len: a.len }, server))
  if (facing) return facing.addr
  if (!named) return undefined
  return (global[0] ?? addrs[0])?.addr
}

/**
 * The interface `ifname` (or, without it, the one with a connected prefix holding `server`;
 * undefined when none does) and its address facing `server`, of the server's family.
 */
export async function localSide(server: Addr, ifname?: string): Promise<LocalSide | undefined> {
  const rtnl = Rtnetlink.open()
  try {
    const links = (await rtnl.listLinks()).filter((l) => l.mac && (ifname === undefined || l.name === ifname))
    if (ifname !== undefined && links.length === 0) throw new Error(`no Ethernet interface ${ifname}`)
    for (const link of links) {
      // a tentative or duplicate address cannot be a source yet: the server's answer would be dropped
      const addrs = (await rtnl.listAddresses(server.family, link.index))
        .filter((a) => (a.flags & (IFA_F_TENTATIVE | IFA_F_DADFAILED)) === 0)
        .map((a) => ({ addr: a.local ?? a.address, len: a.prefixLen }))
      const src = pickSource(addrs, server, ifname !== undefined)
      if (src) return { ifname: link.name, ifindex: link.index, mac: link.mac as Uint8Array, src, addrs }
    }
    if (ifname !== undefined) throw new Error(`no IPv${server.family} address on ${ifname}`)
    return undefined
  } finally {
    rtnl.close()
  }
}
