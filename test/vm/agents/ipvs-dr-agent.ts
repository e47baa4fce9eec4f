// Guest-side agent of ipvs-dr.test.ts: lvsd's reconciler and sync daemons drive two directors of a real LVS-DR
// lab (namespaces d1, d2, rs1, rs2, cl on a bridge, built by the test's script); reports traffic, stats,
// lvsctl vs ipvsadm listings, connection sync to d2, drift repair and ownership.
// Usage (in the VM): ip netns exec d1 node dist/test/vm/agents/ipvs-dr-agent.js director1
//                    (it runs `… director2` in d2 itself)
import { spawn, spawnSync } from 'node:child_process'
import { connect } from 'node:net'
import { createInterface } from 'node:readline'
import { parseReport, report } from '../../../lab/vm/guest.js'
import { IpvsClient } from '../../../src/ipvs/client.js'
import { defaultDest, defaultService, type ServiceState } from '../../../src/ipvs/model.js'
import { modprobe } from '../../../src/ipvs/modprobe.js'
import { type OpEvent, Reconciler } from '../../../src/ipvs/reconciler.js'
import { ensureTimeouts, SyncDaemons } from '../../../src/ipvs/syncd.js'
import { formatAddr, parseAddr } from '../../../src/net/addr.js'

const SELF = 'dist/test/vm/agents/ipvs-dr-agent.js'
const PEER = 'dist/test/vm/agents/ipvs-dr-peer.js'
const key = { protocol: 'tcp', addr: parseAddr('10.0.0.3'), port: 80 } as const
const rs = (last: number, weight: number) => defaultDest(parseAddr(`10.0.0.${last}`), 80, 'droute', { weight })
const SEED: ServiceState[] = [{ service: defaultService(key, 'wrr'), dests: [rs(11, 1), rs(12, 2)] }]
const SYNC = { ifname: 'eth0', syncId: 51 }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
function sh(ns: string | undefined, cmd: string, args: string[]): { status: number | null; out: string } {
  const r = ns
    ? spawnSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8' })
    : spawnSync(cmd, args, { encoding: 'utf8' })
  return { status: r.status, out: (r.stdout ?? '') + (r.stderr ?? '') }
}
const lvsctl = (ns: string | undefined, args: string[]) => sh(ns, 'node', ['bin/lvsctl.js', 'ipvs', ...args])
const ipvsadm = (ns: string | undefined, args: string[]) => sh(ns, 'ipvsadm', args)

/**
 * `lvsctl ipvs …` and `ipvsadm …` in one namespace; counters and connection timers move between two
 * runs, so ipvsadm runs between two lvsctl runs and either must match (up to `tries` rounds).
 */
function compare(ns: string | undefined, mine: string[], theirs: string[], tries = 4) {
  let last = { equal: false, tries: 0, lvsctl: '', ipvsadm: '', status: -1 as number | null }
  for (let i = 1; i <= tries; i++) {
    const a = lvsctl(ns, mine)
    const b = ipvsadm(ns, theirs)
    const c = lvsctl(ns, mine)
    const equal = a.status === 0 && (a.out === b.out || c.out === b.out)
    last = { equal, tries: i, lvsctl: c.out === b.out ? c.out : a.out, ipvsadm: b.out, status: a.status }
    if (equal) break
  }
  return last
}

async function waitFor(what: () => boolean | Promise<boolean>, ms: number, every = 100): Promise<number | null> {
  const t0 = Date.now()
  while (Date.now() - t0 < ms) {
    if (await what()) return Date.now() - t0
    await sleep(every)
  }
  return null
}

const reachable = (host: string) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host, port: 80 })
    s.setTimeout(1000, () => s.destroy())
    s.on('connect', () => {
      s.destroy()
      resolve(true)
    })
    s.on('error', () => resolve(false))
    s.on('close', () => resolve(false))
  })

/** director2: the same table, the backup sync daemon; then exit (the kernel keeps both). */
async function director2(): Promise<void> {
  const c = await IpvsClient.connect({ loadModule: modprobe() })
  const r = new Reconciler(c, { intervalMs: 0 })
  const pass = await r.apply(SEED)
  await ensureTimeouts(c, { tcp: 30, tcpFin: 5, udp: 60 })
  const actions = await new SyncDaemons(c, SYNC).setRole('backup')
  report({
    pass,
    actions,
    daemons: (await c.listDaemons()).map((d) => ({ ...d, group: d.group && formatAddr(d.group) })),
  })
  c.close()
}

