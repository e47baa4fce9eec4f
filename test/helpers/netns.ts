// Network-namespace labs for the netns tier (lab-recipes.md §A): every namespace and interface
// carries a unique prefix, so parallel runs never collide and teardown removes exactly its own.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'

export interface NodeSpec {
  /** Short role name, e.g. 'd1'; the namespace is `${prefix}${name}`. */
  name: string
  ipv4?: string // with prefix length, e.g. 10.0.0.5/24
  ipv6?: string // e.g. fd00:c::5/64 (added nodad)
  mac?: string
}

export function sh(cmd: string, args: string[], input?: string): string {
  return execFileSync(cmd, args, { encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] })
}

export class Lab {
  readonly prefix: string
  readonly namespaces: string[] = []
  private readonly procs: ChildProcess[] = []
  private switchNs: string | undefined

  constructor(tag = 'l') {
    // ≤ 6 chars so `${prefix}${name}` stays well inside IFNAMSIZ (15) for port names
    this.prefix = `${tag}${randomBytes(2).toString('hex')}`.slice(0, 6)
  }

  ns(name: string): string {
    return `${this.prefix}${name}`
  }

  addNamespace(name: string): string {
    const ns = this.ns(name)
    sh('ip', ['netns', 'add', ns])
    this.namespaces.push(ns)
    sh('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
    return ns
  }

  /** Runs a command inside a namespace and returns its stdout; throws with stderr on failure. */
  exec(name: string, cmd: string, args: string[] = []): string {
    return sh('ip', ['netns', 'exec', this.ns(name), cmd, ...args])
  }

  sysctl(name: string, key: string, value: string | number): void {
    this.exec(name, 'sysctl', ['-qw', `${key}=${value}`])
  }

  /** A switch namespace holding bridge `${prefix}br` with snooping and bridge-netfilter off. */
  addSwitch(): string {
    const sw = this.addNamespace('sw')
    this.switchNs = sw
    sh('ip', ['netns', 'exec', sw, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1'])
    sh('ip', [
      '-n',
      sw,
      'link',
      'add',
      'br0',
      'type',
      'bridge',
      'stp_state',
      '0',
      'forward_delay',
      '0',
      'mcast_snooping',
      '0',
      'nf_call_iptables',
      '0',
      'nf_call_ip6tables',
      '0',
      'nf_call_arptables',
      '0',
    ])
    sh('ip', ['-n', sw, 'link', 'set', 'br0', 'up'])
    return sw
  }

  /** A node namespace whose eth0 is a port of the switch bridge. */
  addNode(spec: NodeSpec): string {
    if (!this.switchNs) this.addSwitch()
    const sw = this.switchNs as string
    const ns = this.addNamespace(spec.name)
    const port = `p-${spec.name}`
    sh('ip', ['-n', sw, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns])
    sh('ip', ['-n', sw, 'link', 'set', port, 'master', 'br0'])
    sh('ip', ['-n', sw, 'link', 'set', port, 'up'])
    this.configureEth0(spec)
    return ns
  }

  /** Two namespaces joined directly by a veth pair (eth0 in each). */
  addPair(a: NodeSpec, b: NodeSpec): [string, string] {
    const na = this.addNamespace(a.name)
    const nb = this.addNamespace(b.name)
    sh('ip', ['-n', na, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', nb])
    this.configureEth0(a)
    this.configureEth0(b)
    return [na, nb]
  }

  /**
   * Resolves once the kernel has configured IPv6 on each node's eth0: a link-local address that is not
   * tentative. A veth's carrier reaches addrconf through linkwatch, up to a second after `link set up`;
   * until then the interface neither delivers IPv6 multicast to a socket that joined a group nor has a
   * source address to send from (addon-ip's IPv6 case lost all its packets that way, 2 runs in 6).
   */
  async ipv6Ready(names: string[], timeoutMs = 10_000): Promise<void> {
    const ready = (name: string) =>
      this.exec(name, 'ip', ['-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'link'])
        .split('\n')
        .some((l) => l.includes('inet6 fe80:') && !l.includes('tentative'))
    await waitFor(() => names.every(ready), timeoutMs)
  }

  private configureEth0(spec: NodeSpec): void {
    const ns = this.ns(spec.name)
    for (const k of ['all', 'default']) {
      this.sysctl(spec.name, `net.ipv6.conf.${k}.accept_dad`, 0)
      this.sysctl(spec.name, `net.ipv4.conf.${k}.rp_filter`, 0)
    }
    this.sysctl(spec.name, 'net.ipv6.conf.eth0.accept_dad', 0)
    this.sysctl(spec.name, 'net.ipv4.conf.eth0.rp_filter', 0)
    if (spec.mac) sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'address', spec.mac])
    if (spec.ipv4) sh('ip', ['-n', ns, 'addr', 'add', spec.ipv4, 'dev', 'eth0'])
    if (spec.ipv6) sh('ip', ['-n', ns, 'addr', 'add', spec.ipv6, 'dev', 'eth0', 'nodad'])
    sh('ip', ['-n', ns, 'link', 'set', 'eth0', 'up'])
  }

  /** Starts a long-running process inside a namespace; it is killed at dispose(). */
  spawn(name: string, cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): ChildProcess {
    const p = spawn('ip', ['netns', 'exec', this.ns(name), cmd, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
    })
    this.procs.push(p)
    return p
  }

  /** Runs a node script in a namespace to completion, returning exit status and output. */
  node(name: string, script: string, args: string[] = [], timeoutMs = 30_000) {
    const r = spawnSync('ip', ['netns', 'exec', this.ns(name), process.execPath, script, ...args], {
      encoding: 'utf8',
      timeout: timeoutMs,
    })
    return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr }
  }

  dispose(): void {
    for (const p of this.procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL')
    for (const ns of [...this.namespaces].reverse()) {
      // only PIDs inside our own namespaces, never by process name (lab-recipes A.2 step 5)
      const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean)
      for (const pid of pids) {
        try {
          process.kill(Number(pid), 'SIGKILL')
        } catch {}
      }
      spawnSync('ip', ['netns', 'del', ns])
    }
    this.namespaces.length = 0
  }
}

/** Polls `fn` until it returns a truthy value or the wall-clock deadline passes. */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs: number, stepMs = 20): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, stepMs))
  }
}
