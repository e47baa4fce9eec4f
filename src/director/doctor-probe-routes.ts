// The doctor's probes of LVS-TUN and LVS-NAT real servers over AF_PACKET, on the director interface
// whose connected prefix holds the server. TUN: an IP-in-IP packet carrying a SYN to VIP:port, sent to
// the server's address as the director's IPVS would; a SYN-ACK or RST from the VIP proves the server
// decapsulates and accepts the VIP. NAT: a SYN to RIP:port whose source is the VIP (an address the
// clients' replies must reach only through the director); the answer must come back to this
// director's MAC, or the server's route back bypasses the director and its replies go untranslated.
import { type Addr, prefixContains, sameAddr } from '../net/addr.js'
import { Rtnetlink } from '../net/rtnetlink.js'
import type * as syn from '../net/tcp-syn.js'
import { neighbourOf } from './doctor-neighbour.js'
import { newPort, newSeq, type SynAnswer, synAnswer, synExchange } from './doctor-probe.js'
import { type LocalSide, localSide, PacketWire } from './doctor-wire.js'

export interface RouteTarget {
  server: Addr
  vip: Addr
  /** The port probed: the real server's own port (NAT translates to it; TUN keeps the VIP's). */
  port: number
}

/** Why a server was not probed (undefined fields then), or what the probe saw. */
export interface RouteProbe {
  /** not-connected: no interface of this director has a prefix holding the server; vip-not-here:
   *  (NAT) this director does not hold the VIP, so the answer would go to the one that does;
   *  vip-on-segment: (NAT) the VIP is on the server's own segment, so the answer proves no route. */
  skipped?: 'not-connected' | 'vip-not-here' | 'vip-on-segment'
  ifname?: string
  /** The director's address on that interface (the gateway a NAT server should use). */
  local?: Addr
  serverMac?: Uint8Array
  syn?: SynAnswer | 'none'
  /** NAT: the MAC the server sent its answer to, when it was not this director's. */
  answeredTo?: Uint8Array
}

async function withServer(
  t: RouteTarget,
  timeoutMs: number,
  probe: (wire: PacketWire, side: LocalSide, serverMac: Uint8Array) => Promise<RouteProbe>,
  precheck?: (side: LocalSide) => RouteProbe['skipped'] | undefined,
): Promise<RouteProbe> {
  const side = await localSide(t.server)
  if (!side) return { skipped: 'not-connected' }
  const skipped = precheck?.(side)
  const base = { ifname: side.ifname, local: side.src }
  if (skipped) return { ...base, skipped }
  const wire = PacketWire.open(side.ifindex)
  try {
    const serverMac = await neighbourOf(wire, side, t.server, timeoutMs)
    if (!serverMac) return base
    return { ...base, serverMac, ...(await probe(wire, side, serverMac)) }
  } finally {
    wire.close()
  }
}

/** LVS-TUN: does the server decapsulate an IP-in-IP SYN for the VIP and answer from the VIP? */
export function probeTun(t: RouteTarget, timeoutMs = 500): Promise<RouteProbe> {
  return withServer(t, timeoutMs, async (wire, side, serverMac) => {
    const srcPort = newPort()
    const probe: syn.SynProbe = {
      dstMac: serverMac,
      srcMac: side.mac,
      src: side.src,
      dst: t.vip,
      srcPort,
      dstPort: t.port,
      seq: newSeq(),
      tunnel: { src: side.src, dst: t.server },
    }
    // the answer is not encapsulated: the server replies from the VIP straight to the source
    const answer = await synExchange(
      wire,
      probe,
      (seg) =>
        sameAddr(seg.src, t.vip) && seg.srcPort === t.port && seg.dstPort === srcPort
          ? synAnswer(seg.flags)
          : undefined,
      timeoutMs,
    )
    return { syn: answer ?? 'none' }
  })
}

/**
 * LVS-NAT: a SYN to RIP:port from the VIP. Only meaningful on the director holding the VIP (the
 * server's gateway sends the answer to the VIP's holder) and when the VIP is off the server's segment
 * (else the server reaches the VIP directly and the answer proves nothing about its route).
 */
export async function probeNat(t: RouteTarget, timeoutMs = 500): Promise<RouteProbe> {
  const held = await isLocal(t.vip)
  return withServer(
    t,
    timeoutMs,
    async (wire, side, serverMac) => {
      const srcPort = newPort()
      const probe: syn.SynProbe = {
        dstMac: serverMac,
        srcMac: side.mac,
        src: t.vip,
        dst: t.server,
        srcPort,
        dstPort: t.port,
        seq: newSeq(),
      }
      // the socket sees frames to other MACs too on a veth or a flooding switch: keep the MAC it went to
      const answer = await synExchange(
        wire,
        probe,
        (seg) => {
          if (!sameAddr(seg.src, t.server) || !sameAddr(seg.dst, t.vip)) return undefined
          if (seg.srcPort !== t.port || seg.dstPort !== srcPort) return undefined
          const a = synAnswer(seg.flags)
          return a && { a, to: seg.dstMac }
        },
        timeoutMs,
      )
      if (!answer) return { syn: 'none' }
      const mine = Buffer.from(answer.to).equals(Buffer.from(side.mac))
      return mine ? { syn: answer.a } : { syn: answer.a, answeredTo: answer.to }
    },
    (side) => {
      if (!held) return 'vip-not-here'
      return side.addrs.some((a) => prefixContains(a, t.server) && prefixContains(a, t.vip))
        ? 'vip-on-segment'
        : undefined
    },
  )
}

async function isLocal(a: Addr): Promise<boolean> {
  const rtnl = Rtnetlink.open()
  try {
    return (await rtnl.listAddresses(4)).some((x) => sameAddr(x.local ?? x.address, a))
  } finally {
    rtnl.close()
  }
}
