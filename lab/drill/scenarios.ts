// The drill's scenarios. Each starts from the settled pair (lb01 MASTER, lb02 BACKUP, traffic
// answered, a long connection synced), inflicts one fault on it, watches the pair through it, and
// puts it back; the bounds say what a client may see, derived from the RFC 5798 timers of
// conf/lb0*.yaml (1 s adverts, lb01 priority 150, lb02 100) plus the backend's stated margin.
import type { DrillBackend } from './backend.js'
import { OTHER, PREFERRED, type Scenario, type ScenarioContext, skewMs, TAKEOVER_FLOOR_MS } from './engine.js'

const ADVERT_MS = 1000
/** conf/lb0*.yaml's HTTP check: interval 2 s, timeout 1 s, fall 3, rise 2. */
const CHECK = { intervalMs: 2000, timeoutMs: 1000, fall: 3, rise: 2 }
const round = (ms: number) => Math.ceil(ms)

/** A lost master (crash, link, hard reset): the backup waits Master_Down_Interval. */
const afterSilence = (b: DrillBackend) => ({
  outageMs: round(TAKEOVER_FLOOR_MS + b.margin.ms),
  returnOutageMs: round(ADVERT_MS + b.margin.ms),
  why: `Master_Down_Interval ${round(TAKEOVER_FLOOR_MS)} ms + ${b.margin.why.replace(/^Master_Down_Interval \+ /, '')}`,
})

/** A master that says goodbye (priority 0): the backup waits only Skew_Time. */
const afterGoodbye = (b: DrillBackend) => ({
  outageMs: round(skewMs(100) + b.margin.ms),
  returnOutageMs: round(ADVERT_MS + b.margin.ms),
  goodbyeTakeoverMs: round(skewMs(100) + b.margin.ms),
  why: `Skew_Time ${round(skewMs(100))} ms (priority-0 advert) + margin ${b.margin.ms} ms`,
})

/**
 * A rebooting master says goodbye too, but only when systemd reaches lvsd, and its machine serves
 * worse while it shuts down (under TCG the client got no answer for 1.5 s before the goodbye): the
 * takeover after the goodbye is held to Skew_Time, the client's outage to what a crash may cost.
 */
const afterReboot = (b: DrillBackend) => ({
  ...afterSilence(b),
  goodbyeTakeoverMs: round(skewMs(100) + b.margin.ms),
  why: `as a crash (Master_Down_Interval ${round(TAKEOVER_FLOOR_MS)} ms + margin ${b.margin.ms} ms): the machine shuts down around lvsd; the goodbye's takeover as a clean stop's`,
})

/** Fault lb01, wait for lb02 alone, look; restore, wait for lb01 to preempt, look. */
async function takeoverAndReturn(ctx: ScenarioContext, kind: Scenario['fault'], cutOff: boolean): Promise<void> {
  const iso = cutOff ? [PREFERRED] : []
  await ctx.fault(kind, PREFERRED)
  await ctx.waitMaster(OTHER, { isolated: iso })
  await ctx.traffic(2000)
  await ctx.step(`${PREFERRED} ${kind}`, { expectMaster: OTHER, isolated: iso })
  await ctx.restore(kind, PREFERRED)
  await ctx.waitMaster(PREFERRED)
  await ctx.traffic(2000)
  await ctx.step(`${PREFERRED} back`, { expectMaster: PREFERRED })
}

const WEB02 = /(address: 10\.0\.0\.8, port: 80, weight: )1\b/

/** web02's weight 1 → 2; a VRRP-only config (no IPVS here) gets a comment, so the file still changes. */
function goodEdit(text: string): string {
  return WEB02.test(text) ? text.replace(WEB02, '$12') : `${text}# edited by lvsd drill (reload scenario)\n`
}

