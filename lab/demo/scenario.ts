// The demo scenario on this machine's kernel (the host's, or the VM guest's): build the topology,
// start the real servers, the capture, two lvsd and the client; let it settle; freeze the master
// and cut its link; watch the backup take over; tear everything down. Returns what it recorded.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { Capture } from './capture.js'
import { DemoConfigs } from './configs.js'
import { Director } from './directors.js'
import type { ClientEvent, DemoResult } from './events.js'
import { listsConnection, listsVipService, syncRoles } from './kernel-state.js'
import { ADVERT_MS, DIRECTORS, NODES, nodeByMac, REAL_SERVERS, VIP } from './plan.js'
import { DemoTopology } from './topology.js'

export interface ScenarioOptions {
  repoRoot: string
  where: DemoResult['where']
  /** New connection every … ms (native ~20, TCG ~50: each probe costs the guest's emulated CPU). */
  probeIntervalMs: number
  /** A probe not answered within this fails; under 1 s so a retransmitted SYN never counts. */
  probeTimeoutMs: number
  /** Bound on each settling step (daemons up, election, traffic, sync), wall clock. */
  stepTimeoutMs: number
  /** After the kill: wait at most this long for takeover, a served probe and the long connection. */
  takeoverTimeoutMs: number
  /** False only for `--here` on a kernel without IPVS: election, GARP and takeover, no traffic. */
  ipvs: boolean
  progress?: (line: string) => void
}

class StepTimeout extends Error {
  override readonly name = 'StepTimeout'
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function until(what: string, ms: number, cond: () => boolean): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new StepTimeout(`gave up after ${Math.round(ms / 1000)} s waiting for ${what}`)
    await sleep(50)
  }
}

/** Tears the lab down if the process is interrupted (Ctrl-C, SIGTERM) while the scenario runs. */
function guardSignals(cleanup: () => void): () => void {
  const onSignal = (sig: NodeJS.Signals) => {
    cleanup()
    process.stderr.write(`demo: ${sig}: namespaces removed\n`)
    process.exit(sig === 'SIGINT' ? 130 : 143)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('exit', cleanup)
  return () => {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    process.off('exit', cleanup)
  }
}

/** The new master as an operator sees it: `lvsctl status` and the Prometheus text of its /metrics. */
async function afterTakeover(
  repoRoot: string,
  lab: DemoTopology,
  node: string,
  socket: string,
): Promise<NonNullable<DemoResult['after']>> {
  const st = await lvsctlStatus(repoRoot, socket)
  let metrics: string | null = null
  try {
    const get = "fetch('http://127.0.0.1:9478/metrics').then(r=>r.text()).then(t=>process.stdout.write(t))"
    metrics = lab.exec(node, process.execPath, ['-e', get])
  } catch {}
  return { node, status: st.ok ? st.text : null, metrics }
}

/** `lvsctl -s SOCKET status` of one director: its output, or why there is none. */
function lvsctlStatus(repoRoot: string, socket: string): Promise<{ ok: boolean; text: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(repoRoot, 'bin', 'lvsctl.js'), '-s', socket, 'status'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 90_000,
    })
    let out = ''
    let err = ''
    p.stdout.on('data', (b: Buffer) => {
      out += b.toString()
    })
    p.stderr.on('data', (b: Buffer) => {
      err += b.toString()
    })
    p.on('error', (e) => resolve({ ok: false, text: e.message }))
    p.on('close', (code, sig) => {
      resolve(
        code === 0 && out
          ? { ok: true, text: out }
          : { ok: false, text: `exit ${code ?? sig}: ${err.trim().slice(-300)}` },
      )
    })
  })
}

function kernelRelease(): string {
  return readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()
}

