// Receive-side checks of a VRRP packet (RFC 5798 §7.1, RFC 3768 §7.1) for one local instance.
// A bad packet is a verdict with a stable reason, never an exception, so the runtime can count
// drops by reason. The order of checks follows §7.1, preceded by the IPv4 header itself.
import { type Addr, addrFromBytes, type Family, sameAddr } from '../net/addr.js'
import { finish, internetChecksum, pseudoChecksum, sum16 } from '../net/checksum.js'
import {
  type Advert,
  AUTH_DATA_LEN,
  AUTH_NONE,
  AUTH_PASSWORD,
  decode,
  HEADER_LEN,
  IPPROTO_VRRP,
  passwordAuthData,
  VRRP_TYPE_ADVERTISEMENT,
} from './packet.js'

/** Every reason a packet is dropped, in the order validate() checks them. */
export const DROP_REASONS = [
  'ip_header', // IPv4 header malformed: version, IHL, total length
  'protocol', // IPv4 protocol is not 112
  'family', // the packet's family is not the instance's
  'ttl', // TTL / hop limit is not 255
  'length', // shorter than VRRP's fixed fields
  'vrid', // another virtual router's packet (v2 or v3): not an error, counted apart
  'version', // not the instance's VRRP version
  'type', // not an ADVERTISEMENT
  'addr_count', // the address count does not match the packet length
  'checksum',
  'own', // our own packet, looped back (the source is one of our addresses)
  'auth', // v2 authentication type or password differs
  'interval', // v2 interval differs from ours; v3 interval of 0
  'addrs', // the VIP list differs from ours and the sender is not the owner
] as const

export type DropReason = (typeof DROP_REASONS)[number]

/** What the instance knows about itself. */
export interface LocalInstance {
  vrid: number
  version: 2 | 3
  family: Family
  /** Configured priority; 255 = address owner. */
  priority: number
  /** Our Advertisement_Interval in ms (v2 compares whole seconds). */
  advertMs: number
  /** The VIPs carried in adverts. */
  vips: readonly Addr[]
  /** Every address this node holds on the interface: a packet from one of them is our own. */
  ownAddrs: readonly Addr[]
  /**
   * §7.1's TTL / hop-limit 255 check. Off only for unicast with `unicast.ttl` below 255 (adverts that
   * cross routers arrive with less), where the peer list is the check instead (as keepalived).
   */
  ttlCheck?: boolean
  /** v2 only; absent = type 0. */
  auth?: { type: 0 | 1; password?: string }
}

/**
 * How the packet arrived. IPv4 raw sockets deliver the IP header, so `buf` starts with it and
 * the TTL and addresses are read from it. IPv6 raw sockets deliver only the payload: pass the
 * hop limit (IPV6_HOPLIMIT), the source and the destination (IPV6_PKTINFO).
 */
export type Received = { family: 4 } | { family: 6; hopLimit: number | undefined; src: Addr; dst: Addr }

export type Verdict =
  | {
      ok: true
      advert: Advert
      src: Addr
      dst: Addr
      /** The sender is the owner and its VIP list differs from ours: accepted, worth a log line. */
      addrsMismatch: boolean
      /** We are the address owner too (priority 255): a misconfiguration, worth a log line. */
      ownerConflict: boolean
    }
  | { ok: false; reason: DropReason }

/** One frozen verdict per reason: a flood of drops allocates none. */
const DROPS = Object.fromEntries(DROP_REASONS.map((r) => [r, Object.freeze({ ok: false, reason: r })])) as Record<
  DropReason,
  Verdict
>
const drop = (reason: DropReason): Verdict => DROPS[reason]

