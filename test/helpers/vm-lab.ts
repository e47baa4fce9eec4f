// What the VM-tier tests share: the LVS-DR lab built by a guest shell script (namespaces on a bridge in
// the guest's root namespace, real servers with the VIP on lo and arp_ignore/arp_announce set), and one
// VM boot per test file whose agent prints a JSON report the tests then assert on, field by field.
import { parseReport } from '../../lab/vm/guest.js'
import { runInVm, type VmRunResult } from '../../lab/vm/runner.js'
import { repoRoot } from './paths.js'

/** name, IPv4 address (/24 on eth0), MAC. */
export type LabNode = readonly [name: string, ip: string, mac: string]

/**
 * The seed's LVS-DR pair in one guest: lb01 (.1), lb02 (.2), web01 (.7), web02 (.8, both with the VIP
 * 10.0.0.3 on lo), client (.100) on br0, then `tail` (the commands that start the agent).
 */
export function seedPairScript(tail: string): string {
  return drLabScript(
    [
      ['lb01', '10.0.0.1', '02:c0:00:00:00:01'],
      ['lb02', '10.0.0.2', '02:c0:00:00:00:02'],
      ['web01', '10.0.0.7', '02:c0:00:00:00:07'],
      ['web02', '10.0.0.8', '02:c0:00:00:00:08'],
      ['client', '10.0.0.100', '02:c0:00:00:00:64'],
    ],
    ['web01', 'web02'],
    '10.0.0.3',
    tail,
  )
}

/**
 * The guest script: br0, one namespace per node with eth0 on the bridge, the VIP on `lo` of each real
 * server (arp_ignore=1, arp_announce=2), then `tail` (the commands that start the agent).
 */
export function drLabScript(
  nodes: readonly LabNode[],
  realServers: readonly string[],
  vip: string,
  tail: string,
): string {
  return `
set -e
ip link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0
ip link set br0 up
node_ns() {
  ip netns add $1
  ip -n $1 link set lo up
  ip link add v-$1 type veth peer name eth0 netns $1
  ip link set v-$1 master br0
  ip link set v-$1 up
  ip -n $1 link set eth0 address $3
  ip netns exec $1 sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
  ip -n $1 addr add $2/24 dev eth0
  ip -n $1 link set eth0 up
}
${nodes.map(([n, ip, mac]) => `node_ns ${n} ${ip} ${mac}`).join('\n')}
for r in ${realServers.join(' ')}; do
  ip -n $r addr add ${vip}/32 dev lo
  ip netns exec $r sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \\
    net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2
done
${tail}
`
}

// biome-ignore lint/suspicious/noExplicitAny: an agent's JSON, asserted field by field by the tests
export type Report = Record<string, any>

/**
 * Boots the VM once for a test file, runs `command`, and resolves with the agent's report; rejects with
 * the tails of its output when the agent reported nothing or a `fatal`.
 */
export function bootAgent(command: string, timeoutMs: number): Promise<{ r: Report; run: VmRunResult }> {
  const boot = runInVm({ command, cwd: repoRoot, timeoutMs }).then((run) => {
    const r = parseReport<Report>(run.stdout)
    if (!r || r.fatal)
      throw new Error(
        `agent failed (exit ${run.status}): ${JSON.stringify(r?.fatal)}\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-3000)}`,
      )
    return { r, run }
  })
  boot.catch(() => {}) // each test awaits it and reports the failure itself
  return boot
}
