// The drill against the Vagrant topology in vagrant/ (vagrant/README.md brings it up): every node
// reached over ssh with the config `vagrant ssh-config` prints (one multiplexed connection per node:
// `vagrant ssh` costs ~2 s of Ruby start-up per command), faults done the way an operator would
// (virsh on the host for a frozen VM or a cut link, systemctl and nft inside the guests), and the
// client's probes and capture streamed back. The client's clock is the drill's clock: the host's
// is converted with an offset measured over ssh (the best of several round trips).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { issueLines, type ReloadChanges, type ReloadIssue, reloadedLine } from '../../src/cli/reload-text.js'
import type { Status } from '../../src/director/types.js'
import { parseCaptureLine } from '../demo/capture.js'
import { listsConnection } from '../demo/kernel-state.js'
import { NODES, nodeByMac, VIP } from '../demo/plan.js'
import { type ClientSink, type DrillBackend, forwardClientEvents, type ReloadOutcome } from './backend.js'
import type { FaultKind } from './types.js'
import { until } from './wait.js'

export type VagrantTopology = 'full' | 'small'

/** Where a node of the seed's topology lives: its own VM, or a namespace in the small topology's lab VM. */
interface Place {
  host: string
  /** Command prefix run on `host` to enter the node (the namespace), or none. */
  enter: string[]
  /** The node's LAN interface there. */
  lan: string
}

const SSH_TIMEOUT_MS = 60_000
/**
 * A new connection unanswered this long failed. Not under 1 s as natively: a TCG guest on a busy
 * host stalls for a second or more now and then (measured: a director's adverts 1.95 s apart, SYN-ACKs
 * for 1.35 s of SYNs arriving in one burst), which is the emulator's, not the pair's, failure. 3.5 s
 * lets the SYN retransmitted at 3 s be answered: at 2.5 s one probe in ~850 of a reload run failed
 * while nothing in the table changed, the lab VM stalled between two retransmissions.
 */
const PROBE_TIMEOUT_MS = 3500
const DOMAIN_PREFIX = 'lvsd-'

export class VagrantBackend implements DrillBackend {
  readonly name = 'vagrant' as const
  readonly topology: string
  readonly ipvs = true
  readonly syncRuns = true
  // 10 new connections a second: at 20 the lab VM (client and both web servers on one TCG vCPU)
  // saturated (median probe 0.8-1.4 s), and the directors' 1 s HTTP checks failed on its slowness
  readonly probeIntervalMs = 100
  readonly busyForwarding = {
    ms: 1000,
    why: 'a TCG director applying a reload forwards late: answer gaps of 1.6-2.2 s while it did, 0.15-0.41 s idle',
  }
  readonly margin = {
    ms: 2000,
    why: 'Master_Down_Interval + 2 s: guests under TCG (1 vCPU each, ~15× slower than native)',
  }
  readonly stepTimeoutMs = 240_000
  readonly pollMs = 1000
  private offsetMs = 0
  /** Half the best round trip of the offset measurement, plus what the guest's clock drifts in a run. */
  clockErrorMs = 250
  private client: ChildProcess | undefined
  private capture: ChildProcess | undefined
  private sink: ClientSink | undefined
  private kernelRelease = ''

  private constructor(
    private readonly repoRoot: string,
    private readonly kind: VagrantTopology,
    private readonly dir: string,
    private readonly sshConfig: string,
  ) {
    this.topology =
      kind === 'full'
        ? 'Vagrant: lb01, lb02, web01, web02, client VMs on lvsd-lan'
        : 'Vagrant (small): lb01, lb02 VMs and a lab VM holding web01, web02, client in namespaces'
  }

  /** Reads `vagrant ssh-config` of the running topology (LVSD_TOPOLOGY as for `vagrant up`). */
  static async connect(repoRoot: string): Promise<VagrantBackend> {
    const vdir = join(repoRoot, 'vagrant')
    // as the Vagrantfile decides: LVSD_TOPOLOGY, else the topology of the last `vagrant up`
    const remembered = join(vdir, '.vagrant', 'lvsd-topology')
    const kind = (process.env.LVSD_TOPOLOGY ??
      (existsSync(remembered) ? readFileSync(remembered, 'utf8').trim() : 'full')) as VagrantTopology
    if (kind !== 'full' && kind !== 'small') throw new Error(`LVSD_TOPOLOGY=${kind}: full or small`)
    const r = spawnSync('vagrant', ['ssh-config'], { cwd: vdir, encoding: 'utf8', timeout: 120_000 })
    if (r.error || r.status !== 0) {
      throw new Error(
        `vagrant ssh-config failed (is the ${kind} topology up? vagrant/README.md): ${r.error?.message ?? r.stderr.trim().slice(-400)}`,
      )
    }
    const dir = mkdtempSync(join(tmpdir(), 'lvsd-drill-'))
    const cfg = join(dir, 'ssh-config')
    writeFileSync(cfg, sshConfigText(r.stdout))
    return new VagrantBackend(repoRoot, kind, dir, cfg)
  }

