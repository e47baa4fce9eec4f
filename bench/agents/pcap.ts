// Kernel-timestamped captures for the VRRP benches: tcpdump -i any in the switch namespace writes
// a nanosecond pcap in LINUX_SLL2 framing (each frame carries the bridge port it crossed and its
// direction), and this file decodes the few things the benches time — VRRP adverts, ARP, TCP flags.
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'

export interface Frame {
  /** Kernel capture time, wall-clock ms with ns resolution. */
  t: number
  ifindex: number
  /** true when the bridge sent it out of this port, false when it came in from the port's host. */
  out: boolean
  ip?: { src: string; dst: string; proto: number }
  vrrp?: { version: number; vrid: number; prio: number }
  arp?: { op: number; sha: string; spa: string; tpa: string }
  /** ICMPv6 neighbour advertisement: its target address (ip6() form). */
  na?: { target: string }
  tcp?: { sport: number; dport: number; syn: boolean; rst: boolean; ack: boolean }
}

const PCAP_NS_MAGIC = 0xa1b23c4d
const LINKTYPE_LINUX_SLL2 = 276
const PACKET_OUTGOING = 4
const ip4 = (b: Buffer, o: number) => `${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`
/** An IPv6 address as 8 groups of hex without leading zeros and without `::` (compare with ip6(...) only). */
export const ip6 = (b: Uint8Array, o = 0) =>
  Array.from({ length: 8 }, (_, i) => (((b[o + 2 * i] ?? 0) << 8) | (b[o + 2 * i + 1] ?? 0)).toString(16)).join(':')
const mac = (b: Buffer, o: number) => [...b.subarray(o, o + 6)].map((x) => x.toString(16).padStart(2, '0')).join(':')

/** Decodes a pcap file written with `-y LINUX_SLL2 --time-stamp-precision=nano` (little-endian). */
export function readPcap(path: string): Frame[] {
  const b = readFileSync(path)
  if (b.length < 24) return []
  if (b.readUInt32LE(0) !== PCAP_NS_MAGIC) throw new Error(`${path}: not a little-endian nanosecond pcap`)
  if (b.readUInt32LE(20) !== LINKTYPE_LINUX_SLL2) throw new Error(`${path}: link type is not LINUX_SLL2`)
  const frames: Frame[] = []
  let off = 24
  while (off + 16 <= b.length) {
    const sec = b.readUInt32LE(off)
    const nsec = b.readUInt32LE(off + 4)
    const caplen = b.readUInt32LE(off + 8)
    const p = off + 16
    off = p + caplen
    if (off > b.length || caplen < 20) break // a record cut short by the capture's end
    const f: Frame = {
      t: sec * 1000 + nsec / 1e6,
      ifindex: b.readUInt32BE(p + 4),
      out: b[p + 10] === PACKET_OUTGOING,
    }
    const proto = b.readUInt16BE(p)
    const n = p + 20
    if (proto === 0x0806 && caplen >= 48) {
      f.arp = { op: b.readUInt16BE(n + 6), sha: mac(b, n + 8), spa: ip4(b, n + 14), tpa: ip4(b, n + 24) }
    } else if (proto === 0x0800 && caplen >= 40) {
      const ihl = (b[n]! & 0x0f) * 4
      const ip = { src: ip4(b, n + 12), dst: ip4(b, n + 16), proto: b[n + 9]! }
      f.ip = ip
      const l4 = n + ihl
      if (ip.proto === 112 && l4 + 3 <= off) f.vrrp = { version: b[l4]! >> 4, vrid: b[l4 + 1]!, prio: b[l4 + 2]! }
      if (ip.proto === 6 && l4 + 14 <= off) {
        const fl = b[l4 + 13]!
        f.tcp = {
          sport: b.readUInt16BE(l4),
          dport: b.readUInt16BE(l4 + 2),
          syn: !!(fl & 2),
          rst: !!(fl & 4),
          ack: !!(fl & 16),
        }
      }
    } else if (proto === 0x86dd && caplen >= 60) {
      // no extension headers: VRRP and NDP go without them
      const ip = { src: ip6(b, n + 8), dst: ip6(b, n + 24), proto: b[n + 6]! }
      f.ip = ip
      const l4 = n + 40
      if (ip.proto === 112 && l4 + 3 <= off) f.vrrp = { version: b[l4]! >> 4, vrid: b[l4 + 1]!, prio: b[l4 + 2]! }
      if (ip.proto === 58 && b[l4] === 136 && l4 + 24 <= off) f.na = { target: ip6(b, l4 + 8) }
    }
    frames.push(f)
  }
  return frames
}

/** A capture of every port of a switch namespace, running until stop() (which flushes the file). */
export class Capture {
  private readonly proc: ChildProcess
  private readonly exited: Promise<void>
  private err = ''
  constructor(
    switchNs: string,
    readonly file: string,
    filter = 'ip proto 112 or arp or tcp',
  ) {
    this.proc = spawn(
      'ip',
      [
        // immediate mode: without it TPACKET_V3 hands frames over per filled or timed-out block,
        // and the frames of the block open at SIGINT (up to the last second) never reach the file
        ...['netns', 'exec', switchNs, 'tcpdump', '-i', 'any', '-n', '-s', '96', '-B', '16384', '--immediate-mode'],
        ...['-y', 'LINUX_SLL2', '--time-stamp-precision=nano', '-w', file, filter],
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    )
    this.proc.stderr?.on('data', (d: Buffer) => (this.err += d.toString()))
    this.exited = new Promise((r) => this.proc.once('exit', () => r()))
  }

  /** Resolves once tcpdump reports it is listening (its "listening on" line). */
  async ready(timeoutMs = 10_000): Promise<void> {
    const end = Date.now() + timeoutMs
    while (!this.err.includes('listening on')) {
      if (this.proc.exitCode !== null) throw new Error(`tcpdump exited: ${this.err}`)
      if (Date.now() > end) throw new Error(`tcpdump not listening after ${timeoutMs} ms: ${this.err}`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  async stop(): Promise<Frame[]> {
    this.proc.kill('SIGINT')
    await this.exited
    return readPcap(this.file)
  }

  /** "N packets dropped by kernel" from tcpdump's summary (after stop). */
  dropped(): number {
    return Number(/(\d+) packets? dropped by kernel/.exec(this.err)?.[1] ?? 0)
  }
}
