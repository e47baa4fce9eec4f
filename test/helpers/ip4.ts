// An IPv4 header as an IPv4 raw socket delivers it in front of a VRRP payload (IHL 5, TOS CS6,
// TTL 255, protocol 112 to 224.0.0.18 unless told otherwise), header checksum filled.
import { type Addr, parseAddr } from '../../src/net/addr.js'
import { internetChecksum } from '../../src/net/checksum.js'

const GROUP4 = parseAddr('224.0.0.18')

export function ip4(payload: Buffer, o: { src: Addr; ttl?: number; proto?: number; dst?: Addr; id?: number }): Buffer {
  const h = Buffer.alloc(20)
  h[0] = 0x45
  h[1] = 0xc0
  h.writeUInt16BE(20 + payload.length, 2)
  h.writeUInt16BE(o.id ?? 0, 4)
  h[8] = o.ttl ?? 255
  h[9] = o.proto ?? 112
  h.set(o.src.bytes, 12)
  h.set((o.dst ?? GROUP4).bytes, 16)
  h.writeUInt16BE(internetChecksum(h), 10)
  return Buffer.concat([h, payload])
}
