// The client-side capture: tcpdump on the client's eth0 for VRRP adverts, ARP and TCP handshakes
// with the VIP, reduced to the frames the timeline needs (adverts with their sender and priority,
// gratuitous ARPs for the VIP, SYNs with the director they were sent to, SYN-ACKs with the real
// server that sent them).
// Kernel timestamps (-tt), line-buffered, --immediate-mode so nothing waits in a capture buffer.
import type { ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { Frame } from './events.js'
import { nodeByMac } from './plan.js'
import type { DemoTopology } from './topology.js'

const HEAD = /^(\d+\.\d+) ([0-9a-f:]{17}) > ([0-9a-f:]{17}), ethertype \S+ \(0x[0-9a-f]+\), length \d+: (.*)$/i

/** One tcpdump -n -e -tt line → a frame, or null for anything the timeline does not use. */
export function parseCaptureLine(line: string, vip: string): Frame | null {
  const m = HEAD.exec(line.trim())
  if (!m) return null
  const t = Math.round(Number(m[1]) * 1000)
  const srcMac = (m[2] as string).toLowerCase()
  const rest = m[4] as string
  const from = nodeByMac(srcMac)?.name ?? null
  const advert = /VRRPv\d, Advertisement, vrid \d+, prio (\d+)/.exec(rest)
  if (advert) return { t, kind: 'advert', srcMac, from, priority: Number(advert[1]) }
  const v = vip.replaceAll('.', '\\.')
  // a gratuitous ARP names the VIP as both sender and target (request form) or announces it (reply form)
  const garp = new RegExp(`Request who-has ${v}(?: \\([^)]*\\))? tell ${v}\\b|Reply ${v} is-at`)
  if (garp.test(rest)) return { t, kind: 'garp', srcMac, from, priority: null }
  const tcp = /^(\S+) > (\S+): Flags \[(S\.?)\]/.exec(rest)
  if (tcp) {
    const dstMac = (m[3] as string).toLowerCase()
    if (tcp[3] === 'S' && tcp[2]?.startsWith(`${vip}.`)) {
      return { t, kind: 'syn', srcMac, from, priority: null, to: nodeByMac(dstMac)?.name ?? null }
    }
    if (tcp[3] === 'S.' && tcp[1]?.startsWith(`${vip}.`)) return { t, kind: 'synack', srcMac, from, priority: null }
  }
  return null
}

export class Capture {
  readonly frames: Frame[] = []
  /** Called for each frame as it is parsed (the drill streams them into its recording). */
  onFrame: ((f: Frame) => void) | undefined
  private stderr = ''

  constructor(proc: ChildProcess, vip: string) {
    createInterface({ input: proc.stdout! }).on('line', (l) => {
      const f = parseCaptureLine(l, vip)
      if (!f) return
      this.frames.push(f)
      this.onFrame?.(f)
    })
    proc.stderr?.on('data', (b: Buffer) => {
      this.stderr = (this.stderr + b.toString()).slice(-2000)
    })
  }

  static start(lab: DemoTopology, node: string, vip: string): Capture {
    const p = lab.spawn(node, 'tcpdump', [
      ...['-i', 'eth0', '-n', '-e', '-tt', '-l', '--immediate-mode'],
      // SYNs and SYN-ACKs only: one of each per new connection, not the long connection's chatter
      `arp or ip proto 112 or (host ${vip} and tcp[tcpflags] & tcp-syn != 0)`,
    ])
    return new Capture(p, vip)
  }

  /** tcpdump says "listening on eth0" once the capture is armed. */
  get listening(): boolean {
    return /listening on/.test(this.stderr)
  }

  get diagnostics(): string {
    return this.stderr
  }
}