function sameSet(a: readonly Addr[], b: readonly Addr[]): boolean {
  if (a.length !== b.length) return false
  return a.every((x) => b.some((y) => sameAddr(x, y)))
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

export function validate(buf: Buffer, rx: Received, local: LocalInstance): Verdict {
  let start = 0
  let end = buf.length
  let ttl: number | undefined
  let src: Addr | undefined
  let dst: Addr | undefined
  if (rx.family === 4) {
    if (buf.length < 20 || (buf[0] ?? 0) >> 4 !== 4) return drop('ip_header')
    const ihl = ((buf[0] ?? 0) & 0xf) * 4
    const total = buf.readUInt16BE(2)
    if (ihl < 20 || total < ihl || total > buf.length) return drop('ip_header')
    if (buf[9] !== IPPROTO_VRRP) return drop('protocol')
    ttl = buf[8]
    start = ihl
    end = total // bytes past the total length are link-layer padding
  } else {
    ttl = rx.hopLimit
    src = rx.src
    dst = rx.dst
    if (rx.src.family !== 6 || rx.dst.family !== 6) return drop('family')
  }
  if (rx.family !== local.family) return drop('family')
  if (ttl !== 255 && local.ttlCheck !== false) return drop('ttl')

  const len = end - start
  const fixed = HEADER_LEN + (local.version === 2 ? AUTH_DATA_LEN : 0)
  if (len < HEADER_LEN) return drop('length')
  // the VRID sits at the same byte in v2 and v3: another router's packet (of either version) is
  // counted as such, not as a version error of ours
  if (buf[start + 1] !== local.vrid) return drop('vrid')
  const b0 = buf[start] ?? 0
  if (b0 >> 4 !== local.version) return drop('version')
  if ((b0 & 0xf) !== VRRP_TYPE_ADVERTISEMENT) return drop('type')
  if (len < fixed) return drop('length')
  const count = buf[start + 3] ?? 0
  if (len !== fixed + count * (local.family === 4 ? 4 : 16)) return drop('addr_count')

  const sum =
    local.version === 2
      ? internetChecksum(buf, start, len)
      : src && dst
        ? pseudoChecksum(src, dst, IPPROTO_VRRP, buf, start, len)
        : // IPv4: the pseudo-header's source and destination read where the IP header holds them
          finish(sum16(buf, start, len, sum16(buf, 12, 8) + IPPROTO_VRRP + len))
  if (sum !== 0) return drop('checksum')
  // the addresses are copied only for a packet this far (most of a flood is dropped above)
  src ??= addrFromBytes(buf.subarray(12, 16))
  dst ??= addrFromBytes(buf.subarray(16, 20))

  if (local.ownAddrs.some((a) => sameAddr(a, src))) return drop('own')
  // RFC 5798 §7.1 drops everything at the owner; RFC 9568 erratum 8298 (verified) processes the
  // advert instead, so two owners settle by the address tie-break rather than both staying master.
  const ownerConflict = local.priority === 255

  // The checks above guarantee the layout, so decode cannot throw here.
  const advert = decode(buf.subarray(start, end), 0, local.family).value

  if (local.version === 2) {
    const want = local.auth?.type ?? AUTH_NONE
    const got = advert.auth?.type ?? AUTH_NONE
    if (got !== want) return drop('auth')
    if (want === AUTH_PASSWORD) {
      const data = advert.auth?.data ?? new Uint8Array(AUTH_DATA_LEN)
      if (!bytesEqual(data, passwordAuthData(local.auth?.password ?? ''))) return drop('auth')
    }
    if (advert.interval * 1000 !== local.advertMs) return drop('interval')
  } else if (advert.interval === 0) {
    return drop('interval')
  }

  const mismatch = !sameSet(advert.addrs, local.vips)
  if (mismatch && advert.priority !== 255) return drop('addrs')
  return { ok: true, advert, src, dst, addrsMismatch: mismatch, ownerConflict }
}

/** The advert's interval in centiseconds, the unit the state machine learns (v2 sends seconds). */
export function intervalCs(a: Advert): number {
  return a.version === 2 ? a.interval * 100 : a.interval
}