const CORE: Scenario[] = [
  {
    name: 'crash',
    title: 'master crash: lb01 frozen and cut off, lb02 takes over, lb01 returns and preempts',
    fault: 'crash',
    bounds: afterSilence,
    run: (ctx) => takeoverAndReturn(ctx, 'crash', true),
  },
  {
    name: 'link-down',
    title: "master link down: lb01's LAN link cut, lb02 takes over, the link returns and lb01 preempts",
    fault: 'link',
    bounds: afterSilence,
    run: (ctx) => takeoverAndReturn(ctx, 'link', true),
  },
  {
    name: 'clean-stop',
    title: 'clean stop: lvsd on lb01 stopped (priority-0 advert), lb02 takes over at once, lb01 started again',
    fault: 'stop',
    bounds: afterGoodbye,
    run: (ctx) => takeoverAndReturn(ctx, 'stop', false),
  },
  {
    name: 'reboot',
    title: 'master reboot: lb01 restarted, lb02 takes over, lb01 boots, starts lvsd and preempts',
    fault: 'reboot',
    bounds: afterReboot,
    run: (ctx) => takeoverAndReturn(ctx, 'reboot', false),
  },
  {
    name: 'partition',
    title: 'partition: VRRP between the directors dropped (two masters, expected), then healed (one again)',
    fault: 'partition',
    bounds: (b) => ({
      outageMs: round(TAKEOVER_FLOOR_MS + b.margin.ms),
      returnOutageMs: round(ADVERT_MS + b.margin.ms),
      why: `lb02 claims the VIP after Master_Down_Interval ${round(TAKEOVER_FLOOR_MS)} ms; margin ${b.margin.ms} ms`,
    }),
    run: async (ctx) => {
      await ctx.fault('partition', PREFERRED)
      await ctx.waitMaster(OTHER, { alone: false })
      await ctx.traffic(2000)
      const split = await ctx.step('partitioned', { expectMaster: null, expectOneMaster: false, neighbour: false })
      ctx.check(
        'both directors master while partitioned (VRRP cannot do otherwise)',
        split.masters.length === 2,
        `masters: ${split.masters.join(', ') || 'none'}`,
      )
      await ctx.restore('partition', PREFERRED)
      await ctx.waitMaster(PREFERRED)
      await ctx.traffic(2000)
      await ctx.step('healed', { expectMaster: PREFERRED })
    },
  },
  {
    name: 'realserver-death',
    title: "real server death: web01's service killed, lvsd takes it out of the table, it returns",
    fault: 'rs-death',
    bounds: () => ({
      outageMs: null,
      returnOutageMs: null,
      why: 'web02 keeps answering: no outage, only web01 connections refused until its checks fail',
      failuresExpected: 'connections scheduled to web01 fail until lvsd takes it out',
      longLossExpected: 'a connection to the dead server dies with it: judged by the scenario',
    }),
    run: async (ctx) => {
      const b = ctx.backend
      const longOn = ctx.longServer()
      const downBound = CHECK.fall * CHECK.intervalMs + CHECK.timeoutMs + b.margin.ms
      const upBound = (CHECK.rise + 1) * CHECK.intervalMs + b.margin.ms
      const healthOf = async (state: string) => {
        const sts = await ctx.statusesAll()
        return sts.every((st) => st.services[0]?.servers.find((s) => s.server === '10.0.0.7:80')?.health === state)
      }
      // timed on the client's clock, from its own connections: status polls over ssh lag seconds
      const t0 = b.clientNow()
      await ctx.fault('rs-death', 'web01')
      await ctx.waitFor(async () => healthOf('down'), 'web01 down on both directors')
      await ctx.traffic(3000)
      const sinceKill = ctx.probesSince(t0) // in start order
      const refused = sinceKill.filter((p) => p.server === null)
      const lastRefused = refused.at(-1)
      // Timed from web01's last answer, not from the kill command: stopping a unit over ssh in a TCG
      // guest took 1.0-2.9 s (session 8), time in which lvsd's checks could only see web01 alive.
      // The last connection web01 answered started before its death, so this never flatters lvsd.
      const firstRefused = refused[0]
      const lastAnswered = firstRefused
        ? sinceKill.filter((p) => p.server === 'web01' && p.t < firstRefused.t).at(-1)
        : undefined
      const diedBy = lastAnswered?.t ?? t0
      const outMs = lastRefused ? lastRefused.t - diedBy : 0
      ctx.check(
        `connections to web01 failed for at most fall × interval + timeout + margin (${downBound} ms) after it last answered`,
        outMs <= downBound,
        `${refused.length} failed, the last one ${outMs} ms after web01 last answered (${diedBy - t0} ms after the kill command began)`,
      )
      const outAt = lastRefused ? lastRefused.t + 1 : t0
      const lost = ctx.longEnded()
      ctx.check(
        'the long connection died only if it was on web01',
        lost === (longOn === 'web01'),
        `it was on ${longOn ?? 'no server'}; ${lost ? 'lost' : 'alive'}`,
      )
      const failedAfter = ctx.probesSince(outAt).filter((p) => p.server === null).length
      ctx.check('no request failed once web01 was out of the table', failedAfter === 0, `${failedAfter} failed`)
      await ctx.step('web01 dead', { expectMaster: PREFERRED, neighbour: false })
      // from when web01 listens again (its restart, slow in a TCG guest, is not lvsd's time)
      await ctx.restore('rs-death', 'web01')
      const t1 = b.clientNow()
      await ctx.waitFor(async () => healthOf('up'), 'web01 up on both directors')
      await ctx.traffic(2000)
      const firstBack = ctx.probesSince(t1).find((p) => p.server === 'web01')
      const upMs = firstBack ? firstBack.t - t1 : null
      ctx.check(
        `web01 answers again within (rise + 1) × interval + margin (${upBound} ms)`,
        upMs !== null && upMs <= upBound,
        upMs === null ? 'not yet' : `${upMs} ms after it listened again`,
      )
      await ctx.step('web01 back', { expectMaster: PREFERRED, neighbour: false })
    },
  },
  {
    name: 'reload',
    title: "reload under traffic: a good file (web02's weight 1 → 2) applied, a bad one refused, the first restored",
    fault: 'reload',
    bounds: (b) => ({
      outageMs: null,
      returnOutageMs: null,
      why: `a reload changes no mastership: no gap longer than the margin (${b.margin.ms} ms)${b.busyForwarding ? ` + ${b.busyForwarding.ms} ms (${b.busyForwarding.why})` : ''}`,
    }),
    run: async (ctx) => {
      const b = ctx.backend
      const nodes = [PREFERRED, OTHER]
      const original = await Promise.all(nodes.map((n) => b.readConfig(n)))
      const before = await ctx.statusesAll()
      const t0 = b.clientNow()
      ctx.run.fault = { t: t0, node: PREFERRED, kind: 'reload', how: 'lvsctl reload on both directors' }
      // good: the same edit on both, so the pair's configs stay alike
      for (const [i, n] of nodes.entries()) {
        const good = goodEdit(original[i] as string)
        const r = await b.reload(n, good)
        ctx.mark(`${n}: good file reloaded: ${r.ok ? 'applied' : `refused: ${r.output}`}`)
        ctx.check(`good reload applied on ${n}`, r.ok, r.output.slice(0, 200))
      }
      if (b.ipvs) {
        const sts = await ctx.statusesAll()
        const w = sts.map((st) => st.services[0]?.servers.find((s) => s.server === '10.0.0.8:80')?.weight.configured)
        ctx.check(
          "web02's weight is 2 on both directors",
          w.every((x) => x === 2),
          `weights ${w.join(', ')}`,
        )
      }
      await ctx.traffic(1500)
      const mid = await ctx.statusesAll()
      // bad: a typo an operator makes (a number as a word); it must be refused whole, nothing changed
      for (const [i, n] of nodes.entries()) {
        const bad = (original[i] as string).replace(/\bvrid: 51\b/, 'vrid: fifty-one')
        const r = await b.reload(n, bad)
        ctx.mark(`${n}: bad file reloaded: ${r.ok ? 'APPLIED' : 'refused'}`)
        ctx.check(
          `bad reload refused on ${n} with file:line:col`,
          !r.ok && /\.yaml:\d+:\d+/.test(r.output),
          (r.output.split('\n').find((l) => /\.yaml:\d+:\d+/.test(l)) ?? r.output.split('\n')[0] ?? '').slice(0, 200),
        )
      }
      const after = await ctx.statusesAll()
      ctx.check(
        'the running config kept after the refused file',
        after.every((st, i) => st.config.hash === mid[i]?.config.hash),
        after.map((st) => st.config.hash.slice(0, 12)).join(', '),
      )
      for (const [i, n] of nodes.entries()) await b.reload(n, original[i] as string)
      ctx.mark('original files reloaded')
      await ctx.traffic(1500)
      const trans = (await ctx.statusesAll()).map((st, i) => {
        const a = st.instances[0]?.counters?.transitions
        const z = before[i]?.instances[0]?.counters?.transitions
        return a !== undefined && z !== undefined ? a - z : null
      })
      ctx.check(
        'no VRRP transition during the reloads',
        trans.every((x) => x === 0),
        `transitions ${trans.join(', ')}`,
      )
      if (b.ipvs) {
        const gap = ctx.longestServedGapSince(t0)
        const gapBound = b.margin.ms + (b.busyForwarding?.ms ?? 0)
        ctx.check(`no gap in answers over ${gapBound} ms`, gap !== null && gap <= gapBound, `${gap} ms`)
        const failed = ctx.probesSince(t0).filter((p) => p.server === null).length
        ctx.check('no request failed during the reloads', failed === 0, `${failed} failed`)
      }
      await ctx.step('reloaded', { expectMaster: PREFERRED })
    },
  },
]

