// The director's VRRP half: the worker (src/vrrp/main/runtime.ts), the tracked scripts and files that feed it,
// the notify programs, and what the main thread knows of each instance (state, last transition, an
// operator's release). A reload hands the worker the new instances (VrrpRuntime.update keeps unchanged
// ones untouched) and keeps a release on instances that still exist.
import type { Config } from '../config/types.js'
import { LvsdError, toWireError } from '../errors.js'
import type { VrrpState } from '../events.js'
import type { Logger } from '../log.js'
import type { ProgramResult } from '../sys/program.js'
import { Notifier } from '../vrrp/main/notify.js'
import { type TransitionEvent, VrrpRuntime, type WorkerPort } from '../vrrp/main/runtime.js'
import { Tracker } from '../vrrp/main/track.js'
import type { Counters } from '../vrrp/messages.js'
import { stableJson } from './config-changes.js'
import { idsFor, NO_PROGRAM_USERS, type ProgramUsers } from './program-users.js'
import type { InstanceStatus } from './types.js'
import { notifySpecs, runtimeInstance, trackInputs } from './vrrp-instances.js'

export interface InstanceRecord {
  state: VrrpState
  priority: number
  released: boolean
  lastTransition?: InstanceStatus['lastTransition']
}

export interface VrrpSideHooks {
  /** Every transition, after the record and the notify programs have it. */
  onTransition(t: TransitionEvent): void
  /** The worker died while the daemon was not stopping. */
  onFatal(reason: string): void
  /** A received packet was dropped (at most once per reason and source every 10 s), or an advert went out late. */
  onDrop(instance: string, reason: string, from?: string): void
  onLate(instance: string, lateMs: number): void
  /** A tracked object (or a release) changed an instance's effective priority. */
  onPriority(m: { instance: string; configured: number; effective: number; source: string }): void
  /** A notify program failed, or a track script could not be started. */
  onProgramFailed(role: 'notify' | 'track', owner: string, argv: readonly string[], r: ProgramResult): void
}

/** The tracker's source for an operator's release: FAULT steps down with priority 0 and stays down. */
const RELEASE_SOURCE = 'operator-release'

const groupsOf = (c: Config) => c.vrrp.sync_groups.map((g) => ({ name: g.name, members: g.members }))
const priorityOf = (i: Config['vrrp']['instances'][number]) => (i.address_owner ? 255 : i.priority)

export class VrrpSide {
  readonly records = new Map<string, InstanceRecord>()
  private runtime: VrrpRuntime | undefined
  /** preempt_on_quorum holds as last sent to the worker (a new worker starts with none). */
  private readonly preemptHeld = new Map<string, boolean>()
  private tracker: Tracker | undefined
  private trackKey = ''
  private notifier: Notifier
  private users: ProgramUsers = NO_PROGRAM_USERS
  private stopping = false

  constructor(
    private readonly log: Logger,
    private readonly hooks: VrrpSideHooks,
    c: Config,
    /** for tests: an in-process worker instead of the thread */
    private readonly worker?: () => WorkerPort,
  ) {
    this.notifier = this.newNotifier(c)
  }

  private newNotifier(c: Config): Notifier {
    return new Notifier(
      notifySpecs(c),
      (level, msg, fields) => this.log[level](fields, msg),
      undefined,
      (owner, argv, r) => this.hooks.onProgramFailed('notify', owner, argv, r),
      idsFor(this.users, undefined),
    )
  }

  /** Starts the worker; resolves once it runs its instances (or has failed: onFatal says so). */
  start(c: Config, users: ProgramUsers = this.users): Promise<void> {
    this.users = users
    this.notifier = this.newNotifier(c)
    if (c.vrrp.instances.length === 0) return Promise.resolve()
    const runtime = new VrrpRuntime(c.vrrp.instances.map(runtimeInstance), {
      rtPriority: c.vrrp.rt_priority,
      syncGroups: groupsOf(c),
      ...(this.worker ? { worker: this.worker } : {}),
    })
    this.runtime = runtime
    this.preemptHeld.clear()
    for (const i of c.vrrp.instances)
      this.records.set(i.name, { state: 'INIT', priority: priorityOf(i), released: false })
    runtime.on('ready', (m) => {
      if (m.realtime.ok)
        this.log.info({ tid: m.realtime.tid, rtPriority: m.realtime.priority }, 'VRRP worker runs SCHED_RR')
      else if (c.vrrp.rt_priority > 0)
        this.log.warn(
          { tid: m.realtime.tid, reason: m.realtime.reason },
          'VRRP worker runs without real-time scheduling',
        )
      else this.log.info({ tid: m.realtime.tid }, 'VRRP worker runs')
    })
    runtime.on('transition', (t) => {
      const rec = this.records.get(t.instance)
      if (rec) {
        rec.state = t.to
        rec.lastTransition = { from: t.from, to: t.to, why: t.why, at: t.at }
      }
      this.notifier.transition(t.instance, t.to, t.priority)
      this.hooks.onTransition(t)
    })
    runtime.on('log', (m) => this.log[m.level](m.fields, m.msg))
    runtime.on('drop', (m) => this.hooks.onDrop(m.instance, m.reason, m.from))
    runtime.on('late', (m) => this.hooks.onLate(m.instance, m.lateMs))
    runtime.on('priority', ({ type: _type, ...m }) => this.hooks.onPriority(m))
    runtime.on('error', (e) => {
      const { code, details } = toWireError(e)
      this.log.error({ code, err: e.message, details }, 'VRRP worker failed')
      this.hooks.onFatal('VRRP worker failed')
    })
    runtime.on('exit', (code) => {
      if (this.stopping) return
      this.log.error({ code }, 'VRRP worker exited unexpectedly')
      this.hooks.onFatal('VRRP worker exited')
    })
    this.restartTracker(c)
    return new Promise((resolve) => {
      runtime.once('ready', () => resolve())
      runtime.once('exit', () => resolve())
    })
  }

