// The doctor's probes of one LVS-DR real server, from the director's interface over AF_PACKET: is it on
// this L2 segment (ARP for its address answered), does it answer ARP for the VIP (it must not), and
// does a SYN to the VIP sent to its MAC get an answer (SYN-ACK: VIP accepted and port open; RST: VIP
// accepted, nothing listening; nothing: the VIP is not local there). Sends only ARP requests and SYNs:
// no VIP, VRRP or IPVS state is touched; the director's kernel may RST the unexpected SYN-ACK, harmless.
import { randomInt } from 'node:crypto'
import { type Addr, prefixContains, sameAddr } from '../net/addr.js'
import * as arp from '../net/arp.js'
import { Rtnetlink } from '../net/rtnetlink.js'
import * as syn from '../net/tcp-syn.js'
import * as C from '../sys/constants.js'
import { sockaddrLl } from '../sys/sockaddr.js'
import { Socket } from '../sys/socket.js'
import type { ReceivedDatagram } from '../sys/types.js'

export interface DrTarget {
  ifname: string
  server: Addr
  vip: Addr
  port: number
}

export type SynAnswer = 'syn-ack' | 'rst' | 'none'

export interface DrProbe {
  /** The server's MAC from its ARP reply; undefined: it did not answer on this interface. */
  serverMac?: Uint8Array
  /** The server answered an ARP request for the VIP sent to its MAC. */
  answersVipArp: boolean
  /** The answer to a SYN to VIP:port sent to its MAC (undefined when the server was not found). */
  syn?: SynAnswer
}

const ZERO_MAC = new Uint8Array(6)

/** A packet socket on one interface, with a wait for the first frame a predicate accepts. */
class Wire {
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

  static open(ifindex: number): Wire {
    // protocol htons(ETH_P_ALL): every frame on the interface, ARP and IPv4 alike
    const s = Socket.open(C.AF_PACKET, C.SOCK_RAW, ((C.ETH_P_ALL & 0xff) << 8) | (C.ETH_P_ALL >> 8))
    s.bind(sockaddrLl({ protocol: C.ETH_P_ALL, ifindex }))
    return new Wire(s, ifindex)
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

  close(): void {
    this.socket.close()
  }
}

function arpReplyFrom(m: ReceivedDatagram, who: Addr, fromMac?: Uint8Array): Uint8Array | undefined {
  if (m.data.length < arp.FRAME_LEN || m.data.readUInt16BE(12) !== arp.ETHERTYPE_ARP) return undefined
  const f = arp.decode(m.data).value
  if (f.op !== arp.ARP_REPLY || !sameAddr(f.spa, who)) return undefined
  if (fromMac && !Buffer.from(f.sha).equals(Buffer.from(fromMac))) return undefined
  return f.sha
}

/** Probes one DR real server; `timeoutMs` bounds each of the three exchanges. */
export async function probeDr(t: DrTarget, timeoutMs = 500): Promise<DrProbe> {
  const rtnl = Rtnetlink.open()
  let link: Awaited<ReturnType<Rtnetlink['listLinks']>>[number] | undefined
  let src: Addr | undefined
  try {
    link = (await rtnl.listLinks()).find((l) => l.name === t.ifname)
    if (!link?.mac) throw new Error(`no Ethernet interface ${t.ifname}`)
    const addrs = (await rtnl.listAddresses(4, link.index)).map((a) => ({
      addr: a.local ?? a.address,
      len: a.prefixLen,
    }))
    src = (addrs.find((a) => prefixContains({ addr: a.addr, len: a.len }, t.server)) ?? addrs[0])?.addr
  } finally {
    rtnl.close()
  }
  if (!src) throw new Error(`no IPv4 address on ${t.ifname}`)
  const mac = link.mac as Uint8Array
  const wire = Wire.open(link.index)
  try {
    const ask = (target: Addr, dst: Uint8Array) =>
      arp.encode({ dst, src: mac, op: arp.ARP_REQUEST, sha: mac, spa: src as Addr, tha: ZERO_MAC, tpa: target })
    const found = wire.wait((m) => arpReplyFrom(m, t.server), timeoutMs)
    wire.send(ask(t.server, arp.BROADCAST), arp.BROADCAST, C.ETH_P_ARP)
    const serverMac = await found
    if (!serverMac) return { answersVipArp: false }
    // unicast to the server's MAC: only it hears the question, not the director holding the VIP
    const vipAnswer = wire.wait((m) => arpReplyFrom(m, t.vip, serverMac), timeoutMs)
    wire.send(ask(t.vip, serverMac), serverMac, C.ETH_P_ARP)
    const answersVipArp = (await vipAnswer) !== undefined
    const srcPort = randomInt(32768, 61000)
    const probe: syn.SynProbe = {
      dstMac: serverMac,
      srcMac: mac,
      src,
      dst: t.vip,
      srcPort,
      dstPort: t.port,
      seq: randomInt(0, 2 ** 32 - 1),
    }
    const answer = wire.wait((m): syn.SynAnswerOf | undefined => {
      const seg = syn.decode(m.data)?.value
      if (!seg || !sameAddr(seg.src, t.vip) || seg.srcPort !== t.port || seg.dstPort !== srcPort) return undefined
      if (!Buffer.from(seg.srcMac).equals(Buffer.from(serverMac))) return undefined
      if (seg.flags & syn.TCP_RST) return 'rst'
      return (seg.flags & (syn.TCP_SYN | syn.TCP_ACK)) === (syn.TCP_SYN | syn.TCP_ACK) ? 'syn-ack' : undefined
    }, timeoutMs)
    wire.send(syn.encode(probe), serverMac, C.ETH_P_IP)
    return { serverMac, answersVipArp, syn: (await answer) ?? 'none' }
  } finally {
    wire.close()
  }
}
