// The demo's fixed addressing: the seed's LVS-DR pair (conf/lb01.yaml, conf/lb02.yaml) on one /24.
// MACs are locally administered and end in the address's last octet, so captures read by themselves.

export const VIP = '10.0.0.3'
export const VIP_PORT = 80
/** VRRP instance "web" in conf/lb0*.yaml: VRRPv2, advert_int 1 s, lb01 priority 150, lb02 100. */
export const ADVERT_MS = 1000
export const VRID = 51

export type Role = 'director' | 'real-server' | 'client'

export interface DemoNode {
  name: 'lb01' | 'lb02' | 'web01' | 'web02' | 'client'
  role: Role
  ipv4: string
  mac: string
  /** Directors only: the example config it runs and its VRRP priority there. */
  config?: string
  priority?: number
}

export const NODES: readonly DemoNode[] = [
  {
    name: 'lb01',
    role: 'director',
    ipv4: '10.0.0.1',
    mac: '02:c0:00:00:00:01',
    config: 'conf/lb01.yaml',
    priority: 150,
  },
  {
    name: 'lb02',
    role: 'director',
    ipv4: '10.0.0.2',
    mac: '02:c0:00:00:00:02',
    config: 'conf/lb02.yaml',
    priority: 100,
  },
  { name: 'web01', role: 'real-server', ipv4: '10.0.0.7', mac: '02:c0:00:00:00:07' },
  { name: 'web02', role: 'real-server', ipv4: '10.0.0.8', mac: '02:c0:00:00:00:08' },
  { name: 'client', role: 'client', ipv4: '10.0.0.100', mac: '02:c0:00:00:00:64' },
]

export const DIRECTORS = NODES.filter((n) => n.role === 'director')
export const REAL_SERVERS = NODES.filter((n) => n.role === 'real-server')

export function nodeByMac(mac: string): DemoNode | undefined {
  const m = mac.toLowerCase()
  return NODES.find((n) => n.mac === m)
}

export function nodeNamed(name: string): DemoNode {
  const n = NODES.find((x) => x.name === name)
  if (!n) throw new Error(`no demo node ${name}`)
  return n
}

/**
 * RFC 5798 §6.1 Master_Down_Interval of a backup: 3 × Advertisement_Interval + Skew_Time, with
 * Skew_Time = (256 − priority) × Advertisement_Interval / 256 (RFC 3768 for v2 has the same form).
 */
export function masterDownMs(priority: number, advertMs = ADVERT_MS): number {
  return 3 * advertMs + ((256 - priority) * advertMs) / 256
}
