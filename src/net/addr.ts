// IP addresses as a small value type: parsed once at the edge, compared as bytes deeper in.
// Formatting of IPv6 follows RFC 5952 (lower case, longest zero run compressed).
import { isIPv4, isIPv6 } from 'node:net'
import { LvsdError } from '../errors.js'

export type Family = 4 | 6

export interface Addr {
  readonly family: Family
  /** 4 or 16 bytes, network order. */
  readonly bytes: Uint8Array
  /** IPv6 zone (interface name) of a link-local address, if given as fe80::1%eth0. */
  readonly zone?: string
}

export interface Prefix {
  readonly addr: Addr
  readonly len: number
}

export const AF_INET = 2
export const AF_INET6 = 10

export function tryParseAddr(text: string): Addr | undefined {
  let s = text
  let zone: string | undefined
  const pct = s.indexOf('%')
  if (pct >= 0) {
    zone = s.slice(pct + 1)
    s = s.slice(0, pct)
    if (zone === '') return undefined
  }
  if (isIPv4(s) && zone === undefined) {
    const b = new Uint8Array(4)
    s.split('.').forEach((p, i) => {
      b[i] = Number(p)
    })
    return { family: 4, bytes: b }
  }
  if (!isIPv6(s)) return undefined
  const bytes = new Uint8Array(16)
  let head = s
  let tail = ''
  const dbl = s.indexOf('::')
  if (dbl >= 0) {
    head = s.slice(0, dbl)
    tail = s.slice(dbl + 2)
  }
  const words = (part: string): number[] => {
    if (part === '') return []
    const out: number[] = []
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const v4 = g.split('.').map(Number)
        out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0))
      } else out.push(Number.parseInt(g, 16))
    }
    return out
  }
  const h = words(head)
  const t = words(tail)
  const all = dbl >= 0 ? [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t] : h
  all.forEach((w, i) => {
    bytes[i * 2] = w >> 8
    bytes[i * 2 + 1] = w & 0xff
  })
  return zone === undefined ? { family: 6, bytes } : { family: 6, bytes, zone }
}

export function parseAddr(text: string): Addr {
  const a = tryParseAddr(text)
  if (!a) throw new LvsdError('LVSD_ADDR_INVALID', `not an IP address: ${JSON.stringify(text)}`, { text })
  return a
}

export function tryParsePrefix(text: string, defaultLen?: number): Prefix | undefined {
  const slash = text.indexOf('/')
  const addrText = slash >= 0 ? text.slice(0, slash) : text
  const addr = tryParseAddr(addrText)
  if (!addr) return undefined
  const max = addr.family === 4 ? 32 : 128
  if (slash < 0) return { addr, len: defaultLen ?? max }
  const lenText = text.slice(slash + 1)
  if (!/^\d{1,3}$/.test(lenText)) return undefined
  const len = Number(lenText)
  if (len > max) return undefined
  return { addr, len }
}

export function parsePrefix(text: string, defaultLen?: number): Prefix {
  const p = tryParsePrefix(text, defaultLen)
  if (!p) throw new LvsdError('LVSD_ADDR_INVALID', `not an IP prefix: ${JSON.stringify(text)}`, { text })
  return p
}

export function addrFromBytes(bytes: Uint8Array, zone?: string): Addr {
  if (bytes.length === 4) return { family: 4, bytes: Uint8Array.from(bytes) }
  if (bytes.length === 16)
    return zone ? { family: 6, bytes: Uint8Array.from(bytes), zone } : { family: 6, bytes: Uint8Array.from(bytes) }
  throw new LvsdError('LVSD_ADDR_INVALID', `an address has 4 or 16 bytes, not ${bytes.length}`)
}

export function formatAddr(a: Addr): string {
  const v4 = a.bytes
  // spelled out: Array.from(...).join cost a status of 10,000 servers tens of ms
  if (a.family === 4) return `${v4[0]}.${v4[1]}.${v4[2]}.${v4[3]}`
  // IPv4-mapped addresses keep their dotted tail (RFC 5952 §5)
  if (a.bytes.slice(0, 10).every((b) => b === 0) && a.bytes[10] === 0xff && a.bytes[11] === 0xff) {
    return `::ffff:${Array.from(a.bytes.slice(12)).join('.')}`
  }
  const w: number[] = []
  for (let i = 0; i < 16; i += 2) w.push(((a.bytes[i] ?? 0) << 8) | (a.bytes[i + 1] ?? 0))
  // longest run of >= 2 zero words is compressed (RFC 5952 §4.2)
  let bestStart = -1
  let bestLen = 0
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && w[j] === 0) j++
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i
      bestLen = j - i
    }
    i = j
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':')
  const s = bestStart < 0 ? hex(w) : `${hex(w.slice(0, bestStart))}::${hex(w.slice(bestStart + bestLen))}`
  return a.zone ? `${s}%${a.zone}` : s
}

export function formatPrefix(p: Prefix): string {
  return `${formatAddr(p.addr)}/${p.len}`
}

/** Bytewise order; IPv4 sorts before IPv6. Used for canonical orders and the VRRP tie-break. */
export function compareAddr(a: Addr, b: Addr): number {
  if (a.family !== b.family) return a.family - b.family
  for (let i = 0; i < a.bytes.length; i++) {
    const d = (a.bytes[i] ?? 0) - (b.bytes[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}

export function sameAddr(a: Addr, b: Addr): boolean {
  return compareAddr(a, b) === 0
}

export function isMulticast(a: Addr): boolean {
  return a.family === 4 ? ((a.bytes[0] ?? 0) & 0xf0) === 0xe0 : a.bytes[0] === 0xff
}

export function isLinkLocal(a: Addr): boolean {
  return a.family === 4
    ? a.bytes[0] === 169 && a.bytes[1] === 254
    : a.bytes[0] === 0xfe && ((a.bytes[1] ?? 0) & 0xc0) === 0x80
}

export function isUnspecified(a: Addr): boolean {
  return a.bytes.every((b) => b === 0)
}

/** True if the prefix has host bits set (10.0.0.3/24 as a network would be 10.0.0.0/24). */
export function hasHostBits(p: Prefix): boolean {
  const bits = p.addr.bytes.length * 8
  for (let i = p.len; i < bits; i++) {
    if (((p.addr.bytes[i >> 3] ?? 0) >> (7 - (i & 7))) & 1) return true
  }
  return false
}

export function prefixContains(p: Prefix, a: Addr): boolean {
  if (p.addr.family !== a.family) return false
  for (let i = 0; i < p.len; i++) {
    const x = ((p.addr.bytes[i >> 3] ?? 0) >> (7 - (i & 7))) & 1
    const y = ((a.bytes[i >> 3] ?? 0) >> (7 - (i & 7))) & 1
    if (x !== y) return false
  }
  return true
}

export function afOf(a: Addr): number {
  return a.family === 4 ? AF_INET : AF_INET6
}
