// What the recorded run means: election, takeover, GARP, the client's longest gap, who answered
// before and after, whether the long-lived connection survived. Pure: the result in, figures out.
import type { DemoResult, Frame, Transition } from './events.js'
import { masterDownMs, nodeNamed } from './plan.js'

type Probe = DemoResult['probes'][number]

export interface Gap {
  ms: number
  from: number
  to: number
}

export interface DemoSummary {
  /** VRRP transitions before the kill (the election, preemption included). */
  election: Transition[]
  initialMaster: string | null
  before: { answered: Record<string, number>; failed: number }
  after: { answered: Record<string, number>; failed: number }
  kill: DemoResult['kill']
  /** The frozen node's last advert seen by the client. */
  lastAdvertOfKilled: number | null
  takeover: { node: string; t: number; afterKillMs: number; afterLastAdvertMs: number | null } | null
  /** RFC 5798 Master_Down_Interval of the backup that took over. */
  floorMs: number | null
  garpsAfterKill: Frame[]
  /** The client process's view: the first connection started after the cut that was answered. */
  firstServedAfterKill: { t: number; server: string; afterKillMs: number } | null
  /** On the wire: the client's first SYN to the new master's MAC (it followed the GARP). */
  firstSynToNewMaster: { t: number; afterKillMs: number } | null
  /** On the wire: the first SYN-ACK after the cut, from the real server that sent it. */
  servedOnWire: { t: number; server: string | null; afterKillMs: number } | null
  /** SYN-ACKs on the wire per sender (real servers in DR; a director would mean NAT or a bug). */
  synackSenders: Record<string, number>
  /** The same after lb01's link went down: the real servers lb02 balanced over. */
  synackSendersAfterCut: Record<string, number>
  /** Longest interval between SYN-ACKs on the wire, from settling to the end. */
  longestGap: Gap | null
  /** The same between answers the client process saw (stretched by CPU starvation in the VM). */
  clientGap: Gap | null
  long: {
    port: number | null
    established: number | null
    servers: string[]
    syncedAfterMs: number | null
    survived: boolean
    failure: string | null
    /** Replies after the new master took over: answers that crossed it, not ones already on their way. */
    repliesAfterTakeover: number
    firstReplyAfterTakeover: { t: number; afterKillMs: number } | null
    longestSilence: Gap | null
  }
}

const count = (ps: Probe[]) => {
  const answered: Record<string, number> = {}
  let failed = 0
  for (const p of ps) {
    if (p.server) answered[p.server] = (answered[p.server] ?? 0) + 1
    else failed++
  }
  return { answered, failed }
}

function tallyBy(keys: string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const k of keys) out[k] = (out[k] ?? 0) + 1
  return out
}

/** Longest interval between consecutive times (sorted), or null with fewer than two. */
export function longestGap(times: number[]): Gap | null {
  const ts = [...times].sort((a, b) => a - b)
  let best: Gap | null = null
  for (let i = 1; i < ts.length; i++) {
    const ms = (ts[i] as number) - (ts[i - 1] as number)
    if (!best || ms > best.ms) best = { ms, from: ts[i - 1] as number, to: ts[i] as number }
  }
  return best
}