  private place(node: string): Place {
    if (this.kind === 'small' && ['web01', 'web02', 'client'].includes(node))
      return { host: 'lab', enter: ['ip', 'netns', 'exec', node], lan: 'eth0' }
    return { host: node, enter: [], lan: 'eth1' }
  }

  private sshArgs(host: string): string[] {
    return [
      ...['-F', this.sshConfig, '-o', 'BatchMode=yes', '-o', 'LogLevel=ERROR', '-o', 'ConnectTimeout=20'],
      ...['-o', 'ControlMaster=auto', '-o', `ControlPath=${this.dir}/cm-%h`, '-o', 'ControlPersist=600'],
      host,
    ]
  }

  /** Runs a command as root on a node (inside its namespace in the small topology). */
  private sh(node: string, cmd: string, input?: string, timeoutMs = SSH_TIMEOUT_MS): string {
    const p = this.place(node)
    const remote = ['sudo', ...p.enter, 'sh', '-c', shq(cmd)].join(' ')
    const r = spawnSync('ssh', [...this.sshArgs(p.host), remote], {
      encoding: 'utf8',
      input,
      timeout: timeoutMs,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    if (r.error || r.status !== 0)
      throw new Error(`${node}: ${cmd}: ${r.error?.message ?? (r.stderr.trim() || `exit ${r.status}`)}`)
    return r.stdout
  }

  private async trySh(node: string, cmd: string, timeoutMs = 20_000): Promise<string | null> {
    return new Promise((resolve) => {
      const p = this.place(node)
      const remote = ['sudo', ...p.enter, 'sh', '-c', shq(cmd)].join(' ')
      const c = spawn('ssh', [...this.sshArgs(p.host), remote], { stdio: ['ignore', 'pipe', 'ignore'] })
      let out = ''
      let done = false
      const finish = (v: string | null) => {
        if (done) return
        done = true
        clearTimeout(timer)
        resolve(v)
      }
      // a multiplexed ssh hands its pipes to the master connection, so 'close' may never come for a
      // session to a frozen VM: the answer is decided on exit (or the timeout), not on close
      const timer = setTimeout(() => {
        c.kill('SIGKILL')
        finish(null)
      }, timeoutMs)
      c.stdout.on('data', (b: Buffer) => {
        out += b.toString()
      })
      c.on('error', () => finish(null))
      c.on('exit', (code) => {
        // what is still in the pipe arrives within moments of the exit
        c.stdout.once('end', () => finish(code === 0 ? out : null))
        setTimeout(() => finish(code === 0 ? out : null), 500)
      })
    })
  }

  /** Closes the multiplexed ssh connection to a node: one that lived through a freeze or a reboot stalls. */
  private dropConnection(node: string): void {
    const h = this.place(node).host
    spawnSync('ssh', [...this.sshArgs(h).slice(0, -1), '-O', 'exit', h], { stdio: 'ignore', timeout: 10_000 })
  }

  private virsh(args: string[]): void {
    const r = spawnSync('virsh', args, { encoding: 'utf8', timeout: 60_000 })
    if (r.error || r.status !== 0) throw new Error(`virsh ${args.join(' ')}: ${r.error?.message ?? r.stderr.trim()}`)
  }

  can(kind: FaultKind): true | string {
    if (kind === 'upgrade' && !newestDeb(this.repoRoot)) return 'no .deb built to upgrade to (npm run package:deb)'
    return true
  }

  kernel(): string {
    return this.kernelRelease
  }

  /** Host clock → client clock: the best of several `date` round trips (the narrowest bounds the error). */
  private measureOffset(): void {
    let best = { rtt: Number.POSITIVE_INFINITY, offset: 0 }
    for (let i = 0; i < 5; i++) {
      const t0 = Date.now()
      const remote = Number(this.sh('client', 'date +%s%3N').trim())
      const t1 = Date.now()
      if (t1 - t0 < best.rtt) best = { rtt: t1 - t0, offset: remote - (t0 + t1) / 2 }
    }
    this.offsetMs = Math.round(best.offset)
    // a TCG guest's clock drifts from the host's by tens of ms over a scenario (seen: a mark 35 ms
    // after the frame it caused)
    this.clockErrorMs = Math.round(best.rtt / 2) + 150
  }

  async up(sink: ClientSink, say: (line: string) => void): Promise<void> {
    this.sink = sink
    for (const n of NODES) this.sh(n.name, 'true')
    this.kernelRelease = this.sh('lb01', 'uname -r').trim()
    say(`vagrant: every node answers over ssh (${this.kind} topology); directors run ${this.kernelRelease}`)
    // the client script and the addresses it imports, as an ES module directory
    const files = ['client.js', 'plan.js'].map((f) => [
      f,
      readFileSync(join(this.repoRoot, 'dist/lab/demo', f), 'utf8'),
    ])
    this.sh('client', 'mkdir -p /tmp/lvsd-drill')
    this.sh('client', 'cat > /tmp/lvsd-drill/package.json', '{"type":"module"}\n')
    for (const [f, text] of files) this.sh('client', `cat > /tmp/lvsd-drill/${f}`, text)
    this.measureOffset()
    say(`vagrant: client clock = host clock ${this.offsetMs >= 0 ? '+' : ''}${this.offsetMs} ms`)
    const p = this.place('client')
    const filter = `arp or ip proto 112 or (host ${VIP} and tcp[tcpflags] & tcp-syn != 0)`
    const remote = [
      'sudo',
      ...p.enter,
      'tcpdump',
      '-i',
      p.lan,
      '-n',
      '-e',
      '-tt',
      '-l',
      '--immediate-mode',
      shq(filter),
    ]
    const cap = spawn('ssh', [...this.sshArgs(p.host), remote.join(' ')], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.capture = cap
    let listening = false
    cap.stderr.on('data', (b: Buffer) => {
      if (/listening on/.test(b.toString())) listening = true
    })
    createInterface({ input: cap.stdout }).on('line', (l) => {
      const f = parseCaptureLine(l, VIP)
      if (f) sink.onFrame(f)
    })
    await until('tcpdump on the client', this.stepTimeoutMs, () => listening)
    await until('both lvsd to answer lvsctl status', this.stepTimeoutMs, async () => {
      const st = await Promise.all(['lb01', 'lb02'].map((n) => this.status(n)))
      return st.every((s) => s !== null)
    })
  }

  async down(): Promise<void> {
    await this.stopClient()
    this.capture?.kill('SIGTERM')
    // -x: a -f pattern would match this very command line and kill the session running it
    await this.trySh('client', 'pkill -x tcpdump; true')
    for (const n of NODES) this.dropConnection(n.name)
    rmSync(this.dir, { recursive: true, force: true })
  }

  async startClient(): Promise<void> {
    const p = this.place('client')
    const cmd = `echo $$ > /tmp/lvsd-drill/client.pid; exec node /tmp/lvsd-drill/client.js ${this.probeIntervalMs} ${PROBE_TIMEOUT_MS}`
    const remote = ['sudo', ...p.enter, 'sh', '-c', shq(cmd)].join(' ')
    const c = spawn('ssh', [...this.sshArgs(p.host), remote], { stdio: ['ignore', 'pipe', 'ignore'] })
    this.client = c
    forwardClientEvents(c.stdout as Readable, () => this.sink)
  }

  async stopClient(): Promise<void> {
    const c = this.client
    this.client = undefined
    if (!c) return
    await this.trySh('client', 'kill $(cat /tmp/lvsd-drill/client.pid) 2>/dev/null; true')
    if (c.exitCode === null && c.signalCode === null) {
      const gone = new Promise((r) => c.once('exit', r))
      c.kill('SIGTERM')
      await gone
    }
  }

  clientNow(): number {
    return Date.now() + this.offsetMs
  }

  async status(node: string): Promise<Status | null> {
    // the API straight over its socket: lvsctl is a Node process, ~5 s of emulated CPU per call
    // under TCG, and a poll every second piled them up on a busy director (load 13 measured)
    const out = await this.trySh(
      node,
      'timeout 8 curl -sf --max-time 8 --unix-socket /run/lvsd/lvsd.sock http://lvsd/v1/status',
      10_000,
    )
    if (out === null) return null
    try {
      return JSON.parse(out) as Status
    } catch {
      return null
    }
  }

  async vipNeighbour(): Promise<string | null> {
    const out = await this.trySh('client', `ip neigh show ${VIP} dev ${this.place('client').lan}`)
    const mac = out && /lladdr (\S+)/.exec(out)?.[1]
    return mac ? (nodeByMac(mac)?.name ?? mac) : null
  }

  async listsConnection(node: string, clientPort: number): Promise<boolean> {
    return listsConnection((await this.trySh(node, 'cat /proc/net/ip_vs_conn')) ?? '', '10.0.0.100', clientPort)
  }

  private mac(node: string): string {
    const n = NODES.find((x) => x.name === node)
    if (!n) throw new Error(`no node ${node}`)
    return n.mac
  }

  private otherDirector(node: string): string {
    return node === 'lb01' ? 'lb02' : 'lb01'
  }

  async fault(kind: FaultKind, node: string): Promise<string | { how: string; inPlaceAt: number }> {
    const dom = `${DOMAIN_PREFIX}${node}`
    switch (kind) {
      case 'crash':
        this.virsh(['suspend', dom])
        return `the whole VM frozen (virsh suspend ${dom})`
      case 'link':
        this.virsh(['domif-setlink', dom, this.mac(node), 'down'])
        return `its LAN link down (virsh domif-setlink ${dom} ${this.mac(node)} down)`
      case 'stop':
        this.sh(node, 'systemctl stop lvsd')
        return 'systemctl stop lvsd'
      case 'reboot':
        // the ssh session dies with the machine: do not wait for its answer
        await this.trySh(node, 'systemctl reboot', 10_000)
        return 'systemctl reboot'
      case 'partition': {
        // the peer's filter first: from the moment it is in, the peer's Master_Down timer runs
        const other = this.otherDirector(node)
        this.sh(other, 'nft -f -', dropVrrpFrom(this.mac(node)))
        const inPlaceAt = this.clientNow()
        this.sh(node, 'nft -f -', dropVrrpFrom(this.mac(other)))
        return { how: `VRRP between ${node} and ${other} dropped both ways (nftables in both guests)`, inPlaceAt }
      }
      case 'rs-death':
        this.sh(node, webStop(this.kind, node))
        return 'its web service stopped'
      case 'sync-block':
        for (const n of ['lb01', 'lb02']) this.sh(n, 'nft -f -', SYNC_DROP)
        return 'IPVS sync traffic (UDP 8848) dropped on both directors (nftables)'
      case 'upgrade': {
        const deb = newestDeb(this.repoRoot)
        if (!deb) throw new Error('no .deb under build/pkg: npm run package:deb')
        const to = '/tmp/lvsd-upgrade.deb'
        const bytes = readFileSync(deb)
        const p = this.place(node)
        const up = spawnSync('ssh', [...this.sshArgs(p.host), `cat > ${to}`], { input: bytes, timeout: 300_000 })
        if (up.status !== 0) throw new Error(`${node}: upload of ${basename(deb)} failed`)
        const was = this.sh(node, "dpkg-query -W -f '${Version}' lvsd").trim()
        this.sh(node, `DEBIAN_FRONTEND=noninteractive dpkg -i ${to}`, undefined, 600_000)
        const now = this.sh(node, "dpkg-query -W -f '${Version}' lvsd").trim()
        return `dpkg -i ${basename(deb)} (${was} → ${now}; the postinst restarts lvsd)`
      }
      default:
        throw new Error(`the vagrant backend cannot do ${kind}`)
    }
  }

  async restore(kind: FaultKind, node: string): Promise<string> {
    const dom = `${DOMAIN_PREFIX}${node}`
    switch (kind) {
      case 'crash':
        spawnSync('virsh', ['resume', dom], { timeout: 60_000 })
        this.dropConnection(node)
        return `resumed (virsh resume ${dom})`
      case 'link':
        this.virsh(['domif-setlink', dom, this.mac(node), 'up'])
        return 'its LAN link up'
      case 'stop':
        this.sh(node, 'systemctl start lvsd')
        return 'systemctl start lvsd'
      case 'reboot':
        this.dropConnection(node)
        await until(
          `${node} to boot and run lvsd`,
          this.stepTimeoutMs,
          async () => {
            return (await this.trySh(node, 'systemctl is-active lvsd', 15_000))?.trim() === 'active'
          },
          2000,
        )
        return 'booted; lvsd active (enabled in the package)'
      case 'partition':
        for (const n of [node, this.otherDirector(node)])
          await this.trySh(n, 'nft delete table inet lvsd_drill_partition')
        return 'the VRRP filters removed'
      case 'rs-death':
        this.sh(node, webStart(this.kind, node))
        // Node starts in seconds to tens of seconds in a TCG guest: the server is back when it listens
        await until(
          `${node}'s web service to listen`,
          this.stepTimeoutMs,
          async () => {
            return (await this.trySh(node, 'ss -Hltn sport = :80 | grep -q LISTEN && echo up', 15_000))?.trim() === 'up'
          },
          1000,
        )
        return 'its web service started and listening'
      case 'upgrade':
        return 'nothing to undo'
      case 'sync-block':
        for (const n of ['lb01', 'lb02']) await this.trySh(n, 'nft delete table inet lvsd_drill_sync')
        return 'the sync filters removed'
      default:
        throw new Error(`the vagrant backend cannot undo ${kind}`)
    }
  }

  async readConfig(node: string): Promise<string> {
    return this.sh(node, 'cat /etc/lvsd/lvsd.yaml')
  }

  async reload(node: string, text: string): Promise<ReloadOutcome> {
    this.sh(node, 'cat > /etc/lvsd/lvsd.yaml', text)
    // POST /v1/reload, what `lvsctl reload` (ExecReload) sends, with curl: lvsctl is a Node start,
    // seconds of emulated CPU on a TCG director, and while it ran on the master the client's answers
    // stalled up to 1.1 s (curl against the VIP, measured with lvsctl status on each director in turn)
    const out = this.sh(
      node,
      "timeout 100 curl -s --max-time 100 -X POST --unix-socket /run/lvsd/lvsd.sock http://lvsd/v1/reload -w '\\n%{http_code}'",
      undefined,
      120_000,
    ).trim()
    const code = out.slice(out.lastIndexOf('\n') + 1)
    const body = JSON.parse(out.slice(0, out.lastIndexOf('\n'))) as ReloadBody
    return { ok: code === '200', output: describeReload(body) }
  }
}

type ReloadBody = {
  config?: { source?: string; hash?: string }
  changes?: ReloadChanges
  code?: string
  message?: string
  details?: { errors?: ReloadIssue[]; config?: { source?: string } }
}

/** The API's answer to a reload as lvsctl prints it: what changed, or every error with file:line:col. */
function describeReload(b: ReloadBody): string {
  if (b.code === undefined) return reloadedLine(b.config ?? {}, b.changes ?? { added: [], removed: [], changed: [] })
  return [`${b.code}: ${b.message}`, ...issueLines(b.details?.errors ?? [], b.details?.config?.source)].join('\n')
}

const SYNC_DROP =
  'table inet lvsd_drill_sync {\n chain out {\n  type filter hook output priority 0\n  udp dport 8848 drop\n }\n}\n'

/** `vagrant ssh-config`'s output without the `==> node: …` warnings vagrant mixes into stdout. */
export function sshConfigText(out: string): string {
  return `${out
    .split('\n')
    .filter((l) => !l.startsWith('==>'))
    .join('\n')
    .trim()}\n`
}

/** The most recently built .deb of this tree (packaging/build-deb.sh writes build/pkg/<commit>-<recipe>/). */
export function newestDeb(repoRoot: string): string | null {
  const dir = process.env.LVSD_PKG_DIR ?? join(repoRoot, 'build/pkg')
  if (process.env.LVSD_UPGRADE_DEB) return process.env.LVSD_UPGRADE_DEB
  if (!existsSync(dir)) return null
  const debs = readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.deb'))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)
  return debs[0] ?? null
}

function shq(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`
}

function dropVrrpFrom(mac: string): string {
  return `table inet lvsd_drill_partition {\n chain in {\n  type filter hook input priority -10\n  ether saddr ${mac} ip protocol vrrp drop\n }\n}\n`
}

/** The lab web service of a real server (vagrant/provision): a unit per VM, or per namespace in the small topology. */
function webStop(kind: VagrantTopology, node: string): string {
  return kind === 'full' ? 'systemctl stop lvsd-lab-web' : `systemctl stop lvsd-lab-web@${node}`
}

function webStart(kind: VagrantTopology, node: string): string {
  return kind === 'full' ? 'systemctl start lvsd-lab-web' : `systemctl start lvsd-lab-web@${node}`
}