export async function runScenario(o: ScenarioOptions): Promise<DemoResult> {
  const startedAt = Date.now()
  const say = (msg: string) => o.progress?.(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(5)}s] ${msg}`)
  const lab = new DemoTopology()
  const configs = new DemoConfigs(
    o.repoRoot,
    DIRECTORS.map((d) => ({ node: d.name, config: d.config as string })),
    !o.ipvs,
  )
  const cleanup = () => {
    lab.dispose()
    configs.dispose()
  }
  const unguard = guardSignals(cleanup)
  const r: DemoResult = {
    ok: false,
    where: o.where,
    kernel: kernelRelease(),
    prefix: lab.prefix,
    ipvs: o.ipvs,
    failure: null,
    startedAt,
    probeIntervalMs: o.probeIntervalMs,
    transitions: [],
    frames: [],
    probes: [],
    long: [],
    settledAt: null,
    master: null,
    backup: null,
    longSyncedAt: null,
    longPort: null,
    kill: null,
    vipNeighbour: { mac: null, node: null, state: null },
    listings: {},
    status: {},
    after: null,
    logs: {},
  }
  const directors: Director[] = []
  let capture: Capture | undefined
  let client: ChildProcess | undefined
  const clientEvents: ClientEvent[] = []
  const step = o.stepTimeoutMs
  try {
    lab.build(NODES)
    say(`namespaces ${lab.prefix}{sw,${NODES.map((n) => n.name).join(',')}} built; bridge br0 in ${lab.ns('sw')}`)
    lab.realServersUp(NODES, o.repoRoot, configs.dir)
    say('real servers web01, web02 set up by `lvsd realserver up -c conf/realserver/realserver.yaml`')
    const cap = Capture.start(lab, 'client', VIP)
    capture = cap
    const servers = REAL_SERVERS.map((rs) => {
      const p = lab.spawn(rs.name, process.execPath, [join(o.repoRoot, 'dist/lab/demo/real-server.js'), rs.name])
      let up = false
      p.stdout?.on('data', () => {
        up = true
      })
      return () => up
    })
    await until('tcpdump in the client namespace', step, () => cap.listening)
    await until('the real servers to listen', step, () => servers.every((up) => up()))
    say('real servers web01, web02 listening on :80; capture armed')

    for (const d of DIRECTORS) directors.push(Director.start(lab, o.repoRoot, d.name, configs.of(d.name).path))
    await until('both lvsd to start', step, () => directors.every((d) => d.started || d.exited))
    const dead = directors.find((d) => d.exited)
    if (dead) {
      const last = dead.log.trimEnd().split('\n').slice(-2).join('\n')
      throw new Error(`lvsd on ${dead.node} exited at start (status ${dead.proc.exitCode}):\n${last}`)
    }
    say('lvsd running on lb01 (priority 150) and lb02 (priority 100)')

    const netnsText = (node: string, file: string) =>
      spawnSync('ip', ['netns', 'exec', lab.ns(node), 'cat', file], { encoding: 'utf8' }).stdout ?? ''
    if (o.ipvs) {
      // lvsd programs the table on both directors at start, as keepalived does (a takeover only moves the VIP)
      const hasTable = () => DIRECTORS.every((d) => listsVipService(netnsText(d.name, '/proc/net/ip_vs')))
      await until('lvsd to program the VIP service (virtual_services) on both directors', step, hasTable)
      say('IPVS: lvsd programmed 10.0.0.3:80 wrr -> web01, web02 (Route) on both directors')
    }

    // the configs make the higher priority win and preempt (lb01: "wins and preempts when it
    // returns"): settled is that node MASTER and the other BACKUP, whoever started first
    const [first, second] = [...DIRECTORS].sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0))
    const master = directors.find((d) => d.node === first?.name) as Director
    const backup = directors.find((d) => d.node === second?.name) as Director
    await until(`the election (${master.node} MASTER, ${backup.node} BACKUP)`, step + 3 * ADVERT_MS, () => {
      return master.state === 'MASTER' && backup.state === 'BACKUP'
    })
    r.master = master.node
    r.backup = backup.node
    say(`elected: ${master.node} MASTER, ${backup.node} BACKUP`)

    if (o.ipvs) {
      const roles = (node: string) => {
        try {
          return syncRoles(lab.exec(node, 'ipvsadm', ['-Ln', '--daemon']))
        } catch {
          return [] // a role switch under way
        }
      }
      // ipvs.sync follows the VRRP instance: master sync daemon on the MASTER, backup on the BACKUP
      await until('lvsd to run the sync daemons (ipvs.sync)', step, () => {
        return roles(master.node).includes('master') && roles(backup.node).includes('backup')
      })
      say(`IPVS sync daemons: master on ${master.node}, backup on ${backup.node} (lvsd, following VRRP)`)
    }

    const c = lab.spawn('client', process.execPath, [
      join(o.repoRoot, 'dist/lab/demo/client.js'),
      String(o.probeIntervalMs),
      String(o.probeTimeoutMs),
    ])
    client = c
    createInterface({ input: c.stdout! }).on('line', (l) => {
      try {
        clientEvents.push(JSON.parse(l) as ClientEvent)
      } catch {}
    })
    const answeredBy = () => new Set(clientEvents.flatMap((e) => (e.k === 'probe' && e.server ? [e.server] : [])))
    const longPort = () => clientEvents.find((e) => e.k === 'long' && e.ev === 'established')
    if (o.ipvs) {
      await until('both real servers to answer through the VIP', step, () => answeredBy().size >= REAL_SERVERS.length)
      say(`client: new connection every ${o.probeIntervalMs} ms; answered by ${[...answeredBy()].sort().join(', ')}`)
      await until('the long-lived connection', step, () => longPort() !== undefined)
      const port = (longPort() as { port: number }).port
      r.longPort = port
      say(`long-lived connection from 10.0.0.100:${port} established; waiting for ${backup.node} to list it`)
      await until(`${backup.node} to list the long connection (sync daemon)`, step, () => {
        return listsConnection(netnsText(backup.node, '/proc/net/ip_vs_conn'), '10.0.0.100', port)
      })
      r.longSyncedAt = Date.now()
      say(`${backup.node} lists the long connection ESTABLISHED (sync daemon)`)
      for (const d of DIRECTORS) r.listings[d.name] = lab.exec(d.name, 'ipvsadm', ['-Ln'])
    }
    const statuses = await Promise.all(DIRECTORS.map((d) => lvsctlStatus(o.repoRoot, configs.of(d.name).socket)))
    DIRECTORS.forEach((d, i) => {
      const st = statuses[i] as { ok: boolean; text: string }
      if (st.ok) r.status[d.name] = st.text
      else say(`no lvsctl status from ${d.name} (${st.text})`)
    })
    r.settledAt = Date.now()
    // steady traffic for the "before" picture, then a kill at a random phase of the advert cycle
    await sleep(2000)

    // the crash: lvsd frozen (its VIP stays configured) and the host's link cut at the same moment;
    // freezing alone would leave lb01's kernel forwarding through its IPVS table
    const link = lab.armLinkCut(master.node)
    await sleep(Math.random() * ADVERT_MS)
    const killT = Date.now()
    master.freeze()
    const cut = link.cut()
    if ((await cut) !== 0) throw new Error(`could not cut ${master.node}'s link`)
    const cutAt = Date.now()
    r.kill = { t: killT, cutAt, node: master.node, how: 'SIGSTOP + link cut' }
    say(`${master.node} frozen (SIGSTOP) and its link cut (${cutAt - killT} ms to confirm)`)

    const servedAfter = () => clientEvents.some((e) => e.k === 'probe' && e.t > killT && e.server !== null)
    const longAfter = () => clientEvents.some((e) => e.k === 'long' && e.t > killT && e.ev !== 'established')
    const took = () => backup.transitions.some((t) => t.t >= killT && t.to === 'MASTER')
    await until(`${backup.node} to take over`, o.takeoverTimeoutMs, took)
    say(`${backup.node} MASTER`)
    if (o.ipvs) {
      await until('an answer after the takeover', o.takeoverTimeoutMs, servedAfter)
      // on the wire, after the cut: SYN-ACKs from each real server (answers through lb01 before
      // its link went down must not count)
      const answeredAfter = () =>
        new Set(cap.frames.filter((f) => f.kind === 'synack' && f.t > cutAt).map((f) => f.from))
      await until('both real servers to answer through the new master', o.takeoverTimeoutMs, () => {
        return REAL_SERVERS.every((rs) => answeredAfter().has(rs.name))
      })
      // TCP backoff puts the long connection's retransmits ~3.0 s or ~6.2 s after the freeze
      await until('the long connection to speak after the takeover', o.takeoverTimeoutMs, longAfter)
    }
    await sleep(2000) // the "after" picture
    r.after = await afterTakeover(o.repoRoot, lab, backup.node, configs.of(backup.node).socket)
    say('stopping the client')
  } catch (e) {
    r.failure = e instanceof Error ? e.message : String(e)
    say(`failed: ${r.failure}`)
  } finally {
    client?.kill('SIGTERM')
    await sleep(200)
    try {
      const neigh = lab.exec('client', 'ip', ['neigh', 'show', VIP, 'dev', 'eth0']).trim()
      const mac = /lladdr (\S+)/.exec(neigh)?.[1] ?? null
      r.vipNeighbour = {
        mac,
        node: mac ? (nodeByMac(mac)?.name ?? null) : null,
        state: neigh.split(' ').at(-1) ?? null,
      }
    } catch {}
    for (const d of directors) {
      r.transitions.push(...d.transitions)
      r.logs[d.node] = d.log
    }
    r.transitions.sort((a, b) => a.t - b.t)
    r.frames = capture?.frames ?? []
    if (capture && !capture.listening) r.logs.tcpdump = capture.diagnostics
    r.probes = clientEvents.filter((e) => e.k === 'probe')
    r.long = clientEvents.filter((e) => e.k === 'long')
    cleanup()
    unguard()
  }
  r.ok = r.failure === null
  say(r.ok ? 'done; namespaces removed' : 'namespaces removed')
  return r
}