export function summarize(r: DemoResult): DemoSummary {
  const killT = r.kill?.t ?? Number.POSITIVE_INFINITY
  const done = (p: Probe) => p.t + p.ms
  const election = r.transitions.filter((t) => t.t < killT)
  const initialMaster = r.master
  const takeoverTr = r.kill
    ? (r.transitions.find((t) => t.t >= killT && t.to === 'MASTER' && t.node !== r.kill?.node) ?? null)
    : null
  const lastAdvert = r.kill
    ? (r.frames.filter((f) => f.kind === 'advert' && f.from === r.kill?.node && f.t <= killT + 50).at(-1)?.t ?? null)
    : null
  const takeover = takeoverTr
    ? {
        node: takeoverTr.node,
        t: takeoverTr.t,
        afterKillMs: takeoverTr.t - killT,
        afterLastAdvertMs: lastAdvert === null ? null : takeoverTr.t - lastAdvert,
      }
    : null
  const prio = takeover ? nodeNamed(takeover.node).priority : undefined
  const served = r.probes.filter((p) => p.server !== null)
  // until the link is down lb01's kernel still forwards: count from the cut, not from the freeze
  const cutAt = r.kill?.cutAt ?? killT
  const firstAfter = served.filter((p) => p.t > cutAt).sort((a, b) => done(a) - done(b))[0]
  const synacks = r.frames.filter((f) => f.kind === 'synack')
  const wireServed = synacks.find((f) => f.t > cutAt)
  const synToNew = takeover
    ? r.frames.find((f) => f.kind === 'syn' && f.t > killT && f.to === takeover.node)
    : undefined
  const settled = r.settledAt ?? Number.POSITIVE_INFINITY
  const afterFrom = firstAfter ? firstAfter.t : Number.POSITIVE_INFINITY
  const observed = r.probes.filter((p) => p.t >= settled)
  return {
    election,
    initialMaster,
    before: count(r.probes.filter((p) => p.t >= settled && done(p) < killT)),
    after: count(r.probes.filter((p) => p.t >= afterFrom)),
    kill: r.kill,
    lastAdvertOfKilled: lastAdvert,
    takeover,
    floorMs: prio === undefined ? null : masterDownMs(prio),
    garpsAfterKill: r.frames.filter((f) => f.kind === 'garp' && f.t >= killT),
    firstServedAfterKill: firstAfter
      ? { t: done(firstAfter), server: firstAfter.server as string, afterKillMs: done(firstAfter) - killT }
      : null,
    firstSynToNewMaster: synToNew ? { t: synToNew.t, afterKillMs: synToNew.t - killT } : null,
    servedOnWire: wireServed ? { t: wireServed.t, server: wireServed.from, afterKillMs: wireServed.t - killT } : null,
    synackSenders: tallyBy(synacks.map((f) => f.from ?? f.srcMac)),
    synackSendersAfterCut: tallyBy(synacks.filter((f) => f.t > cutAt).map((f) => f.from ?? f.srcMac)),
    longestGap: longestGap(synacks.filter((f) => f.t >= settled).map((f) => f.t)),
    clientGap: longestGap(observed.filter((p) => p.server !== null).map(done)),
    long: summarizeLong(r, killT, takeover?.t ?? null),
  }
}

function summarizeLong(r: DemoResult, killT: number, takeoverT: number | null): DemoSummary['long'] {
  let port: number | null = null
  let established: number | null = null
  let failure: string | null = null
  const replies: { t: number; server: string }[] = []
  for (const e of r.long) {
    if (e.ev === 'established') {
      port = e.port
      established = e.t
    } else if (e.ev === 'reply') replies.push({ t: e.t, server: e.server })
    else if (e.ev === 'error') failure ??= e.err
    else failure ??= 'closed'
  }
  // in DR a real server answers the client directly: a reply right after the freeze may answer a
  // line lb01 forwarded before it; only replies after the takeover prove the new path
  const after = takeoverT === null ? [] : replies.filter((x) => x.t > takeoverT)
  return {
    port,
    established,
    servers: [...new Set(replies.map((x) => x.server))],
    syncedAfterMs: r.longSyncedAt !== null && established !== null ? r.longSyncedAt - established : null,
    survived: established !== null && failure === null && after.length > 0,
    failure,
    repliesAfterTakeover: after.length,
    firstReplyAfterTakeover: after[0] ? { t: after[0].t, afterKillMs: after[0].t - killT } : null,
    longestSilence: longestGap(replies.filter((x) => r.settledAt === null || x.t >= r.settledAt).map((x) => x.t)),
  }
}
