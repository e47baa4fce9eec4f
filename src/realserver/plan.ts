// What a real server needs for LVS-DR or LVS-TUN, compared with what the host has: the pure core of
// `lvsd realserver up|down|check`. Findings name the setting, the problem and the command that fixes it.
import { type Addr, formatAddr, sameAddr } from '../net/addr.js'

export type Method = 'dr' | 'tun'

export interface RealserverSpec {
  method: Method
  vips: Addr[]
  interfaces: string[]
}

export interface HostAddress {
  dev: string
  addr: Addr
  prefixLen: number
}

export interface HostLink {
  name: string
  up: boolean
}

/** The host as observed: sysctls by /proc/sys path (undefined = absent), links, addresses. */
export interface HostState {
  sysctls: Map<string, string | undefined>
  links: HostLink[]
  addresses: HostAddress[]
}

export type Change =
  | { kind: 'sysctl'; key: string; from: string; to: string }
  | { kind: 'address'; dev: string; address: string; prefixLen: number }
  | { kind: 'link-up'; dev: string }

export type FindingKind =
  | 'vip-missing'
  | 'vip-elsewhere'
  | 'sysctl-wrong'
  | 'interface-missing'
  | 'tunnel-missing'
  | 'tunnel-down'

export interface Finding {
  kind: FindingKind
  /** What is wrong, in the operator's words. */
  problem: string
  /** The shell command that fixes it. */
  fix: string
  /** The change `up` would make for it; absent when up cannot (it refuses or needs a module). */
  change?: Change
  /** tunnel-missing: the kernel module that brings the device. */
  module?: string
}

const TUNNEL: Record<4 | 6, { dev: string; module: string }> = {
  4: { dev: 'tunl0', module: 'ipip' },
  6: { dev: 'ip6tnl0', module: 'ip6_tunnel' },
}

/** /proc/sys path → the name `sysctl` prints (dots inside an interface name become slashes). */
export function sysctlName(key: string): string {
  return key
    .split('/')
    .map((p) => p.replaceAll('.', '/'))
    .join('.')
}

export const conf = (dev: string, name: string): string => `net/ipv4/conf/${dev}/${name}`

/** The sysctls the method needs: every one the host must hold, in a stable order. */
export function wantedSysctls(spec: RealserverSpec): { key: string; value: string; why: string }[] {
  const out: { key: string; value: string; why: string }[] = []
  if (!spec.vips.some((v) => v.family === 4)) return out // no ARP without IPv4; NDP answers per interface
  for (const dev of ['all', ...spec.interfaces]) {
    // effective value is max(all, dev): both are set so neither a later change of one nor a distro default hides it
    out.push({ key: conf(dev, 'arp_ignore'), value: '1', why: 'answers ARP for VIPs it must not announce' })
    out.push({ key: conf(dev, 'arp_announce'), value: '2', why: 'may announce a VIP as ARP source' })
  }
  if (spec.method === 'tun') {
    // decapsulated packets arrive on tunl0 from the client's address, which routes out of eth0
    for (const dev of ['all', TUNNEL[4].dev])
      out.push({ key: conf(dev, 'rp_filter'), value: '0', why: 'drops decapsulated packets (reverse-path filter)' })
  }
  return out
}

function vipDev(spec: RealserverSpec, vip: Addr): string {
  return spec.method === 'dr' ? 'lo' : TUNNEL[vip.family].dev
}

const hostLen = (a: Addr): number => (a.family === 4 ? 32 : 128)

