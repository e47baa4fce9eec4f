// The drill engine: brings a backend's pair up once, then runs each scenario on it in turn. Every
// scenario starts from the settled pair (lb01 MASTER, lb02 BACKUP, both real servers answering, a
// fresh long-lived connection synced to the backup), does its fault, and puts the pair back.
import type { Status } from '../../src/director/types.js'
import { masterDownMs } from '../demo/plan.js'
import type { DrillBackend } from './backend.js'
import { byStart, commonChecks, figures, noFigures, outageIn } from './judge.js'
import type { Check, ClientEvent, DirectorView, FaultKind, Frame, Mark, Probe, ScenarioRun, StepView } from './types.js'
import { sleep, until } from './wait.js'

export const PAIR = ['lb01', 'lb02'] as const
export const PREFERRED = 'lb01'
export const OTHER = 'lb02'
/** The instance the VIP belongs to in conf/lb0*.yaml. */
const INSTANCE = 'web'

export interface StepOptions {
  expectMaster: string | null
  expectOneMaster?: boolean
  /** Directors the scenario cut off the LAN: what they believe is not the LAN's master. */
  isolated?: string[]
  /** Read the client's neighbour entry (only meaningful once traffic flowed after the change). */
  neighbour?: boolean
}

export interface ScenarioContext {
  readonly backend: DrillBackend
  readonly run: ScenarioRun
  fault(kind: FaultKind, node: string): Promise<void>
  restore(kind: FaultKind, node: string): Promise<void>
  /** Waits until `node` reports MASTER (and, unless `others` is false, every other reachable director not). */
  waitMaster(node: string, opts?: { alone?: boolean; isolated?: string[] }): Promise<void>
  /** Waits, bounded by the backend's step timeout, until the condition holds. */
  waitFor(cond: () => Promise<boolean>, what: string): Promise<void>
  /** The client's probes started at or after `t` (client clock). */
  probesSince(t: number): Probe[]
  /** Longest interval without an answered new connection from `t` until now. */
  longestServedGapSince(t: number): number | null
  /** Polls until the condition holds or `ms` pass: whether it held (for checks on what did not happen). */
  within(ms: number, cond: () => boolean | Promise<boolean>): Promise<boolean>
  /** The client's current long-lived connection was reset or closed. */
  longEnded(): boolean
  /** The real server the current long-lived connection talks to (its last reply), or null. */
  longServer(): string | null
  /** Every director's status, waiting (bounded) until each answers: a busy daemon under TCG may be slow. */
  statusesAll(): Promise<Status[]>
  /** A fresh client (a new long-lived connection): resolves with the long connection's local port. */
  restartClient(): Promise<number>
  /** Waits until the client has had `ms` of answered traffic after now (or `ms` passed, without IPVS). */
  traffic(ms: number): Promise<void>
  step(name: string, o: StepOptions): Promise<StepView>
  statuses(): Promise<(Status | null)[]>
  mark(text: string): void
  check(name: string, ok: boolean, detail: string): void
}

export interface Scenario {
  name: string
  title: string
  fault: FaultKind
  /** The bounds the run is judged by on this backend. */
  bounds(b: DrillBackend): ScenarioRun['bounds']
  run(ctx: ScenarioContext): Promise<void>
}

function view(node: string, st: Status | null, isolated: string[]): DirectorView {
  const inst = st?.instances.find((i) => i.name === INSTANCE) ?? st?.instances[0]
  const health: Record<string, string> = {}
  for (const svc of st?.services ?? []) for (const s of svc.servers) health[s.server] = s.health
  return {
    node,
    reachable: st !== null,
    state: inst?.state ?? null,
    isolated: isolated.includes(node),
    health,
    configHash: st?.config.hash ?? null,
  }
}

/** RFC 5798 Skew_Time of a backup of this priority (1 s adverts). */
export function skewMs(priority: number): number {
  return ((256 - priority) * 1000) / 256
}

/** lb02's Master_Down_Interval: what a crash of lb01 costs at least. */
export const TAKEOVER_FLOOR_MS = masterDownMs(100)

export class DrillEngine {
  private readonly client: ClientEvent[] = []
  private readonly frames: Frame[] = []
  private settledOnce = false
  /**
   * Set when a director still did not answer after the recovery from a failed run: every later
   * scenario would only wait out its step timeouts on it (a guest that never came back from a reboot
   * cost CI 20 minutes that way), so they are reported as not run, with this reason.
   */
  stuck: string | undefined

