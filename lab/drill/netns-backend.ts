// The drill on this machine's kernel: the demo's namespaces (a bridge, lb01, lb02, web01, web02,
// client), lvsd from this tree in each director namespace. Inside the qemu VM the same backend runs
// with real IPVS; on a host kernel without IPVS lvsd runs VRRP only and requests are not judged.
import { type ChildProcess, spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { ControlClient } from '../../src/api/client.js'
import type { Status } from '../../src/director/types.js'
import { Capture } from '../demo/capture.js'
import { DemoConfigs } from '../demo/configs.js'
import { Director } from '../demo/directors.js'
import { listsConnection } from '../demo/kernel-state.js'
import { DIRECTORS, NODES, nodeByMac, REAL_SERVERS, VIP } from '../demo/plan.js'
import { DemoTopology } from '../demo/topology.js'
import { type ClientSink, type DrillBackend, forwardClientEvents, type ReloadOutcome } from './backend.js'
import { NftShell } from './nft-shell.js'
import type { FaultKind } from './types.js'
import { until } from './wait.js'

export interface NetnsOptions {
  repoRoot: string
  ipvs: boolean
  /** Inside the qemu VM (TCG): slower processes, wider margins. */
  inVm: boolean
}

/**
 * nftables on the switch dropping what the two directors send each other: a partition of the pair.
 * The table and its hooked chain go in at start with an empty set of (in, out) port pairs; the
 * partition adds both directions to the set in one transaction, from an `nft -i` already running.
 */
const PARTITION_TABLE = 'lvsd_drill_partition'
/** The IPVS sync daemon's traffic (UDP 8848, multicast 224.0.0.81) dropped on the way out. */
const SYNC_TABLE = 'lvsd_drill_sync'

export class NetnsBackend implements DrillBackend {
  readonly name
  readonly topology = 'namespaces: lb01, lb02, web01, web02, client on one bridge'
  readonly ipvs: boolean
  readonly syncRuns: boolean
  readonly probeIntervalMs: number
  readonly margin: { ms: number; why: string }
  readonly stepTimeoutMs: number
  readonly pollMs: number
  readonly clockErrorMs = 0
  private readonly lab = new DemoTopology(`lvsdrill${process.pid % 10000}-`)
  private readonly configs: DemoConfigs
  private readonly directors = new Map<string, Director>()
  private readonly servers = new Map<string, ChildProcess>()
  private client: ChildProcess | undefined
  private sink: ClientSink | undefined
  private nft: NftShell | undefined

  constructor(private readonly o: NetnsOptions) {
    this.name = o.inVm ? ('vm' as const) : ('netns' as const)
    this.ipvs = o.ipvs
    this.syncRuns = o.ipvs
    this.probeIntervalMs = o.inVm ? 50 : 20
    // under TCG a process waiting to be scheduled behind the others can lose a second
    this.margin = o.inVm
      ? { ms: 2000, why: 'Master_Down_Interval + 2 s: TCG runs the guest ~15× slower' }
      : { ms: 500, why: 'Master_Down_Interval + 0.5 s: namespaces on one host' }
    this.stepTimeoutMs = o.inVm ? 150_000 : 30_000
    this.pollMs = o.inVm ? 250 : 100
    this.configs = new DemoConfigs(
      o.repoRoot,
      DIRECTORS.map((d) => ({ node: d.name, config: d.config as string })),
      !o.ipvs,
    )
  }

  can(kind: FaultKind): true | string {
    if (kind === 'upgrade')
      return 'no package in a namespace: lvsd runs from the tree (the Vagrant backend upgrades the .deb)'
    if ((kind === 'rs-death' || kind === 'sync-block') && !this.ipvs)
      return 'this kernel has no IPVS: no traffic reaches a real server (run --backend vm)'
    return true
  }

  kernel(): string {
    return readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()
  }

  async up(sink: ClientSink, say: (line: string) => void): Promise<void> {
    this.sink = sink
    this.lab.build(NODES)
    say(`namespaces ${this.lab.prefix}{sw,${NODES.map((n) => n.name).join(',')}} built`)
    this.lab.realServersUp(NODES, this.o.repoRoot, this.configs.dir)
    say('real servers set up by `lvsd realserver up -c conf/realserver/realserver.yaml`')
    const cap = Capture.start(this.lab, 'client', VIP)
    cap.onFrame = (f) => sink.onFrame(f)
    for (const rs of REAL_SERVERS) this.startServer(rs.name)
    await until('tcpdump in the client namespace', this.stepTimeoutMs, () => cap.listening)
    this.nftApply(
      'sw',
      `table bridge ${PARTITION_TABLE} {\n set cut {\n  type ifname . ifname\n }\n chain cut {\n  type filter hook forward priority 0\n  iifname . oifname @cut drop\n }\n}\n`,
    )
    this.nft = new NftShell(this.lab.nftShell())
    for (const d of DIRECTORS) this.startDirector(d.name)
    await until('both lvsd to answer on their control sockets', this.stepTimeoutMs, async () => {
      const st = await Promise.all(DIRECTORS.map((d) => this.status(d.name)))
      return st.every((s) => s !== null)
    })
    say('lvsd running on lb01 (priority 150) and lb02 (priority 100)')
  }

  private startServer(node: string): void {
    const p = this.lab.spawn(node, process.execPath, [join(this.o.repoRoot, 'dist/lab/demo/real-server.js'), node])
    this.servers.set(node, p)
  }

  private listens(node: string): boolean {
    const r = spawnSync('ip', ['netns', 'exec', this.lab.ns(node), 'ss', '-Hltn', 'sport = :80'], { encoding: 'utf8' })
    return /LISTEN/.test(r.stdout ?? '')
  }

  private serverRuns(node: string): boolean {
    const p = this.servers.get(node)
    return p !== undefined && p.exitCode === null && p.signalCode === null
  }

  private startDirector(node: string): void {
    this.directors.set(node, Director.start(this.lab, this.o.repoRoot, node, this.configs.of(node).path))
  }

  async down(): Promise<void> {
    this.nft?.close()
    await this.stopClient()
    this.lab.dispose()
    this.configs.dispose()
  }

  async startClient(): Promise<void> {
    const c = this.lab.spawn('client', process.execPath, [
      join(this.o.repoRoot, 'dist/lab/demo/client.js'),
      String(this.probeIntervalMs),
      String(this.o.inVm ? 2500 : 900),
    ])
    this.client = c
    forwardClientEvents(c.stdout as Readable, () => this.sink)
  }

  async stopClient(): Promise<void> {
    const c = this.client
    this.client = undefined
    if (!c || c.exitCode !== null) return
    const gone = new Promise((r) => c.once('exit', r))
    c.kill('SIGTERM')
    await gone
  }

  clientNow(): number {
    return Date.now()
  }

  async status(node: string): Promise<Status | null> {
    const d = this.directors.get(node)
    if (!d || d.exited) return null
    try {
      return await new ControlClient(this.configs.of(node).socket, { timeoutMs: this.o.inVm ? 8000 : 1500 }).status()
    } catch {
      return null
    }
  }

  async vipNeighbour(): Promise<string | null> {
    try {
      const line = this.lab.exec('client', 'ip', ['neigh', 'show', VIP, 'dev', 'eth0']).trim()
      const mac = /lladdr (\S+)/.exec(line)?.[1]
      return mac ? (nodeByMac(mac)?.name ?? mac) : null
    } catch {
      return null
    }
  }

  async listsConnection(node: string, clientPort: number): Promise<boolean> {
    const text = spawnSync('ip', ['netns', 'exec', this.lab.ns(node), 'cat', '/proc/net/ip_vs_conn'], {
      encoding: 'utf8',
    }).stdout
    return listsConnection(text ?? '', '10.0.0.100', clientPort)
  }

  private director(node: string): Director {
    const d = this.directors.get(node)
    if (!d) throw new Error(`no director ${node}`)
    return d
  }

  async fault(kind: FaultKind, node: string): Promise<string> {
    switch (kind) {
      case 'crash': {
        // frozen and cut at once: a frozen lvsd's kernel would go on forwarding through its table
        const link = this.lab.armLinkCut(node)
        this.director(node).freeze()
        if ((await link.cut()) !== 0) throw new Error(`could not cut ${node}'s link`)
        return 'lvsd frozen (SIGSTOP) and its link cut'
      }
      case 'link': {
        if ((await this.lab.armLinkCut(node).cut()) !== 0) throw new Error(`could not cut ${node}'s link`)
        return 'its bridge port set down'
      }
      case 'stop':
        await this.director(node).stop()
        return 'lvsd stopped (SIGTERM)'
      case 'reboot': {
        await this.director(node).stop()
        this.lab.setLink(node, false)
        return 'lvsd stopped (SIGTERM) and the link down, as a clean reboot does'
      }
      case 'partition': {
        // on the switch, in one nftables transaction: both directions are cut at the same instant
        // (a filter per director, applied one after the other, let an advert through in between)
        const other = DIRECTORS.find((d) => d.name !== node) as (typeof DIRECTORS)[number]
        const [a, b] = [this.lab.port(node), this.lab.port(other.name)]
        await this.partitionShell().run(
          `add element bridge ${PARTITION_TABLE} cut { "${a}" . "${b}", "${b}" . "${a}" }`,
          `list set bridge ${PARTITION_TABLE} cut`,
          (listing) => listing.includes(`"${a}" . "${b}"`) && listing.includes(`"${b}" . "${a}"`),
          this.stepTimeoutMs,
        )
        return `traffic between ${node} and ${other.name} dropped on the switch (nftables, both ways at once)`
      }
      case 'rs-death': {
        const p = this.servers.get(node)
        if (p && this.serverRuns(node)) {
          const gone = new Promise((r) => p.once('exit', r))
          p.kill('SIGKILL')
          await gone
        }
        return 'its web server killed (SIGKILL)'
      }
      case 'sync-block': {
        for (const d of DIRECTORS)
          this.nftApply(
            d.name,
            `table inet ${SYNC_TABLE} {\n chain out {\n  type filter hook output priority 0\n  udp dport 8848 drop\n }\n}\n`,
          )
        return 'IPVS sync traffic (UDP 8848) dropped on both directors'
      }
      default:
        throw new Error(`the netns backend cannot do ${kind}`)
    }
  }

  private partitionShell(): NftShell {
    if (!this.nft) throw new Error('the partition needs the lab up')
    return this.nft
  }

  private nftApply(node: string, script: string): void {
    const r = spawnSync('ip', ['netns', 'exec', this.lab.ns(node), '/usr/sbin/nft', '-f', '-'], {
      input: script,
      encoding: 'utf8',
    })
    if (r.status !== 0) throw new Error(`nft in ${node}: ${r.stderr.trim()}`)
  }

  private nftDelete(node: string, table: string): void {
    spawnSync('ip', ['netns', 'exec', this.lab.ns(node), '/usr/sbin/nft', 'delete', 'table', 'inet', table])
  }

  async restore(kind: FaultKind, node: string): Promise<string> {
    switch (kind) {
      case 'crash':
        this.lab.setLink(node, true)
        this.director(node).thaw()
        return 'link up and lvsd thawed (SIGCONT)'
      case 'link':
        this.lab.setLink(node, true)
        return 'bridge port up'
      case 'stop':
        if (this.director(node).exited) this.startDirector(node)
        return 'lvsd started'
      case 'reboot':
        this.lab.setLink(node, true)
        if (this.director(node).exited) this.startDirector(node)
        return 'link up and lvsd started, as after the boot'
      case 'partition':
        await this.partitionShell().run(
          `flush set bridge ${PARTITION_TABLE} cut`,
          `list set bridge ${PARTITION_TABLE} cut`,
          (listing) => listing.includes('type ifname . ifname') && !listing.includes('elements'),
          this.stepTimeoutMs,
        )
        return 'the switch filter removed'
      case 'rs-death': {
        if (!this.serverRuns(node)) this.startServer(node)
        // the server is back when it listens (it prints "listening" then), not when it was spawned
        const p = this.servers.get(node)
        let up = false
        p?.stdout?.once('data', () => {
          up = true
        })
        await until(`${node}'s web server to listen`, this.stepTimeoutMs, () => up || this.listens(node), 50)
        return 'its web server started and listening'
      }
      case 'sync-block':
        for (const d of DIRECTORS) this.nftDelete(d.name, SYNC_TABLE)
        return 'the sync filters removed'
      default:
        throw new Error(`the netns backend cannot undo ${kind}`)
    }
  }

  async readConfig(node: string): Promise<string> {
    return readFileSync(this.configs.of(node).path, 'utf8')
  }

  async reload(node: string, text: string): Promise<ReloadOutcome> {
    const c = this.configs.of(node)
    writeFileSync(c.path, text)
    // as an operator would: lvsctl prints a refusal as file:line:col lines
    const r = spawnSync(process.execPath, [join(this.o.repoRoot, 'bin/lvsctl.js'), '-s', c.socket, 'reload'], {
      encoding: 'utf8',
      timeout: this.o.inVm ? 120_000 : 20_000,
    })
    return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() }
  }
}