/** Every missing or wrong setting, in order: interfaces, tunnels, VIPs, sysctls. */
export function findings(spec: RealserverSpec, host: HostState): Finding[] {
  const out: Finding[] = []
  const linkNamed = (n: string) => host.links.find((l) => l.name === n)
  for (const dev of spec.interfaces)
    if (!linkNamed(dev))
      out.push({
        kind: 'interface-missing',
        problem: `interface ${dev} does not exist`,
        fix: `fix interfaces: in the config`,
      })
  if (spec.method === 'tun') {
    for (const fam of [4, 6] as const) {
      if (!spec.vips.some((v) => v.family === fam)) continue
      const t = TUNNEL[fam]
      const link = linkNamed(t.dev)
      if (!link)
        out.push({
          kind: 'tunnel-missing',
          problem: `no ${t.dev}: IP-in-IP packets are not decapsulated`,
          fix: `modprobe ${t.module}`,
          module: t.module,
        })
      else if (!link.up)
        out.push({
          kind: 'tunnel-down',
          problem: `${t.dev} is down: IP-in-IP packets are not decapsulated`,
          fix: `ip link set ${t.dev} up`,
          change: { kind: 'link-up', dev: t.dev },
        })
    }
  }
  for (const vip of spec.vips) {
    const dev = vipDev(spec, vip)
    const len = hostLen(vip)
    const text = formatAddr(vip)
    const held = host.addresses.filter((a) => sameAddr(a.addr, vip))
    const right = held.find((a) => a.dev === dev && a.prefixLen === len)
    for (const a of held) {
      if (a === right) continue
      const answers = a.dev !== 'lo' && !a.dev.startsWith('tunl') && !a.dev.startsWith('ip6tnl')
      out.push({
        kind: 'vip-elsewhere',
        problem: `VIP ${text} is on ${a.dev} as /${a.prefixLen}${answers ? `: this server answers ${vip.family === 4 ? 'ARP' : 'neighbour solicitations'} for it and takes the director's traffic` : `, not ${dev} as /${len}`}`,
        fix: `ip addr del ${text}/${a.prefixLen} dev ${a.dev}`,
      })
    }
    if (!right && (dev === 'lo' || linkNamed(dev)))
      out.push({
        kind: 'vip-missing',
        problem: `VIP ${text} is not on ${dev}: packets the director forwards to it are dropped`,
        fix: `ip addr add ${text}/${len} dev ${dev}`,
        change: { kind: 'address', dev, address: text, prefixLen: len },
      })
  }
  for (const s of wantedSysctls(spec)) {
    const have = host.sysctls.get(s.key)
    if (have === undefined || have === s.value) continue // an absent key belongs to a missing interface, reported above
    out.push({
      kind: 'sysctl-wrong',
      problem: `${sysctlName(s.key)} is ${have}, not ${s.value}: the server ${s.why}`,
      fix: `sysctl -w ${sysctlName(s.key)}=${s.value}`,
      change: { kind: 'sysctl', key: s.key, from: have, to: s.value },
    })
  }
  return out
}

/** The /proc/sys keys `findings` reads for this spec. */
export function sysctlKeys(spec: RealserverSpec): string[] {
  return wantedSysctls(spec).map((s) => s.key)
}

/** Findings `up` refuses to act on: it would have to take addresses away or guess at modules. */
export function blockers(list: Finding[]): Finding[] {
  return list.filter((f) => f.kind === 'vip-elsewhere' || f.kind === 'interface-missing')
}

/**
 * The record after `up` made `made`: earlier changes keep their first `from` (the value before lvsd
 * touched anything), so up twice and then down restores the host as it was before the first up.
 */
export function mergeRecord(before: Change[], made: Change[]): Change[] {
  const out = [...before]
  for (const c of made) {
    const same = out.find((o) => o.kind === c.kind && changeId(o) === changeId(c))
    if (!same) out.push(c)
  }
  return out
}

export function changeId(c: Change): string {
  if (c.kind === 'sysctl') return `sysctl:${c.key}`
  if (c.kind === 'address') return `address:${c.dev}:${c.address}/${c.prefixLen}`
  return `link-up:${c.dev}`
}

/** The order `down` undoes a record in: the reverse of making it (addresses before links). */
export function undoOrder(record: Change[]): Change[] {
  return [...record].reverse()
}
