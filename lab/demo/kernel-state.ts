// What the kernel of a director's namespace shows of IPVS, read the way the demo checks lvsd's work:
// the VIP's service in /proc/net/ip_vs, a synced connection in /proc/net/ip_vs_conn, the sync
// daemon roles in `ipvsadm -Ln --daemon`.
import { VIP, VIP_PORT } from './plan.js'

const hex = (ip: string) =>
  ip
    .split('.')
    .map((o) => Number(o).toString(16).padStart(2, '0'))
    .join('')
    .toUpperCase()
const hexPort = (p: number) => p.toString(16).padStart(4, '0').toUpperCase()

/** /proc/net/ip_vs of a namespace lists the VIP's TCP service. */
export function listsVipService(procText: string): boolean {
  return procText.toUpperCase().includes(`TCP  ${hex(VIP)}:${hexPort(VIP_PORT)} `)
}

/** `ipvsadm -Ln --daemon` output → the sync daemon roles running ("master", "backup"). */
export function syncRoles(daemonText: string): string[] {
  return [...daemonText.matchAll(/^(master|backup) sync daemon/gm)].map((m) => m[1] as string)
}

/** /proc/net/ip_vs_conn of a namespace → whether it lists clientIp:port ESTABLISHED (hex fields). */
export function listsConnection(procText: string, clientIp: string, port: number): boolean {
  return procText.split('\n').some((l) => {
    const f = l.trim().split(/\s+/)
    return f[1]?.toUpperCase() === hex(clientIp) && f[2]?.toUpperCase() === hexPort(port) && f[7] === 'ESTABLISHED'
  })
}
