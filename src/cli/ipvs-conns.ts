// The kernel's IPVS connection table: parses /proc/net/ip_vs_conn (hex IPv4 addresses and ports, IPv6 as
// eight colon-separated hex groups; no netlink command lists connections) and prints it as `ipvsadm -Lnc`.
import { LvsdError } from '../errors.js'
import { type Addr, addrFromBytes, formatAddr } from '../net/addr.js'

export interface Connection {
  readonly protocol: string
  readonly client: Addr
  readonly clientPort: number
  readonly virtual: Addr
  readonly virtualPort: number
  readonly dest: Addr
  readonly destPort: number
  /** TCP/SCTP state name, 'UDP', 'NONE' for a persistence template… as the kernel prints it. */
  readonly state: string
  /** Seconds until the entry expires. */
  readonly expires: number
  readonly peName?: string
  readonly peData?: string
}

function addrOf(hex: string, line: number): Addr {
  const raw = hex.replaceAll(':', '')
  if (!/^[0-9A-Fa-f]+$/.test(raw) || (raw.length !== 8 && raw.length !== 32)) {
    throw new LvsdError('LVSD_DECODE_INVALID', `ip_vs_conn line ${line}: bad address ${hex}`, { line, field: hex })
  }
  return addrFromBytes(Buffer.from(raw, 'hex'))
}

function portOf(hex: string, line: number): number {
  if (!/^[0-9A-Fa-f]{4}$/.test(hex)) {
    throw new LvsdError('LVSD_DECODE_INVALID', `ip_vs_conn line ${line}: bad port ${hex}`, { line, field: hex })
  }
  return Number.parseInt(hex, 16)
}

/** /proc/net/ip_vs_conn → connections in the kernel's order (the header line is skipped). */
export function parseConnections(text: string): Connection[] {
  const out: Connection[] = []
  const lines = text.split('\n')
  for (const [i, l] of lines.entries()) {
    if (i === 0 || l.trim() === '') continue
    const f = l.trim().split(/\s+/)
    if (f.length < 9) {
      throw new LvsdError('LVSD_DECODE_INVALID', `ip_vs_conn line ${i + 1} has ${f.length} fields`, { line: i + 1 })
    }
    const [protocol, ca, cp, va, vp, da, dp, state, exp, peName, peData] = f as [string, ...string[]]
    const c: { -readonly [K in keyof Connection]: Connection[K] } = {
      protocol,
      client: addrOf(ca as string, i + 1),
      clientPort: portOf(cp as string, i + 1),
      virtual: addrOf(va as string, i + 1),
      virtualPort: portOf(vp as string, i + 1),
      dest: addrOf(da as string, i + 1),
      destPort: portOf(dp as string, i + 1),
      state: state as string,
      expires: Number(exp),
    }
    if (peName !== undefined) c.peName = peName
    if (peData !== undefined) c.peData = peData
    out.push(c)
  }
  return out
}

const ep = (a: Addr, port: number) => (a.family === 6 ? `[${formatAddr(a)}]:${port}` : `${formatAddr(a)}:${port}`)
const two = (n: number) => String(n).padStart(2, '0')

/** `ipvsadm -Lnc`. */
export function formatConnections(conns: readonly Connection[]): string {
  let out = 'IPVS connection entries\npro expire state       source             virtual            destination'
  if (conns.some((c) => c.peName !== undefined)) out += '         pe name pe_data'
  out += '\n'
  for (const c of conns) {
    const expire = `${two(Math.floor(c.expires / 60))}:${two(c.expires % 60)}`
    const cols = [
      c.protocol.padEnd(3),
      expire.padEnd(6),
      c.state.padEnd(11),
      ep(c.client, c.clientPort).padEnd(18),
      ep(c.virtual, c.virtualPort).padEnd(18),
    ]
    let line = `${cols.join(' ')} ${ep(c.dest, c.destPort)}`
    if (c.peName !== undefined) line = `${line.padEnd(88)} ${c.peName} ${c.peData ?? ''}`.trimEnd()
    out += `${line}\n`
  }
  return out
}
