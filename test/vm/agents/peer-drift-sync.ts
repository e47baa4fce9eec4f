// Two steps of the peer VM agent (peer-agent.ts) for issue 12's proofs that need real IPVS: a service
// that differs between the pair's configs raises the drift alarm naming it (and reverting clears it),
// and the sync-lag alarm: both nodes report their connection counts while the kernel sync daemons
// run, and the backup reports lagging once nftables drops their traffic.
import { writeFileSync } from 'node:fs'
import {
  burstAsync,
  CONNS_AFTER_MS,
  CONNS_RATIO,
  type Daemon,
  DIR,
  grepLines,
  type Line,
  MIN_MASTER_CONNS,
  metrics,
  NFT,
  sh,
  sleep,
  waitFor,
  weightOf,
  writeConfig,
} from './peer-pair.js'

/**
 * Service drift: lb02 reloads a `web` whose web02 has weight 2 → both nodes name service:web (status,
 * event, metric, lvsctl status); the seed's file again → none. Runs before the other steps and ends with
 * lb02's kernel back at weight 1, so they start from the table they expect.
 */
export async function serviceDrift(lb01: Daemon, lb02: Daemon): Promise<Line> {
  const from = { lb01: lb01.lines.length, lb02: lb02.lines.length }
  const driftOf = async (d: Daemon) => (await d.status())?.peer?.drift as Line[] | undefined
  writeConfig('lb02', '10.0.0.2', '10.0.0.1', 2)
  const t = Date.now()
  const reloadExit = lb02.lvsctl(['reload']).status
  const both = await waitFor(
    async () => {
      const [a, b] = [await driftOf(lb01), await driftOf(lb02)]
      return a?.length && b?.length ? { lb01: a, lb02: b } : undefined
    },
    20_000,
    100,
  )
  const inStatusMs = both ? Date.now() - t : null
  const raised = (d: Daemon, i: number) =>
    waitFor(() => d.find((l) => l.event === 'peer.drift' && l.differs?.length > 0, i), 10_000)
  const on = {
    reloadExit,
    inStatusMs,
    status: both,
    events: { lb01: await raised(lb01, from.lb01), lb02: await raised(lb02, from.lb02) },
    lvsctl: grepLines(lb01.lvsctl(['status']).out, /^Drift/),
    metrics: {
      lb01: grepLines(metrics('lb01'), /^lvsd_peer_config_drift/),
      lb02: grepLines(metrics('lb02'), /^lvsd_peer_config_drift/),
    },
    lb02Weight: await waitFor(() => (weightOf(lb02.ipvsadm(), '10.0.0.8:80') === 2 ? 2 : undefined), 20_000),
  }

  const mark = { lb01: lb01.lines.length, lb02: lb02.lines.length }
  writeConfig('lb02', '10.0.0.2', '10.0.0.1')
  const revertExit = lb02.lvsctl(['reload']).status
  const cleared = await waitFor(
    async () => {
      const [a, b] = [await driftOf(lb01), await driftOf(lb02)]
      return a?.length === 0 && b?.length === 0 ? { lb01: a, lb02: b } : undefined
    },
    20_000,
    100,
  )
  const clearedEvent = (d: Daemon, i: number) =>
    waitFor(() => d.find((l) => l.event === 'peer.drift' && l.differs?.length === 0, i), 10_000)
  const off = {
    revertExit,
    status: cleared,
    events: { lb01: await clearedEvent(lb01, mark.lb01), lb02: await clearedEvent(lb02, mark.lb02) },
    metrics: {
      lb01: grepLines(metrics('lb01'), /^lvsd_peer_config_drift/),
      lb02: grepLines(metrics('lb02'), /^lvsd_peer_config_drift/),
    },
    lb02Weight: await waitFor(() => (weightOf(lb02.ipvsadm(), '10.0.0.8:80') === 1 ? 1 : undefined), 20_000),
  }
  return { on, off }
}

/** The kernel's connections by TCP state (`ipvsadm -Lnc`), e.g. { FIN_WAIT: 120 }, and the longest expiry. */
function connStates(ns: string): Record<string, string | number> {
  const out: Record<string, string | number> = {}
  let longest = ''
  for (const l of sh(ns, 'ipvsadm', ['-Lnc']).out.split('\n')) {
    const m = /^TCP +(\d\d:\d\d) +(\S+)/.exec(l)
    if (!m?.[1] || !m[2]) continue
    out[m[2]] = ((out[m[2]] as number | undefined) ?? 0) + 1
    if (m[1] > longest) longest = m[1]
  }
  return { ...out, longestExpiry: longest }
}

/**
 * The sync-lag alarm on the real sync daemons (ipvs.sync follows VRRP: lb01 master, lb02 backup).
 * (i) FIRST short connections through the VIP: both nodes report the counts, the backup's reaching the
 * master's; no alarm over an observation window of conns_after + 2 s. (ii) nftables drops the sync
 * traffic (UDP 8848) on lb02, SECOND more connections: only the master counts them, the backup falls below
 * CONNS_RATIO % → peer.conns lagging, metric, status. The drop is removed at the end (the crash follows).
 */
