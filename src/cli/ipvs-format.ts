// Prints an IPVS table, its counters, timeouts, sync daemons and connections exactly as ipvsadm 1.31's
// `-Ln`, `-Ln --stats`, `-Ln --rate`, `--timeout`, `--daemon` and `-Lnc` do (layouts checked against output
// captured from ipvsadm in the lab VM: test/fixtures/ipvs/ipvsadm-*.txt). Pure: data in, text out.

import { PROTO } from '../ipvs/attrs.js'
import type { DestEntry, Info, ServiceEntry, ServiceKey, Stats, SyncDaemon, Timeouts } from '../ipvs/domain.js'
import { familyOfKey, isFwmarkKey } from '../ipvs/domain.js'
import { compareDests } from '../ipvs/model.js'
import { compareAddr, formatAddr } from '../net/addr.js'

export interface IpvsListing {
  readonly info: Info
  /** Services in any order, each with its destinations in any order (printing sorts both). */
  readonly services: readonly { readonly service: ServiceEntry; readonly dests: readonly DestEntry[] }[]
}

export type ListMode = 'plain' | 'stats' | 'rate'

const FWD_NAME: Record<DestEntry['fwd'], string> = {
  masq: 'Masq',
  local: 'Local',
  tunnel: 'Tunnel',
  droute: 'Route',
  bypass: 'Bypass',
}

/** 'TCP  10.0.0.3:80', 'TCP  [2001:db8::3]:443', 'FWM  7', 'FWM  8 IPv6'. */
export function serviceName(k: ServiceKey): string {
  if (isFwmarkKey(k)) return `FWM  ${k.fwmark}${k.family === 6 ? ' IPv6' : ''}`
  return `${k.protocol.toUpperCase().padEnd(4)} ${hostPort(formatAddr(k.addr), k.addr.family, k.port)}`
}

const hostPort = (a: string, family: 4 | 6, port: number) => (family === 6 ? `[${a}]:${port}` : `${a}:${port}`)

/** Scheduler flags by name: sh and mh name theirs, other schedulers show flag-N. */
function schedFlags(sched: string, bits: number): string {
  const named = sched === 'sh' || sched === 'mh' ? [`${sched}-fallback`, `${sched}-port`, 'flag-3'] : []
  const out: string[] = []
  for (let i = 0; i < 3; i++) if (bits & (1 << i)) out.push(named[i] ?? `flag-${i + 1}`)
  return out.join(',')
}

function ipv4Mask(len: number): string {
  const m = len <= 0 ? 0 : (0xffffffff << (32 - len)) >>> 0
  return [24, 16, 8, 0].map((s) => (m >>> s) & 0xff).join('.')
}

function serviceLine(s: ServiceEntry): string {
  let line = `${serviceName(s.key)} ${s.scheduler}`
  if (s.schedFlags & 7) line += ` (${schedFlags(s.scheduler, s.schedFlags)})`
  if (s.persistent) {
    line += ` persistent ${s.timeout}`
    const v4 = familyOfKey(s.key) === 4
    if (v4 && s.netmask !== 32) line += ` mask ${ipv4Mask(s.netmask)}`
    if (!v4 && s.netmask !== 128) line += ` mask ${s.netmask}`
    if (s.peName) line += ` pe ${s.peName}`
  }
  if (s.onePacket) line += ' ops'
  return line
}

const destName = (d: DestEntry) => hostPort(formatAddr(d.addr), d.addr.family, d.port)

/**
 * A counter in a 9-character column; beyond 8 digits ipvsadm scales to K/M/G/T (integer division)
 * unless `exact`.
 */
export function largeNum(n: bigint, exact = false): string {
  if (exact || n < 100_000_000n) return n.toString().padStart(9)
  const steps: [bigint, bigint, string][] = [
    [1_000_000_000n, 1_000n, 'K'],
    [100_000_000_000n, 1_000_000n, 'M'],
    [100_000_000_000_000n, 1_000_000_000n, 'G'],
  ]
  for (const [below, div, unit] of steps) if (n < below) return `${(n / div).toString().padStart(8)}${unit}`
  return `${(n / 1_000_000_000_000n).toString().padStart(8)}T`
}

