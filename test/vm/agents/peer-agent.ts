// Guest-side agent of peer.test.ts: two `lvsd run` (lb01, lb02 from conf/ plus a `peer:` section) over the
// peer channel, each with its own IPVS table (one namespace each). Reports: a service changed on lb02 by a
// reload raising the drift alarm on both and reverting it clearing it, a drain on the backup reaching
// the master's kernel, a drain and a weight on the master reaching the backup's status and kernel, 50 timed
// drain/undrain trials (lvsd API on lb01 → lb02's kernel changed), the connection counts of both sides
// with the kernel sync daemons running and the sync-lag alarm once nftables drops their traffic, the
// backup's table before a crash of lb01, the takeover with no request to the drained server, and the
// drained state surviving lb01's restart.
//   node dist/test/vm/agents/peer-agent.js   (in the VM, root namespace)
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { report } from '../../../lab/vm/guest.js'
import { serviceDrift, syncLag } from './peer-drift-sync.js'
import { burst, Daemon, DIR, type Line, metrics, PEER, sh, sleep, waitFor, weightOf, writeConfig } from './peer-pair.js'

const servers: ChildProcess[] = []

async function main(): Promise<void> {
  mkdirSync(DIR, { recursive: true })
  writeFileSync(`${DIR}/peer.key`, 'a-peer-key-for-the-vm-tier-0123456789\n', { mode: 0o600 })
  for (const n of ['web01', 'web02'])
    servers.push(spawn('ip', ['netns', 'exec', n, 'node', PEER, 'server', n], { stdio: 'ignore' }))
  const lb01 = new Daemon('lb01', writeConfig('lb01', '10.0.0.1', '10.0.0.2'))
  const lb02 = new Daemon('lb02', writeConfig('lb02', '10.0.0.2', '10.0.0.1'))
  const out: Record<string, unknown> = {}
  const t0 = Date.now()
  const ready = await waitFor(
    async () => {
      const [a, b] = await Promise.all([lb01.status(), lb02.status()])
      const allUp = (s: Line | undefined) => s?.services[0]?.servers.every((r: Line) => r.health === 'up')
      return a?.instances[0]?.state === 'MASTER' &&
        a?.peer?.channel === 'up' &&
        b?.peer?.channel === 'up' &&
        allUp(a) &&
        allUp(b)
        ? true
        : undefined
    },
    150_000,
    500,
  )
  out.readyAfterMs = ready ? Date.now() - t0 : null
  if (!ready) {
    out.logs = { lb01: lb01.lines.slice(-30), lb02: lb02.lines.slice(-30) }
    report(out)
    return
  }
  out.driftAtStart = { lb01: (await lb01.status())?.peer?.drift, lb02: (await lb02.status())?.peer?.drift }
  out.serviceDrift = await serviceDrift(lb01, lb02)

  // a drain on the backup reaches the master's kernel
  let t = Date.now()
  out.backupDrain = { exit: lb02.lvsctl(['drain', 'web', '10.0.0.7:80']).status }
  const onMaster = await waitFor(
    () => (weightOf(lb01.ipvsadm(), '10.0.0.7:80') === 0 ? Date.now() - t : undefined),
    20_000,
  )
  const undrain = lb02.lvsctl(['undrain', 'web', '10.0.0.7:80']).status
  const undone = await waitFor(() => (weightOf(lb01.ipvsadm(), '10.0.0.7:80') === 1 ? true : undefined), 20_000)
  out.backupDrain = { ...(out.backupDrain as object), masterKernelMs: onMaster, undrainExit: undrain, undone }

  // a drain and a weight on the master: in the backup's status within 1 s, then in its kernel
  t = Date.now()
  const drainExit = lb01.lvsctl(['drain', 'web', '10.0.0.7:80']).status
  const afterCli = Date.now()
  const inStatus = await waitFor(
    async () =>
      (await lb02.status())?.services[0]?.servers.find((r: Line) => r.server === '10.0.0.7:80')?.drained === true
        ? Date.now() - afterCli
        : undefined,
    20_000,
    20,
  )
  const inKernel = await waitFor(
    () => (weightOf(lb02.ipvsadm(), '10.0.0.7:80') === 0 ? Date.now() - t : undefined),
    20_000,
  )
  const weightExit = lb01.lvsctl(['weight', 'web', '10.0.0.8:80', '5']).status
  const weighted = await waitFor(() => (weightOf(lb02.ipvsadm(), '10.0.0.8:80') === 5 ? true : undefined), 20_000)
  out.masterDrain = { drainExit, statusAfterCliMs: inStatus, kernelMs: inKernel, weightExit, weighted }

  // 50 timed trials: the API call on lb01 → the replicated action applied to lb02's kernel (its log line
  // is written after the IPVS pass returns); undrain/drain alternately, ending drained
  const trials: number[] = []
  for (let i = 0; i < 50; i++) {
    const on = i % 2 === 1
    const from = lb02.lines.length
    const start = Date.now()
    await (on ? lb01.api.drain('web', '10.0.0.7:80') : lb01.api.undrain('web', '10.0.0.7:80'))
    const line = await waitFor(
      () => lb02.find((l) => l.key === 'drain:web/10.0.0.7:80' && l.value === on && l.node === 'lb01', from),
      10_000,
      5,
    )
    if (line) trials.push(Date.parse(line.time) - start)
  }
  out.trials = trials
  out.syncLag = await syncLag(lb01, lb02)

  const errorsBefore = lb02.statusErrors.length
  // one call, not a wait: its failure is a finding (it was EPIPE on a kept-alive socket, before the
  // client opened a connection per request) and its reason goes into the report
  const before = await lb02.status()
  out.beforeCrash = {
    table: lb02.ipvsadm(),
    status: lb02.lvsctl(['status']).out,
    peer: before?.peer,
    statusErrors: lb02.statusErrors.slice(errorsBefore),
    metrics: metrics('lb02'),
  }
  out.idle = { lb01: lb01.lvsctl(['status', '--json']).status }

  // crash lb01: killed and cut off at once (its VIP stays on a dead link, as on a crashed host)
  const from2 = lb02.lines.length
  lb01.proc.kill('SIGKILL')
  sh('lb01', 'ip', ['link', 'set', 'eth0', 'down'])
  const crashedAt = Date.now()
  const takeover = await waitFor(() => lb02.find((l) => l.vrrp === 'web' && l.to === 'MASTER', from2), 30_000)
  out.takeover = { ms: takeover ? Date.now() - crashedAt : null, tableAfter: lb02.ipvsadm() }
  const counts: Record<string, number> = {}
  let failures = 0
  for (let i = 0; i < 4; i++) {
    const b = burst(5)
    failures += b.failures
    for (const [k, v] of Object.entries(b.counts)) counts[k] = (counts[k] ?? 0) + v
  }
  out.afterTakeover = { counts, failures }
  out.channelDown = await waitFor(
    async () => ((await lb02.status())?.peer?.channel === 'down' ? true : undefined),
    15_000,
    200,
  )

  // lb01 comes back: its first IPVS pass already has the drain (saved state), before it preempts
  await lb01.exited
  sh('lb01', 'ip', ['link', 'set', 'eth0', 'up'])
  const from1 = lb01.lines.length
  const savedBefore = (() => {
    try {
      return readFileSync(`${DIR}/lb01-state.json`, 'utf8')
    } catch (e) {
      return String(e)
    }
  })()
  lb01.start()
  const firstPass = await waitFor(() => lb01.find((l) => l.msg === 'daemon ready', from1), 60_000)
  out.restart = {
    savedBefore,
    passes: lb01.lines.slice(from1).filter((l) => l.msg === 'IPVS pass' || l.level >= 40 || l.raw),
    tail: lb01.lines
      .slice(from1)
      .slice(-8)
      .map((l) => String(l.msg).slice(0, 200)),
    firstPass: firstPass !== null,
    tableAtFirstPass: lb01.ipvsadm(),
    status: await waitFor(
      async () => {
        const s = await lb01.status()
        return s?.peer?.channel === 'up' ? s.services[0].servers : undefined
      },
      60_000,
      300,
    ),
  }
  lb01.proc.kill('SIGTERM')
  lb02.proc.kill('SIGTERM')
  await Promise.race([Promise.all([lb01.exited, lb02.exited]), sleep(30_000)])
  out.logs = {
    lb01: lb01.lines.filter((l) => l.level >= 40).map((l) => l.msg),
    lb02: lb02.lines.filter((l) => l.level >= 40).map((l) => l.msg),
  }
  report(out)
}

main()
  .catch((e) => {
    report({ fatal: String(e?.stack ?? e) })
    process.exitCode = 1
  })
  .finally(() => {
    for (const p of servers) p.kill('SIGKILL')
  })