export async function syncLag(lb01: Daemon, lb02: Daemon): Promise<Line> {
  const FIRST = 120
  // more than FIRST: the backup keeps FIRST, below half of the master's FIRST + SECOND
  const SECOND = 200
  const connsOf = async (d: Daemon) =>
    ((await d.status())?.peer?.conns as Line[] | undefined)?.find((c) => c.service === 'web')
  const from = lb02.lines.length
  const daemons = {
    lb01: sh('lb01', 'ipvsadm', ['-Ln', '--daemon']).out,
    lb02: sh('lb02', 'ipvsadm', ['-Ln', '--daemon']).out,
  }

  let t = Date.now()
  const first = await burstAsync(FIRST)
  const firstBurstMs = Date.now() - t
  t = Date.now()
  // synced: the backup holds at least what the master holds, and each side has the other's number
  const settled = await waitFor(
    async () => {
      const [a, b] = [await connsOf(lb01), await connsOf(lb02)]
      return a && b && a.here >= MIN_MASTER_CONNS && b.here >= a.here && a.peer === b.here && b.peer === a.here
        ? { lb01: a, lb02: b }
        : undefined
    },
    30_000,
    200,
  )
  const settledMs = settled ? Date.now() - t : null
  const tables = { lb01: lb01.ipvsadm(), lb02: lb02.ipvsadm() }
  const states = { lb01: connStates('lb01'), lb02: connStates('lb02') }
  // absence of an alarm: watched for longer than conns_after plus two peer intervals
  const watchedUntil = Date.now() + CONNS_AFTER_MS + 2000
  const laggingSeen: Line[] = []
  while (Date.now() < watchedUntil) {
    const c = await connsOf(lb02)
    if (c?.lagging) laggingSeen.push(c)
    await sleep(250)
  }
  const synced = {
    first,
    firstBurstMs,
    daemons,
    settledMs,
    settled,
    tables,
    states,
    laggingSeen,
    events: lb02.lines.slice(from).filter((l) => l.event === 'peer.conns'),
  }

  // (ii) the backup stops hearing the master sync daemon
  const rules = `table inet lvsd_sync_block {\n  chain input {\n    type filter hook input priority 0; policy accept;\n    udp dport 8848 counter drop\n  }\n}\n`
  writeFileSync(`${DIR}/sync-block.nft`, rules)
  const nftExit = sh('lb02', NFT, ['-f', `${DIR}/sync-block.nft`])
  const mark = { lb01: lb01.lines.length, lb02: lb02.lines.length }
  let lagInStatusAt: number | undefined
  let lagInStatus: Line | undefined
  t = Date.now()
  let burstEnd: number | undefined
  const second = burstAsync(SECOND).then((r) => {
    burstEnd = Date.now()
    return r
  })
  const alarm = await waitFor(
    async () => {
      const c = await connsOf(lb02)
      if (lagInStatusAt === undefined && c && c.peer >= MIN_MASTER_CONNS && c.here * 100 < c.peer * CONNS_RATIO) {
        lagInStatusAt = Date.now()
        lagInStatus = c
      }
      return lb02.find((l) => l.event === 'peer.conns' && l.lagging === true, mark.lb02)
    },
    60_000,
    100,
  )
  const secondResult = await second
  const alarmAt = alarm ? Date.parse(alarm.time) : undefined
  const blocked = {
    nftExit: nftExit.status,
    nftOut: nftExit.out,
    second: secondResult,
    secondBurstMs: (burstEnd ?? Date.now()) - t,
    alarm,
    lagInStatus,
    alarmAfterLagInStatusMs: alarmAt !== undefined && lagInStatusAt !== undefined ? alarmAt - lagInStatusAt : null,
    alarmAfterBurstEndMs: alarmAt !== undefined && burstEnd !== undefined ? alarmAt - burstEnd : null,
    // each side's copy of the other's count is up to an interval old: wait until they agree
    status: await waitFor(
      async () => {
        const [a, b] = [await connsOf(lb01), await connsOf(lb02)]
        return a && b && a.peer === b.here && b.peer === a.here ? { lb01: a, lb02: b } : undefined
      },
      10_000,
      200,
    ),
    lvsctl: grepLines(lb02.lvsctl(['status']).out, /^(Sync|Conns)/),
    metrics: grepLines(metrics('lb02'), /^lvsd_peer_(conns_lagging|service_connections)/),
    masterEvents: lb01.lines.slice(mark.lb01).filter((l) => l.event === 'peer.conns'),
    tables: { lb01: lb01.ipvsadm(), lb02: lb02.ipvsadm() },
    dropped: sh('lb02', NFT, ['list', 'table', 'inet', 'lvsd_sync_block']).out,
  }
  sh('lb02', NFT, ['delete', 'table', 'inet', 'lvsd_sync_block'])
  return { synced, blocked }
}