const ZERO: Stats = {
  conns: 0n,
  inPkts: 0n,
  outPkts: 0n,
  inBytes: 0n,
  outBytes: 0n,
  cps: 0n,
  inPps: 0n,
  outPps: 0n,
  inBps: 0n,
  outBps: 0n,
}

function counters(st: Stats | undefined, mode: 'stats' | 'rate', exact: boolean): string {
  const s = st ?? ZERO
  const v =
    mode === 'stats'
      ? [s.conns, s.inPkts, s.outPkts, s.inBytes, s.outBytes]
      : [s.cps, s.inPps, s.outPps, s.inBps, s.outBps]
  return v.map((x) => largeNum(x, exact)).join('')
}

const HEADER: Record<ListMode, string> = {
  plain:
    'Prot LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n',
  stats: 'Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes\n  -> RemoteAddress:Port\n',
  rate: 'Prot LocalAddress:Port                 CPS    InPPS   OutPPS    InBPS   OutBPS\n  -> RemoteAddress:Port\n',
}

/**
 * ipvsadm's display order (the kernel dumps services in hash order, which differs between namespaces):
 * address services before fwmark ones (fwmark 0 first), then family, protocol number, address bytes, port.
 */
export function compareForDisplay(a: ServiceKey, b: ServiceKey): number {
  const fa = isFwmarkKey(a) ? a.fwmark : 0
  const fb = isFwmarkKey(b) ? b.fwmark : 0
  if (fa !== fb) return fa - fb
  const d = familyOfKey(a) - familyOfKey(b)
  if (d !== 0 || isFwmarkKey(a) || isFwmarkKey(b)) return d
  return PROTO[a.protocol] - PROTO[b.protocol] || compareAddr(a.addr, b.addr) || a.port - b.port
}

/** `ipvsadm -Ln` (plain), `-Ln --stats`, `-Ln --rate`: services and destinations sorted as ipvsadm sorts them. */
export function formatList(l: IpvsListing, mode: ListMode = 'plain', exact = false): string {
  let out = `IP Virtual Server version ${l.info.version} (size=${l.info.connTabSize})\n${HEADER[mode]}`
  const services = [...l.services].sort((a, b) => compareForDisplay(a.service.key, b.service.key))
  for (const { service, dests } of services) {
    out +=
      mode === 'plain'
        ? serviceLine(service)
        : serviceName(service.key).padEnd(33) + counters(service.stats, mode, exact)
    out += '\n'
    for (const d of [...dests].sort(compareDests)) {
      const name = `  -> ${destName(d).padEnd(28)}`
      if (mode === 'plain') {
        const cols = [FWD_NAME[d.fwd].padEnd(7), String(d.weight).padEnd(6), String(d.activeConns).padEnd(10)]
        out += `${name} ${cols.join(' ')} ${String(d.inactiveConns).padEnd(10)}\n`
      } else out += `${name}${counters(d.stats, mode, exact)}\n`
    }
  }
  return out
}

/** `ipvsadm -L --timeout`. */
export function formatTimeouts(t: Timeouts): string {
  return `Timeout (tcp tcpfin udp): ${t.tcp} ${t.tcpFin} ${t.udp}\n`
}

/** `ipvsadm -L --daemon`: one line per running daemon (the kernel reports every field). */
export function formatDaemons(ds: readonly SyncDaemon[]): string {
  return ds
    .map((d) => {
      const parts = [`mcast=${d.ifname}`, `syncid=${d.syncId}`]
      if (d.maxLen !== undefined) parts.push(`maxlen=${d.maxLen}`)
      if (d.group) parts.push(`group=${formatAddr(d.group)}`)
      if (d.port !== undefined) parts.push(`port=${d.port}`)
      if (d.ttl !== undefined) parts.push(`ttl=${d.ttl}`)
      return `${d.state} sync daemon (${parts.join(', ')})\n`
    })
    .join('')
}
