// The demo's namespaces: a bridge in its own namespace and one namespace per node, each node's eth0
// a port of that bridge (lab-recipes.md §A). Every namespace name carries this run's prefix, so two
// runs never collide and teardown removes exactly its own, also from a signal handler (all sync).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import type { DemoNode } from './plan.js'

export class LabCommandError extends Error {
  override readonly name = 'LabCommandError'
}

/** Runs a command to completion; throws with its stderr when it fails. */
export function run(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  if (r.error || r.status !== 0) {
    const why = r.error?.message ?? (r.stderr.trim() || `exit ${r.status}`)
    throw new LabCommandError(`${cmd} ${args.join(' ')}: ${why}`)
  }
  return r.stdout
}

export class DemoTopology {
  readonly prefix: string
  private readonly made: string[] = []
  private readonly procs: ChildProcess[] = []
  private disposed = false

  constructor(prefix = `lvsdemo${randomBytes(2).toString('hex')}-`) {
    this.prefix = prefix
  }

  ns(name: string): string {
    return `${this.prefix}${name}`
  }

  get namespaces(): readonly string[] {
    return this.made
  }

  /** Runs a command inside a node's namespace and returns its stdout. */
  exec(node: string, cmd: string, args: string[] = []): string {
    return run('ip', ['netns', 'exec', this.ns(node), cmd, ...args])
  }

  /**
   * Starts a long-running process inside a node's namespace. `ip netns exec` execs the command, so
   * the child's pid is the program's own (SIGSTOP reaches the daemon, not a wrapper).
   */
  spawn(node: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
    const p = spawn('ip', ['netns', 'exec', this.ns(node), cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env })
    this.procs.push(p)
    return p
  }

  /**
   * The switch namespace with bridge br0 (STP, multicast snooping and bridge-netfilter off, no IPv6)
   * and one namespace per node. One shell script, its `ip` commands batched per namespace: under
   * TCG each process costs ~0.5–1 s, and a process per command made this 37 s in the VM.
   */
  build(nodes: readonly DemoNode[]): void {
    const sw = this.ns('sw')
    const all = [sw, ...nodes.map((n) => this.ns(n.name))]
    this.made.push(...all) // before running: a half-built lab is torn down the same way
    const batch = (prefix: string, cmds: string[]) => `${prefix} -batch - <<'EOF'\n${cmds.join('\n')}\nEOF`
    const swCmds = [
      'link set lo up',
      'link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0 nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0',
      'link set br0 up',
      ...nodes.flatMap((n) => [
        `link add ${this.port(n.name)} type veth peer name eth0 netns ${this.ns(n.name)}`,
        `link set ${this.port(n.name)} master br0 up`,
      ]),
    ]
    const script = [
      'set -e',
      batch(
        'ip',
        all.map((ns) => `netns add ${ns}`),
      ),
      `ip netns exec ${sw} sh -c 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6'`,
      batch(`ip -n ${sw}`, swCmds),
      ...nodes.map((n) => `ip netns exec ${this.ns(n.name)} sh -ec '${this.nodeSetup(n)}'`),
    ]
    run('sh', ['-c', script.join('\n')])
  }

  /**
   * Sets each real server up as an operator would: `lvsd realserver up` from this tree with the shipped
   * example config (the seed's VIP on lo, arp_ignore=1, arp_announce=2 on all and eth0). Each namespace
   * has its own /proc/sys/net and addresses but all share /run, so each gets its own record in `recordDir`.
   */
  realServersUp(nodes: readonly DemoNode[], repoRoot: string, recordDir: string): void {
    const config = join(repoRoot, 'conf/realserver/realserver.yaml')
    for (const n of nodes.filter((x) => x.role === 'real-server'))
      this.exec(n.name, process.execPath, [
        join(repoRoot, 'bin/lvsd.js'),
        'realserver',
        'up',
        '-c',
        config,
        '--record',
        join(recordDir, `${n.name}-realserver.json`),
      ])
  }

  /** The bridge port of a node, inside the switch namespace: setting it down cuts the node's link. */
  port(node: string): string {
    return `p-${node}`
  }

  /**
   * Arms a cut of a node's link: `ip -batch -` is started now and reads its one command when
   * `cut()` is called, so the cut costs a pipe write instead of a process start (~1 s under TCG,
   * during which a frozen director's kernel would go on forwarding).
   */
  armLinkCut(node: string): { cut: () => Promise<number | null> } {
    // SCHED_FIFO: woken by the write, it runs at once instead of queueing behind the demo's Node
    // processes (a normal-priority one took 0.4–1.3 s to act in the loaded VM)
    const p = spawn('chrt', ['-f', '10', 'ip', '-n', this.ns('sw'), '-batch', '-'], {
      stdio: ['pipe', 'ignore', 'pipe'],
    })
    this.procs.push(p)
    const exited = new Promise<number | null>((resolve) => p.once('close', (code) => resolve(code)))
    return {
      cut: () => {
        p.stdin?.end(`link set ${this.port(node)} down\n`)
        return exited
      },
    }
  }

  /**
   * `nft -i` in the switch namespace, real-time like armLinkCut's `ip` and for the same reason: a
   * rule set changes with a pipe write when the drill needs it, not a process start.
   */
  nftShell(): ChildProcess {
    const p = spawn('chrt', ['-f', '10', 'ip', 'netns', 'exec', this.ns('sw'), '/usr/sbin/nft', '-i'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    this.procs.push(p)
    return p
  }

  /** Sets a node's bridge port up or down (the restore side of a cut; not time-critical). */
  setLink(node: string, up: boolean): void {
    run('ip', ['-n', this.ns('sw'), 'link', 'set', this.port(node), up ? 'up' : 'down'])
  }

  /** A script run inside a node's namespace (/proc/sys/net there is the namespace's own). */
  private nodeSetup(n: DemoNode): string {
    const set = (key: string, v: number) => `echo ${v} > /proc/sys/net/${key}`
    const sysctls = [
      // IPv6 off: the seed is IPv4 only and DAD/RS traffic would only clutter the capture
      set('ipv6/conf/all/disable_ipv6', 1),
      set('ipv6/conf/default/disable_ipv6', 1),
      set('ipv4/conf/all/rp_filter', 0),
      set('ipv4/conf/default/rp_filter', 0),
      set('ipv4/conf/eth0/rp_filter', 0),
    ]
    const ip = [
      'link set lo up',
      `link set eth0 address ${n.mac}`,
      `addr add ${n.ipv4}/24 dev eth0`,
      'link set eth0 up',
    ]
    // a real server's VIP on lo and its ARP sysctls are not set here: realServersUp() runs
    // `lvsd realserver up`, as on a real server
    return `${sysctls.join('; ')}\nip -batch - <<EOF\n${ip.join('\n')}\nEOF`
  }

  /** Kills every process in our namespaces (only those: listed by `ip netns pids`) and deletes them. */
  dispose(): void {
    if (this.disposed) return
    this.disposed = true
    for (const p of this.procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL')
    for (const ns of [...this.made].reverse()) {
      const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout?.split(/\s+/).filter(Boolean)
      for (const pid of pids ?? []) {
        try {
          process.kill(Number(pid), 'SIGKILL')
        } catch {}
      }
      spawnSync('ip', ['netns', 'del', ns])
    }
    this.made.length = 0
  }
}
