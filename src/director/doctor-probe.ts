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
    // protocol htons(ETH_P_ALL): every frame on the interface, ARP and IPv4 alike
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

  close(): void {
    this.socket.close()
  }
}

export function arpReplyFrom(m: ReceivedDatagram, who: Addr, fromMac?: Uint8Array): Uint8Array | undefined {
  if (m.data.length < arp.FRAME_LEN || m.data.readUInt16BE(12) !== arp.ETHERTYPE_ARP) return undefined
  const f = arp.decode(m.data).value
  if (f.op !== arp.ARP_REPLY || !sameAddr(f.spa, who)) return undefined
  if (fromMac && !Buffer.from(f.sha).equals(Buffer.from(fromMac))) return undefined
  return f.sha
}

/** The director's side of a probe: the interface, its MAC and the address the probes come from. */
export interface LocalSide {
  ifname: string
  ifindex: number
  mac: Uint8Array
  src: Addr
  /** Every IPv4 address on the interface with its prefix length. */
  addrs: { addr: Addr; len: number }[]
}

/**
 * The interface `ifname` (or, without it, the one with a connected IPv4 prefix holding `server`;
 * undefined when none does) and its address facing `server`.
 */
export async function localSide(server: Addr, ifname?: string): Promise<LocalSide | undefined> {
  const rtnl = Rtnetlink.open()
  try {
    const links = (await rtnl.listLinks()).filter((l) => l.mac && (ifname === undefined || l.name === ifname))
    if (ifname !== undefined && links.length === 0) throw new Error(`no Ethernet interface ${ifname}`)
    for (const link of links) {
      const addrs = (await rtnl.listAddresses(4, link.index)).map((a) => ({
        addr: a.local ?? a.address,
        len: a.prefixLen,
      }))
      const facing = addrs.find((a) => prefixContains({ addr: a.addr, len: a.len }, server))
      const src = (facing ?? (ifname !== undefined ? addrs[0] : undefined))?.addr
      if (src) return { ifname: link.name, ifindex: link.index, mac: link.mac as Uint8Array, src, addrs }
    }
    if (ifname !== undefined) throw new Error(`no IPv4 address on ${ifname}`)
    return undefined
  } finally {
    rtnl.close()
  }
}

/** The MAC of `who` from its answer to a broadcast ARP request, or undefined after `timeoutMs`. */
export async function arpFor(
  wire: PacketWire,
  side: LocalSide,
  who: Addr,
  timeoutMs: number,
): Promise<Uint8Array | undefined> {
  const found = wire.wait((m) => arpReplyFrom(m, who), timeoutMs)
  wire.send(askArp(side, who, arp.BROADCAST), arp.BROADCAST, C.ETH_P_ARP)
  return found
}

export function askArp(side: LocalSide, target: Addr, dst: Uint8Array): Buffer {
  return arp.encode({
    dst,
    src: side.mac,
    op: arp.ARP_REQUEST,
    sha: side.mac,
    spa: side.src,
    tha: ZERO_MAC,
    tpa: target,
  })
}

/** Sends `probe` (a SYN, maybe encapsulated) and waits for the TCP answer `match` accepts. */
export function synExchange<T>(
  wire: PacketWire,
  probe: syn.SynProbe,
  match: (seg: syn.TcpSeen) => T | undefined,
  timeoutMs: number,
): Promise<T | undefined> {
  const answer = wire.wait((m) => {
    const seg = syn.decode(m.data)?.value
    return seg ? match(seg) : undefined
  }, timeoutMs)
  wire.send(syn.encode(probe), probe.dstMac, C.ETH_P_IP)
  return answer
}

/** SYN-ACK or RST, from a segment's flags; undefined for anything else. */
export function synAnswer(flags: number): SynAnswer | undefined {
  if (flags & syn.TCP_RST) return 'rst'
  return (flags & (syn.TCP_SYN | syn.TCP_ACK)) === (syn.TCP_SYN | syn.TCP_ACK) ? 'syn-ack' : undefined
}

export const newPort = (): number => randomInt(32768, 61000)
export const newSeq = (): number => randomInt(0, 2 ** 32 - 1)

/** Probes one DR real server; `timeoutMs` bounds each of the three exchanges. */
export async function probeDr(t: DrTarget, timeoutMs = 500): Promise<DrProbe> {
  const side = (await localSide(t.server, t.ifname)) as LocalSide
  const wire = PacketWire.open(side.ifindex)
  try {
    const serverMac = await arpFor(wire, side, t.server, timeoutMs)
    if (!serverMac) return { answersVipArp: false }
    // unicast to the server's MAC: only it hears the question, not the director holding the VIP
    const vipAnswer = wire.wait((m) => arpReplyFrom(m, t.vip, serverMac), timeoutMs)
    wire.send(askArp(side, t.vip, serverMac), serverMac, C.ETH_P_ARP)
    const answersVipArp = (await vipAnswer) !== undefined
    const srcPort = newPort()
    const probe: syn.SynProbe = {
      dstMac: serverMac,
      srcMac: side.mac,
      src: side.src,
      dst: t.vip,
      srcPort,
      dstPort: t.port,
      seq: newSeq(),
    }
    const answer = await synExchange(
      wire,
      probe,
      (seg) =>
        sameAddr(seg.src, t.vip) &&
        seg.srcPort === t.port &&
        seg.dstPort === srcPort &&
        Buffer.from(seg.srcMac).equals(Buffer.from(serverMac))
          ? synAnswer(seg.flags)
          : undefined,
      timeoutMs,
    )
    return { serverMac, answersVipArp, syn: answer ?? 'none' }
  } finally {
    wire.close()
  }
}
