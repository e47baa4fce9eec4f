// Neighbour resolution done by hand for the doctor: ARP (IPv4) or Neighbor Solicitation (IPv6) for a
// real server's address, and the same question about the VIP sent to one server's MAC only, so the
// director holding the VIP does not hear it and only that server can answer.
import { type Addr, sameAddr } from '../net/addr.js'
import * as arp from '../net/arp.js'
import * as nd from '../net/ndp-frame.js'
import * as C from '../sys/constants.js'
import type { ReceivedDatagram } from '../sys/types.js'
import type { LocalSide, PacketWire } from './doctor-wire.js'

const ZERO_MAC = new Uint8Array(6)
const sameMac = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b))

export function arpReplyFrom(m: ReceivedDatagram, who: Addr, fromMac?: Uint8Array): Uint8Array | undefined {
  if (m.data.length < arp.FRAME_LEN || m.data.readUInt16BE(12) !== arp.ETHERTYPE_ARP) return undefined
  const f = arp.decode(m.data).value
  if (f.op !== arp.ARP_REPLY || !sameAddr(f.spa, who)) return undefined
  if (fromMac && !sameMac(f.sha, fromMac)) return undefined
  return f.sha
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

/**
 * The MAC an NA for `who` gives (its target option, else its frame's source), when it answers this
 * director; `fromMac`: only an NA that frame came from counts.
 */
export function naFrom(m: ReceivedDatagram, who: Addr, side: LocalSide, fromMac?: Uint8Array): Uint8Array | undefined {
  const seen = nd.readNa(m.data)
  if (!seen || !sameAddr(seen.na.target, who) || !sameMac(seen.dstMac, side.mac)) return undefined
  if (fromMac && !sameMac(seen.srcMac, fromMac)) return undefined
  return nd.naMac(seen)
}

/**
 * Asks for `who`'s MAC, retried within `timeoutMs` (ask()): broadcast ARP, or an NS to its
 * solicited-node group. With `toMac`, the question goes to that MAC only and only its answer counts.
 */
export function neighbourOf(
  wire: PacketWire,
  side: LocalSide,
  who: Addr,
  timeoutMs: number,
  toMac?: Uint8Array,
): Promise<Uint8Array | undefined> {
  if (who.family === 4) {
    const dst = toMac ?? arp.BROADCAST
    const frame = askArp(side, who, dst)
    return wire.ask(
      () => wire.send(frame, dst, C.ETH_P_ARP),
      (m) => arpReplyFrom(m, who, toMac),
      timeoutMs,
    )
  }
  const f = nd.nsFor(who, side.src, side.mac, toMac)
  const frame = nd.encode(f)
  return wire.ask(
    () => wire.send(frame, f.dstMac, C.ETH_P_IPV6),
    (m) => naFrom(m, who, side, toMac),
    timeoutMs,
  )
}