  /** A new tracker only when the tracked scripts/files changed: a fresh one would re-learn every state. */
  private restartTracker(c: Config): void {
    const inputs = trackInputs(c, this.users)
    const key = stableJson(inputs)
    if (key === this.trackKey && this.tracker) return
    this.tracker?.stop()
    this.trackKey = key
    const runtime = this.runtime
    if (!runtime) return
    this.tracker = new Tracker(
      inputs.scripts,
      inputs.scriptUses,
      inputs.fileUses,
      runtime,
      (level, msg, fields) => this.log[level](fields, msg),
      (script, argv, r) => this.hooks.onProgramFailed('track', script, argv, r),
    )
    this.tracker.start()
  }

  async reload(before: Config, after: Config, users: ProgramUsers = this.users): Promise<void> {
    this.users = users
    this.notifier = this.newNotifier(after)
    const same =
      stableJson(before.vrrp.instances) === stableJson(after.vrrp.instances) &&
      stableJson(before.vrrp.sync_groups) === stableJson(after.vrrp.sync_groups) &&
      before.vrrp.rt_priority === after.vrrp.rt_priority
    if (!same) {
      const runtime = this.runtime
      if (!runtime) await this.start(after)
      else {
        const report = await runtime.update(after.vrrp.instances.map(runtimeInstance), groupsOf(after))
        for (const name of report.removed) this.records.delete(name)
        for (const i of after.vrrp.instances) {
          const rec = this.records.get(i.name)
          if (rec) rec.priority = priorityOf(i)
          else this.records.set(i.name, { state: 'INIT', priority: priorityOf(i), released: false })
          // a restarted instance starts without the release: give it again
          if (rec?.released) runtime.setFault(i.name, RELEASE_SOURCE, true)
        }
        this.log.info(report, 'VRRP instances updated')
      }
    }
    this.restartTracker(after)
  }

  /** Gives up (or takes back) mastership of an instance for maintenance. */
  setReleased(name: string, on: boolean): void {
    const rec = this.records.get(name)
    if (!rec || !this.runtime)
      throw new LvsdError('LVSD_API_UNKNOWN_INSTANCE', `no VRRP instance ${name}`, { instance: name })
    if (rec.released === on) return
    rec.released = on
    this.runtime.setFault(name, RELEASE_SOURCE, on)
  }

  /** Holds (or releases) preemption of an instance; the worker is told only of changes, each logged. */
  holdPreemption(name: string, on: boolean): void {
    if (!this.runtime || (this.preemptHeld.get(name) ?? false) === on) return
    this.preemptHeld.set(name, on)
    this.runtime.setPreemptHold(name, on)
    this.log.info(
      { vrrp: name, held: on },
      on ? 'preemption held: a service of this instance has no quorum here' : 'preemption allowed again',
    )
  }

  /** The worker's counters now (undefined without a worker, or when it does not answer in a second). */
  counters(): Promise<Record<string, Counters> | undefined> {
    if (!this.runtime || this.stopping) return Promise.resolve(undefined)
    const asked = this.runtime.counters()
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(undefined), 1000)
      void asked.then((c) => {
        clearTimeout(t)
        resolve(c)
      })
    })
  }

  /** Every master resigns (priority 0, VIPs removed); waits for the notify programs (stop included). */
  async stop(): Promise<Record<string, Counters> | undefined> {
    this.stopping = true
    this.tracker?.stop()
    const counters = await this.runtime?.stop()
    await this.notifier.idle()
    return counters
  }
}