/** The newer long connection (opened while sync was blocked) must not be on the backup: the block works. */
const SYNC_SETTLE_MS = 5000

const PAIR_LIFECYCLE: Scenario[] = [
  {
    name: 'upgrade',
    title: 'package upgrade under traffic: lb02 (backup) first, then lb01 (master: hands over, returns, preempts)',
    fault: 'upgrade',
    bounds: afterGoodbye,
    run: async (ctx) => {
      const b = ctx.backend
      const t0 = b.clientNow()
      ctx.mark(`${OTHER}: ${await b.fault('upgrade', OTHER)}`)
      await ctx.waitFor(
        async () => (await ctx.statuses())[1]?.instances[0]?.state === 'BACKUP',
        `${OTHER} back as BACKUP`,
      )
      await ctx.traffic(2000)
      const failed = ctx.probesSince(t0).filter((p) => p.server === null).length
      ctx.check(`no request failed while ${OTHER} (the backup) was upgraded`, failed === 0, `${failed} failed`)
      await ctx.step(`${OTHER} upgraded`, { expectMaster: PREFERRED })
      await ctx.fault('upgrade', PREFERRED)
      await ctx.waitFor(async () => {
        const sts = await ctx.statuses()
        return sts[0]?.instances[0]?.state === 'MASTER' && sts[1]?.instances[0]?.state === 'BACKUP'
      }, `${PREFERRED} MASTER again after its upgrade`)
      ctx.mark(`${PREFERRED} MASTER`)
      await ctx.traffic(2000)
      await ctx.step('both upgraded', { expectMaster: PREFERRED })
      const versions = (await ctx.statusesAll()).map((st) => st.version)
      ctx.mark(`lvsd versions now: ${versions.join(', ')}`)
    },
  },
  {
    name: 'sync-blocked',
    title: 'sync traffic blocked: a connection opened meanwhile is not on the backup, and a crash then loses it',
    fault: 'sync-block',
    bounds: (b) => ({
      ...afterSilence(b),
      longLossExpected: 'the long connection was opened while sync was blocked: the backup never learnt it',
    }),
    run: async (ctx) => {
      const b = ctx.backend
      ctx.mark(`${PREFERRED}: ${await b.fault('sync-block', PREFERRED)}`)
      const port = await ctx.restartClient()
      ctx.mark(`a new long-lived connection from port ${port}`)
      await ctx.traffic(SYNC_SETTLE_MS)
      const listed = await b.listsConnection(OTHER, port)
      ctx.check(
        `the connection opened while sync was blocked is not on ${OTHER}`,
        !listed,
        listed ? 'listed' : 'absent',
      )
      await ctx.fault('crash', PREFERRED)
      await ctx.waitMaster(OTHER, { isolated: [PREFERRED] })
      await ctx.traffic(2000)
      // its next segment reaches lb02, which has no IPVS entry for it: a reset, not a stall
      const ended = await ctx.within(30_000, () => ctx.longEnded())
      ctx.check(
        'the unsynced connection was lost at the takeover (what the sync daemon prevents)',
        ended,
        ended ? 'reset after the takeover' : 'still open 30 s after the takeover',
      )
      await ctx.step(`${PREFERRED} crash`, { expectMaster: OTHER, isolated: [PREFERRED] })
      await ctx.restore('crash', PREFERRED)
      ctx.mark(`${PREFERRED}: ${await b.restore('sync-block', PREFERRED)}`)
      await ctx.waitMaster(PREFERRED)
      await ctx.traffic(2000)
      await ctx.step(`${PREFERRED} back`, { expectMaster: PREFERRED })
    },
  },
]

export const SCENARIOS: Scenario[] = [...CORE, ...PAIR_LIFECYCLE]

export function scenarioNamed(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name)
}