async function director1(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {}
  const d2 = sh('d2', 'node', [SELF, 'director2'])
  out.d2 = parseReport(d2.out) ?? { failed: d2.out.slice(-2000) }

  const c = await IpvsClient.connect({ loadModule: modprobe() })
  const events: (Omit<OpEvent, 'op' | 'error'> & { code?: unknown; at: number })[] = []
  const t0 = Date.now()
  const passes: { cause: string; ms: number; ops: number; at: number }[] = []
  const rec = new Reconciler(c, {
    intervalMs: 1000,
    onPass: (p) => passes.push({ cause: p.cause, ms: Math.round(p.ms), ops: p.ops, at: Date.now() - t0 }),
    onEvent: (e) =>
      events.push({
        cause: e.cause,
        target: e.target,
        ok: e.ok,
        status: e.status,
        ms: e.ms,
        code: e.error?.details.code,
        at: Date.now() - t0,
      }),
  })
  out.apply = await rec.apply(SEED)
  out.timeoutsSet = await ensureTimeouts(c, { tcp: 30, tcpFin: 5, udp: 60 })
  const sync = new SyncDaemons(c, SYNC)
  out.syncActions = await sync.setRole('master')
  rec.start()
  out.serversUpMs = await waitFor(
    async () => (await reachable('10.0.0.11')) && (await reachable('10.0.0.12')),
    60_000,
    200,
  )

  // 30 new connections through the VIP: wrr 1:2
  const b = sh('cl', 'node', [PEER, 'burst', '30'])
  out.burst = JSON.parse(b.out.trim().split('\n').pop() ?? '{}')
  await sleep(2500) // the 2 s estimator must have folded the per-CPU counters into the totals
  const svc = (await c.listServices()).find((s) => formatAddr((s.key as typeof key).addr) === '10.0.0.3')
  out.stats = svc?.stats && {
    conns: Number(svc.stats.conns),
    inPkts: Number(svc.stats.inPkts),
    outPkts: Number(svc.stats.outPkts),
  }
  out.cmpList = compare(undefined, [], ['-Ln'])
  out.cmpStats = compare(undefined, ['--stats'], ['-Ln', '--stats'])
  out.cmpRate = compare(undefined, ['--rate'], ['-Ln', '--rate'])
  out.cmpTimeout = compare(undefined, ['--timeout'], ['-L', '--timeout'])
  out.cmpDaemon = compare(undefined, ['--daemon'], ['-L', '--daemon'])
  out.cmpDaemonD2 = compare('d2', ['--daemon'], ['-L', '--daemon'])

  // a long-lived connection: it must show up on d2 through the sync daemon
  const long = spawn('ip', ['netns', 'exec', 'cl', 'node', PEER, 'long', '25'])
  const lines = createInterface({ input: long.stdout })
  const longDone = new Promise<string[]>((resolve) => {
    const got: string[] = []
    lines.on('line', (l) => got.push(l))
    long.on('close', () => resolve(got))
  })
  const port = await new Promise<number>((resolve) => lines.once('line', (l) => resolve(Number(l.split(' ')[1]))))
  const tEst = Date.now()
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0')
  const synced = await waitFor(() => {
    const conns = sh('d2', 'cat', ['/proc/net/ip_vs_conn']).out
    return conns.split('\n').some((l) => l.includes(`0A000064 ${hexPort}`) && l.includes('ESTABLISHED'))
  }, 15_000)
  out.sync = { port, syncedMs: synced, d2conns: sh('d2', 'cat', ['/proc/net/ip_vs_conn']).out }
  out.cmpConnsD2 = compare('d2', ['-c'], ['-Lnc'])
  out.cmpConnsD1 = compare(undefined, ['-c'], ['-Lnc'])
  const longLines = await longDone
  out.long = { ...JSON.parse(longLines.pop() ?? '{}'), ms: Date.now() - tEst }

  // drift: an unowned service added with ipvsadm, then a destination of lvsd's deleted behind its back
  const unowned = [
    ipvsadm(undefined, ['-A', '-t', '10.0.0.3:8080', '-s', 'rr']).status,
    ipvsadm(undefined, ['-a', '-t', '10.0.0.3:8080', '-r', '10.0.0.11:8080', '-g', '-w', '1']).status,
  ]
  const before = events.length
  const passesBefore = passes.length
  const del = ipvsadm(undefined, ['-d', '-t', '10.0.0.3:80', '-r', '10.0.0.12:80']).status
  const tDel = Date.now()
  const restoredMs = await waitFor(async () => (await c.listDests(key)).some((d) => d.addr.bytes[3] === 12), 10_000, 50)
  await sleep(2500) // at least two more passes
  out.drift = {
    unowned,
    del,
    restoredMs,
    sinceDelete: Date.now() - tDel,
    events: events.slice(before),
    passes: passes.slice(passesBefore),
    deletedAt: tDel - t0,
    counters: { ...rec.counters },
    weight: (await c.listDests(key)).find((d) => d.addr.bytes[3] === 12)?.weight,
    unownedAfter: ipvsadm(undefined, ['-Ln', '-t', '10.0.0.3:8080']).out,
  }

  // role switches on the real kernel, idempotent
  out.roles = {
    toBackup: await sync.setRole('backup'),
    afterBackup: (await c.listDaemons()).map((d) => d.state),
    toMaster: await sync.setRole('master'),
    again: await sync.setRole('master'),
    afterMaster: (await c.listDaemons()).map((d) => d.state),
  }
  await rec.stop()
  out.allEvents = events.length
  c.close()
  return out
}

const mode = process.argv[2]
// a fatal error must end the agent (its reconciler timer would keep it, and the VM, alive until the timeout)
const fatal = (e: unknown) => {
  report({ fatal: String((e as Error).stack) })
  process.exit(1)
}
if (mode === 'director2') director2().catch(fatal)
else director1().then((r) => report(r), fatal)
