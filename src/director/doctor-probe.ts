// The doctor's probes of one LVS-DR real server, from the director's interface over AF_PACKET: is it on
// this L2 segment (ARP or NS for its address answered), does it answer ARP or NS for the VIP (it must
// not), and, for TCP, does a SYN to the VIP sent to its MAC get an answer (SYN-ACK: VIP accepted and
// port open; RST: VIP accepted, nothing listening; nothing: the VIP is not local there). A UDP port
// has no handshake that proves anything, so a UDP server gets the first two only. Sends only ARP
// requests, NSs and SYNs: no VIP, VRRP or IPVS state is touched; the director's kernel may RST the
// unexpected SYN-ACK, harmless.
import { randomInt } from 'node:crypto'
import { type Addr, sameAddr } from '../net/addr.js'
import * as syn from '../net/tcp-syn.js'
import * as C from '../sys/constants.js'
import { neighbourOf } from './doctor-neighbour.js'
import { type LocalSide, localSide, PacketWire } from './doctor-wire.js'

export interface DrTarget {
  ifname: string
  server: Addr
  vip: Addr
  port: number
  /** udp: the L2 checks only (no SYN); tcp when absent. */
  protocol?: 'tcp' | 'udp'
}

export type SynAnswer = 'syn-ack' | 'rst' | 'none'

export interface DrProbe {
  /** The server's MAC from its ARP reply or NA; undefined: it did not answer on this interface. */
  serverMac?: Uint8Array
  /** The server answered an ARP request (IPv4) or an NS (IPv6) for the VIP sent to its MAC. */
  answersVipArp: boolean
  /** The answer to a SYN to VIP:port sent to its MAC (undefined when the server was not found, or UDP). */
  syn?: SynAnswer
}

/** Sends `probe` (a SYN, maybe encapsulated) and waits for the TCP answer `match` accepts. */
export function synExchange<T>(
  wire: PacketWire,
  probe: syn.SynProbe,
  match: (seg: syn.TcpSeen) => T | undefined,
  timeoutMs: number,
): Promise<T | undefined> {
  const frame = syn.encode(probe)
  const ethertype = probe.src.family === 6 ? C.ETH_P_IPV6 : C.ETH_P_IP
  // the same segment again if no answer comes (same port and sequence, as TCP retransmits a SYN)
  return wire.ask(
    () => wire.send(frame, probe.dstMac, ethertype),
    (m) => {
      const seg = syn.decode(m.data)?.value
      return seg ? match(seg) : undefined
    },
    timeoutMs,
  )
}

/** SYN-ACK or RST, from a segment's flags; undefined for anything else. */
export function synAnswer(flags: number): SynAnswer | undefined {
  if (flags & syn.TCP_RST) return 'rst'
  return (flags & (syn.TCP_SYN | syn.TCP_ACK)) === (syn.TCP_SYN | syn.TCP_ACK) ? 'syn-ack' : undefined
}

export const newPort = (): number => randomInt(32768, 61000)
export const newSeq = (): number => randomInt(0, 2 ** 32 - 1)

/** Probes one DR real server; `timeoutMs` bounds each of the (up to) three exchanges. */
export async function probeDr(t: DrTarget, timeoutMs = 500): Promise<DrProbe> {
  const side = (await localSide(t.server, t.ifname)) as LocalSide
  const wire = PacketWire.open(side.ifindex)
  try {
    const serverMac = await neighbourOf(wire, side, t.server, timeoutMs)
    if (!serverMac) return { answersVipArp: false }
    // unicast to the server's MAC: only it hears the question, not the director holding the VIP
    const answersVipArp = (await neighbourOf(wire, side, t.vip, timeoutMs, serverMac)) !== undefined
    if (t.protocol === 'udp') return { serverMac, answersVipArp }
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
