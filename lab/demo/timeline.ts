// The demo's readable output: a timeline of what happened (relative to the start) and a summary.
// Pure: a recorded result in, text out.
import { type DemoSummary, summarize } from './analysis.js'
import type { DemoResult, Frame } from './events.js'
import { nodeNamed, VIP } from './plan.js'

const secs = (ms: number) => `${(ms / 1000).toFixed(3)} s`
const rel = (r: DemoResult, t: number) => `+${((t - r.startedAt) / 1000).toFixed(3)}s`.padStart(9)
const tally = (a: Record<string, number>) =>
  Object.entries(a)
    .sort()
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || 'none'

/** Consecutive GARPs from one sender less than 1.5 s apart form one burst. */
/** The metric families the timeline quotes: VRRP state and traffic, health, weights, kernel counters. */
const METRICS_SHOWN =
  /^lvsd_(vrrp_state|vrrp_transitions_total|vrrp_adverts_(sent|received)_total|real_server_(up|weight)|health_transitions_total|ipvs_service_(connections|in_packets|out_packets)_total|ipvs_operations_total)\{/

export function garpBursts(frames: Frame[]): { t: number; from: string; mac: string; count: number }[] {
  const out: { t: number; from: string; mac: string; count: number; last: number }[] = []
  for (const f of frames.filter((x) => x.kind === 'garp')) {
    const cur = out.at(-1)
    if (cur && cur.mac === f.srcMac && f.t - cur.last < 1500) {
      cur.count++
      cur.last = f.t
    } else out.push({ t: f.t, from: f.from ?? f.srcMac, mac: f.srcMac, count: 1, last: f.t })
  }
  return out.map(({ last: _, ...b }) => b)
}

function events(r: DemoResult, s: DemoSummary): [number, string][] {
  const ev: [number, string][] = []
  for (const t of r.transitions) ev.push([t.t, `${t.node}: VRRP ${t.instance} ${t.from} -> ${t.to} (${t.why})`])
  for (const b of garpBursts(r.frames)) {
    ev.push([
      b.t,
      `client sees ${b.count} gratuitous ARP${b.count > 1 ? 's' : ''} for ${VIP} from ${b.from} (${b.mac})`,
    ])
  }
  const firstAdvert = new Map<string, number>()
  for (const f of r.frames) if (f.kind === 'advert' && f.from && !firstAdvert.has(f.from)) firstAdvert.set(f.from, f.t)
  for (const [node, t] of firstAdvert) ev.push([t, `client sees the first VRRP advert from ${node}`])
  if (s.long.established !== null)
    ev.push([s.long.established, `long-lived connection established (port ${s.long.port})`])
  if (r.longSyncedAt !== null) ev.push([r.longSyncedAt, `${r.backup} lists the long connection (IPVS sync daemon)`])
  if (r.settledAt !== null) {
    const what =
      r.longSyncedAt === null
        ? 'settled (no traffic: no IPVS here)'
        : 'settled: both real servers answering, connection synced'
    ev.push([r.settledAt, what])
  }
  if (s.lastAdvertOfKilled !== null) ev.push([s.lastAdvertOfKilled, `client sees the last advert from ${r.kill?.node}`])
  if (r.kill) ev.push([r.kill.t, `${r.kill.node} killed (${r.kill.how})`])
  if (r.kill && r.kill.cutAt - r.kill.t >= 1) ev.push([r.kill.cutAt, `${r.kill.node}'s link is down`])
  if (s.firstSynToNewMaster) {
    ev.push([s.firstSynToNewMaster.t, `client sends its first SYN to ${s.takeover?.node}'s MAC (it followed the GARP)`])
  }
  if (s.servedOnWire) {
    ev.push([s.servedOnWire.t, `first SYN-ACK after the kill on the wire, from ${s.servedOnWire.server ?? '?'}`])
  }
  if (s.firstServedAfterKill) {
    const f = s.firstServedAfterKill
    ev.push([f.t, `the client process gets its first answer after the kill (${f.server})`])
  }
  const again = s.long.firstReplyAfterTakeover
  if (again)
    ev.push([
      again.t,
      `long-lived connection answered through the new master (${secs(again.afterKillMs)} after the kill)`,
    ])
  return ev.sort((a, b) => a[0] - b[0])
}

export function formatTimeline(r: DemoResult): string {
  const s = summarize(r)
  const lines: string[] = []
  const where =
    r.where === 'vm' ? `inside the qemu VM (Debian kernel ${r.kernel}, real IPVS)` : `on this host (kernel ${r.kernel})`
  lines.push(`lvsd demo: the seed's LVS-DR pair, ${where}`)
  lines.push(
    r.ipvs
      ? 'IPVS table and sync daemons programmed by lvsd from the configs'
      : 'no IPVS in this kernel (--here): VRRP only, the client gets no answers',
  )
  lines.push('')
  lines.push('Timeline')
  for (const [t, what] of events(r, s)) lines.push(`  ${rel(r, t)}  ${what}`)
  lines.push('')
  lines.push('Summary')
  const el = s.election.filter((t) => t.to === 'MASTER').map((t) => `${t.node} MASTER at ${rel(r, t.t).trim()}`)
  lines.push(`  election:        ${el.join(', ') || 'none'}; ${r.master ?? '?'} master, ${r.backup ?? '?'} backup`)
  lines.push(`  before the kill: answered by ${tally(s.before.answered)}; ${s.before.failed} failed`)
  if (s.takeover) {
    const tk = s.takeover
    const floor =
      s.floorMs === null
        ? ''
        : `; RFC Master_Down_Interval for priority ${nodeNamed(tk.node).priority}: ${secs(s.floorMs)}`
    const fromAdvert =
      tk.afterLastAdvertMs === null ? '' : `, ${secs(tk.afterLastAdvertMs)} after ${r.kill?.node}'s last advert`
    lines.push(`  takeover:        ${tk.node} MASTER ${secs(tk.afterKillMs)} after the kill${fromAdvert}${floor}`)
  } else if (r.kill) lines.push('  takeover:        none seen')
  const g = s.garpsAfterKill
  if (g.length > 0) {
    lines.push(
      `  GARP:            ${g.length} from ${[...new Set(g.map((f) => f.from ?? f.srcMac))].join(', ')} after the kill`,
    )
  }
  if (s.servedOnWire) {
    const seen = s.firstServedAfterKill
    const client = seen ? `; the client process saw one at ${secs(seen.afterKillMs)}` : ''
    lines.push(`  backup served:   ${secs(s.servedOnWire.afterKillMs)} after the kill (SYN-ACK on the wire${client})`)
  }
  if (s.longestGap) {
    const g = s.longestGap
    const client = s.clientGap ? `; the client process: ${secs(s.clientGap.ms)}` : ''
    lines.push(
      `  longest gap:     ${secs(g.ms)} between SYN-ACKs (${rel(r, g.from).trim()} to ${rel(r, g.to).trim()})${client}`,
    )
  }
  const senders = Object.entries(s.synackSenders).sort()
  if (senders.length > 0) {
    const viaDirector = senders.some(([k]) => k.startsWith('lb'))
    const list = senders.map(([k, v]) => `${k} ${v}`).join(', ')
    lines.push(`  direct routing:  SYN-ACKs to the client from ${list}${viaDirector ? ' (a director answered!)' : ''}`)
  }
  lines.push(
    `  after takeover:  SYN-ACKs from ${tally(s.synackSendersAfterCut)}; the client process got answers from ${tally(s.after.answered)}, ${s.after.failed} failed`,
  )
  const l = s.long
  if (l.established !== null) {
    const verdict = l.survived
      ? `survived (${l.repliesAfterTakeover} replies after the takeover, silent at most ${secs(l.longestSilence?.ms ?? 0)})`
      : `broken (${l.failure ?? 'no reply after the takeover'})`
    const synced = l.syncedAfterMs === null ? '' : `, on ${r.backup} ${secs(l.syncedAfterMs)} after opening`
    lines.push(`  long connection: port ${l.port} to ${l.servers.join(' then ') || '?'}${synced}: ${verdict}`)
  }
  const n = r.vipNeighbour
  lines.push(
    `  client's ARP:    ${VIP} at ${n.mac ?? 'none'}${n.node ? ` (${n.node})` : ''} ${n.state ?? ''}`.trimEnd(),
  )
  // lvsctl status where lvsd serves its API (the table as lvsd runs it, with health), else the kernel's
  const shown = Object.keys(r.status).length > 0 ? r.status : r.listings
  const how = shown === r.status ? 'lvsctl status' : 'ipvsadm -Ln'
  for (const [node, text] of Object.entries(shown)) {
    lines.push(
      '',
      `${how} on ${node} while settled:`,
      ...text
        .trimEnd()
        .split('\n')
        .map((x) => `  ${x}`),
    )
  }
  if (r.after) {
    const indent = (text: string) =>
      text
        .trimEnd()
        .split('\n')
        .map((x) => `  ${x}`)
    if (r.after.status)
      lines.push('', `lvsctl status on ${r.after.node} after the takeover:`, ...indent(r.after.status))
    if (r.after.metrics) {
      const picked = r.after.metrics.split('\n').filter((l) => METRICS_SHOWN.test(l) && !/ 0$/.test(l))
      lines.push(
        '',
        `/metrics on ${r.after.node} after the takeover (non-zero series of a few families):`,
        ...indent(picked.join('\n')),
      )
    }
  }
  if (r.failure) {
    for (const [node, log] of Object.entries(r.logs)) {
      lines.push(
        '',
        `last log lines of ${node}:`,
        ...log
          .trimEnd()
          .split('\n')
          .slice(-25)
          .map((x) => `  ${x.slice(0, 300)}`),
      )
    }
    lines.push('', `FAILED: ${r.failure}`)
  }
  return `${lines.join('\n')}\n`
}