  constructor(
    private readonly b: DrillBackend,
    private readonly say: (line: string) => void,
    /** Waits out time with no traffic to watch (without IPVS); a unit test passes one that does not. */
    private readonly pause: (ms: number) => Promise<void> = sleep,
  ) {}

  readonly sink = {
    onClient: (e: ClientEvent) => this.client.push(e),
    onFrame: (f: Frame) => {
      this.frames.push(f)
      for (const w of this.frameWaiters) w(f)
    },
  }

  private readonly frameWaiters = new Set<(f: Frame) => void>()

  /** The next advert `node` sends with a priority above 0, as the client's capture stamps it. */
  private nextAdvert(node: string, timeoutMs: number): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.frameWaiters.delete(w)
        reject(new Error(`the client saw no advert from ${node} within ${timeoutMs} ms`))
      }, timeoutMs)
      const w = (f: Frame) => {
        if (f.kind !== 'advert' || f.from !== node || !f.priority) return
        clearTimeout(timer)
        this.frameWaiters.delete(w)
        resolve(f)
      }
      this.frameWaiters.add(w)
    })
  }

  private statuses(): Promise<(Status | null)[]> {
    return Promise.all(PAIR.map((n) => this.b.status(n)))
  }

  private stateOf(sts: (Status | null)[], node: string): string | null {
    const i = PAIR.indexOf(node as (typeof PAIR)[number])
    return view(node, sts[i] ?? null, []).state
  }

  /** The pair as every scenario starts: lb01 MASTER, lb02 BACKUP, traffic answered, long connection synced. */
  private async settle(run: ScenarioRun): Promise<void> {
    const b = this.b
    const t = b.stepTimeoutMs
    await until(`${PREFERRED} MASTER and ${OTHER} BACKUP`, t, async () => {
      const sts = await this.statuses()
      return this.stateOf(sts, PREFERRED) === 'MASTER' && this.stateOf(sts, OTHER) === 'BACKUP'
    })
    // without IPVS nothing answers on the VIP: a client would only count refusals
    if (!b.ipvs) return
    const from = b.clientNow()
    await b.startClient()
    const served = () =>
      new Set(this.client.flatMap((e) => (e.k === 'probe' && e.t >= from && e.server ? [e.server] : [])))
    await until('both real servers to answer through the VIP', t, () => served().size >= 2)
    const long = () => this.client.find((e) => e.k === 'long' && e.ev === 'established' && e.t >= from)
    await until('the long-lived connection', t, () => long() !== undefined)
    const port = (long() as { port: number }).port
    if (b.syncRuns) {
      await until(`${OTHER} to list the long connection (sync daemon)`, t, () => b.listsConnection(OTHER, port), 250)
      run.longSynced = true
    }
  }

  async runScenario(sc: Scenario, cycle: number): Promise<ScenarioRun> {
    const b = this.b
    const run: ScenarioRun = {
      scenario: sc.name,
      title: sc.title,
      cycle,
      backend: b.name,
      startedAt: b.clientNow(),
      endedAt: 0,
      fault: null,
      restore: null,
      bounds: sc.bounds(b),
      marks: [],
      steps: [],
      probes: [],
      long: [],
      frames: [],
      longSynced: false,
      clockErrorMs: b.clockErrorMs,
      figures: noFigures(),
      checks: [],
      ok: false,
      error: null,
    }
    const say = (m: string) => this.say(`[${sc.name}${cycle > 1 ? ` #${cycle}` : ''}] ${m}`)
    const mark = (text: string) => {
      run.marks.push({ t: b.clientNow(), text })
      say(text)
    }
    const extra: Check[] = []
    const ctx: ScenarioContext = {
      backend: b,
      run,
      fault: async (kind, node) => {
        // A partition is timed from the old master's last advert its peer heard. Cut right after one
        // and the next is an advert interval away, past the cut. Cut at an arbitrary instant, an
        // advert sent while the filter went in counted as heard though the peer never got it (a CI
        // run read a 2.6 s takeover for a 3.6 s Master_Down_Interval).
        const after = kind === 'partition' ? (await this.nextAdvert(node, b.stepTimeoutMs)).t : undefined
        const t = b.clientNow()
        const done = await b.fault(kind, node)
        const how = typeof done === 'string' ? done : done.how
        const doneAt = typeof done === 'string' ? b.clientNow() : done.inPlaceAt
        run.fault = { t, doneAt, ...(after === undefined ? {} : { afterAdvert: after }), node, kind, how }
        run.marks.push({ t, text: `${node}: ${how}` })
        say(`${node}: ${how}`)
      },
      restore: async (kind, node) => {
        const t = b.clientNow()
        const how = await b.restore(kind, node)
        run.restore = { t, how }
        run.marks.push({ t, text: `${node}: ${how}` })
        say(`${node}: ${how}`)
      },
      waitMaster: async (node, opts = {}) => {
        const alone = opts.alone ?? true
        const iso = opts.isolated ?? []
        await until(
          `${node} MASTER${alone ? ' alone' : ''}`,
          b.stepTimeoutMs,
          async () => {
            const sts = await this.statuses()
            if (this.stateOf(sts, node) !== 'MASTER') return false
            if (!alone) return true
            return PAIR.every((n) => n === node || iso.includes(n) || this.stateOf(sts, n) !== 'MASTER')
          },
          100,
        )
        mark(`lvsctl status: ${node} MASTER`)
      },
      traffic: async (ms) => {
        const from = b.clientNow()
        if (!b.ipvs) return this.pause(ms) // nothing to wait on but the clock: no traffic here
        await until(`${ms} ms of answered traffic`, b.stepTimeoutMs, () =>
          this.client.some((e) => e.k === 'probe' && e.server !== null && e.t >= from + ms),
        )
      },
      step: async (name, o) => {
        const iso = o.isolated ?? []
        const sts = await this.statuses()
        const directors = PAIR.map((n, i) => view(n, sts[i] ?? null, iso))
        const s: StepView = {
          name,
          t: b.clientNow(),
          directors,
          masters: directors.filter((d) => d.reachable && !d.isolated && d.state === 'MASTER').map((d) => d.node),
          expectOneMaster: o.expectOneMaster ?? true,
          expectMaster: o.expectMaster,
          vipNeighbour: b.ipvs && o.neighbour !== false ? await b.vipNeighbour() : null,
        }
        if (!b.ipvs || o.neighbour === false) delete (s as Partial<StepView>).vipNeighbour
        run.steps.push(s)
        say(`step "${name}": ${directors.map((d) => `${d.node} ${d.reachable ? d.state : 'unreachable'}`).join(', ')}`)
        return s
      },
      statuses: () => this.statuses(),
      within: async (ms, cond) => {
        const end = Date.now() + ms
        for (;;) {
          if (await cond()) return true
          if (Date.now() > end) return false
          await sleep(100)
        }
      },
      longEnded: () => {
        const est = this.client.filter((e) => e.k === 'long' && e.ev === 'established').at(-1)
        return this.client.some(
          (e) => e.k === 'long' && (e.ev === 'error' || e.ev === 'closed') && e.t >= (est?.t ?? 0),
        )
      },
      longServer: () => {
        const est = this.client.filter((e) => e.k === 'long' && e.ev === 'established').at(-1)
        const reply = this.client.filter((e) => e.k === 'long' && e.ev === 'reply' && e.t >= (est?.t ?? 0)).at(-1)
        return reply && reply.k === 'long' && reply.ev === 'reply' ? reply.server : null
      },
      statusesAll: async () => {
        let sts: (Status | null)[] = []
        await until('every director to answer lvsctl status', b.stepTimeoutMs, async () => {
          sts = await this.statuses()
          return sts.every((x) => x !== null)
        })
        return sts as Status[]
      },
      restartClient: async () => {
        await b.stopClient()
        const from = b.clientNow()
        await b.startClient()
        const long = () => this.client.find((e) => e.k === 'long' && e.ev === 'established' && e.t >= from)
        await until('a new long-lived connection', b.stepTimeoutMs, () => long() !== undefined)
        return (long() as { port: number }).port
      },
      waitFor: (cond, what) => until(what, b.stepTimeoutMs, cond, 250),
      probesSince: (t) => byStart(this.client.filter((e): e is Probe => e.k === 'probe' && e.t >= t)),
      longestServedGapSince: (t) => {
        // up to the last probe reported: those still in flight have not been answered or failed yet
        const ps = ctx.probesSince(t)
        return ps.length ? outageIn(ps, t, (ps.at(-1) as Probe).t + 1) : null
      },
      mark,
      check: (name, ok, detail) => extra.push({ name, ok, detail }),
    }
    try {
      await this.settle(run)
      if (!this.settledOnce) say('settled: lb01 MASTER, lb02 BACKUP')
      this.settledOnce = true
      run.startedAt = b.clientNow()
      mark(`settled: ${PREFERRED} MASTER, ${OTHER} BACKUP${b.ipvs ? ', traffic answered' : ''}`)
      // a fault at a random phase of the advert cycle, as a real one would be
      await ctx.traffic(1000 + Math.random() * 1000)
      await sc.run(ctx)
    } catch (e) {
      run.error = e instanceof Error ? e.message : String(e)
      say(`stopped short: ${run.error}`)
    }
    run.endedAt = b.clientNow()
    await b.stopClient()
    const inRun = (t: number) => t >= run.startedAt && t <= run.endedAt
    run.probes = this.client.filter((e): e is Probe => e.k === 'probe' && inRun(e.t))
    run.long = this.client.filter((e) => e.k === 'long' && inRun(e.t)) as ScenarioRun['long']
    run.frames = this.frames.filter((f) => inRun(f.t))
    this.client.length = 0
    this.frames.splice(0, this.frames.findIndex((f) => f.t > run.endedAt) >>> 0)
    run.figures = figures(run, b.ipvs, b.probeIntervalMs)
    run.checks = [...commonChecks(run, b.ipvs, b.syncRuns), ...extra]
    run.ok = run.error === null && run.checks.every((c) => c.ok)
    say(
      run.ok
        ? 'passed'
        : `FAILED: ${
            run.error ??
            run.checks
              .filter((c) => !c.ok)
              .map((c) => c.name)
              .join('; ')
          }`,
    )
    if (run.error) {
      await this.recover(say)
      const silent = await this.silentAfterRecovery()
      if (silent.length) {
        this.stuck = `${silent.join(' and ')} did not answer after the recovery from ${sc.name}${cycle > 1 ? ` #${cycle}` : ''}`
        say(`${this.stuck}: the remaining scenarios are not run`)
      }
    }
    return run
  }

  /** Every scenario `repeat` times; once the pair is stuck, the rest are reported as not run. */
  async runAll(
    scenarios: readonly Scenario[],
    repeat: number,
    onRun: (r: ScenarioRun) => void,
  ): Promise<{ runs: ScenarioRun[]; notRun: { scenario: string; why: string }[] }> {
    const runs: ScenarioRun[] = []
    const notRun: { scenario: string; why: string }[] = []
    for (let cycle = 1; cycle <= repeat; cycle++) {
      for (const sc of scenarios) {
        if (this.stuck) {
          notRun.push({ scenario: cycle > 1 ? `${sc.name} #${cycle}` : sc.name, why: this.stuck })
          continue
        }
        const r = await this.runScenario(sc, cycle)
        runs.push(r)
        onRun(r)
      }
    }
    return { runs, notRun }
  }

  /** The directors that still do not answer their API once the step timeout has passed. */
  private async silentAfterRecovery(): Promise<string[]> {
    let sts: (Status | null)[] = []
    try {
      await until(
        'both directors to answer after the recovery',
        this.b.stepTimeoutMs,
        async () => {
          sts = await this.statuses()
          return sts.every((st) => st !== null)
        },
        this.b.pollMs,
      )
      return []
    } catch {
      return PAIR.filter((_, i) => !sts[i])
    }
  }

  /** After a run that stopped short: undo every fault the backend knows, so the next run starts clean. */
  async recover(say: (m: string) => void): Promise<void> {
    const undo: [FaultKind, readonly string[]][] = [
      ['partition', PAIR],
      ['sync-block', PAIR],
      ['link', PAIR],
      ['crash', PAIR],
      ['stop', PAIR],
      ['rs-death', ['web01', 'web02']],
    ]
    for (const [kind, nodes] of undo) {
      if (this.b.can(kind) !== true) continue
      for (const n of nodes) await this.b.restore(kind, n).catch(() => undefined)
    }
    say('recovery: filters removed, links up, daemons thawed or started again')
  }
}

export type { Mark }
