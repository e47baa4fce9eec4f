// IPVS for the demo where `lvsd run` does not program it yet (the VRRP-only daemon): the seed's
// table and sync daemons set with ipvsadm, exactly what conf/lb0*.yaml asks of lvsd
// (virtual_services, ipvs.timeouts, ipvs.sync). The scenario uses these only after giving lvsd
// time to do it itself, and reports which one did; sync roles set by hand stay static.
import { REAL_SERVERS, VIP, VIP_PORT, VRID } from './plan.js'
import type { DemoTopology } from './topology.js'

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

export function programSeedTable(lab: DemoTopology, node: string): void {
  const svc = `${VIP}:${VIP_PORT}`
  lab.exec(node, 'ipvsadm', ['-A', '-t', svc, '-s', 'wrr'])
  for (const rs of REAL_SERVERS)
    lab.exec(node, 'ipvsadm', ['-a', '-t', svc, '-r', `${rs.ipv4}:${VIP_PORT}`, '-g', '-w', '1'])
  lab.exec(node, 'ipvsadm', ['--set', '30', '5', '60'])
}

export function startSyncDaemon(lab: DemoTopology, node: string, role: 'master' | 'backup'): void {
  lab.exec(node, 'ipvsadm', ['--start-daemon', role, '--mcast-interface', 'eth0', '--syncid', String(VRID)])
}

/** /proc/net/ip_vs_conn of a namespace → whether it lists clientIp:port ESTABLISHED (hex fields). */
export function listsConnection(procText: string, clientIp: string, port: number): boolean {
  return procText.split('\n').some((l) => {
    const f = l.trim().split(/\s+/)
    return f[1]?.toUpperCase() === hex(clientIp) && f[2]?.toUpperCase() === hexPort(port) && f[7] === 'ESTABLISHED'
  })
}
