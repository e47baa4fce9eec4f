// The director's health side: the scheduler (loaded with the first checked real server, so a
// VRRP-only daemon never loads the health code), the check specs of a config, each result recorded
// for status and published, and each up/down/weight transition published and handed on.
import type { Config } from '../config/types.js'
import type { EventBus } from '../events.js'
import type { Scheduler, SchedulerStats } from '../health/scheduler.js'
import type { ServerState } from '../health/state.js'
import type { Transition } from '../health/types.js'
import type { Logger } from '../log.js'
import { serverSpec } from './health-specs.js'
import type { ProgramUsers } from './program-users.js'
import type { ServerBook } from './servers.js'

export interface HealthSideOptions {
  log: Logger
  events: EventBus
  book: ServerBook
  /** A server's state changed: the table lvsd wants may have changed. */
  onChange: () => void
}

/** `service/address:port` → [service, address:port]. */
export function splitServerId(id: string): [string, string] {
  const i = id.indexOf('/')
  return [id.slice(0, i), id.slice(i + 1)]
}

export class HealthSide {
  private scheduler: Scheduler | undefined
  private stopped = false

  constructor(private readonly opts: HealthSideOptions) {}

  /** The health of a checked server; undefined for a server without checks (always up). */
  state(id: string): ServerState | undefined {
    return this.scheduler?.state(id)
  }

  /** The scheduler's counters (for the metrics); undefined before the first checked server. */
  get stats(): SchedulerStats | undefined {
    return this.scheduler?.stats()
  }

  /** Checks exactly the servers of c that have checks, keeping the health of those that stay. */
  async schedule(c: Config, users: ProgramUsers): Promise<void> {
    const { book } = this.opts
    const specs = []
    for (const s of c.virtual_services)
      for (const rs of s.real_servers) {
        const spec = serverSpec(s, rs, book.baseWeight(s, rs), users)
        if (spec) specs.push(spec)
      }
    if (!this.scheduler && specs.length === 0) return
    const scheduler = this.scheduler ?? (await this.create())
    if (this.stopped) return // stopped while the health code loaded: start no checks
    scheduler.set(specs)
    // a server that keeps its id keeps its drain in the reducer; a new one learns it here
    for (const spec of specs) if (book.get(spec.id)?.drained) scheduler.drain(spec.id)
  }

  /** Drained servers keep being checked; the reducer reports them at weight 0. */
  setDrained(id: string, on: boolean): void {
    if (!this.scheduler?.state(id)) return
    if (on) this.scheduler.drain(id)
    else this.scheduler.undrain(id)
  }

  stop(): void {
    this.stopped = true
    this.scheduler?.stop()
  }

  private async create(): Promise<Scheduler> {
    const { Scheduler } = await import('../health/scheduler.js')
    if (this.scheduler) return this.scheduler
    const { events, book, log } = this.opts
    this.scheduler = new Scheduler({
      onTransition: (t) => this.onTransition(t),
      onResult: (server, check, r) => {
        const rec = book.get(server)
        if (rec)
          rec.lastCheck = { ok: r.ok, ms: Math.round(r.ms), at: Date.now(), ...(r.ok ? {} : { detail: r.detail }) }
        const [service, text] = splitServerId(server)
        events.publish('health.result', {
          service,
          server: text,
          check,
          ok: r.ok,
          ms: r.ms,
          ...(r.code === undefined ? {} : { code: r.code }),
          ...(r.ok ? {} : { detail: r.detail }),
        })
      },
      onError: (e) => log.error({ err: String(e) }, 'health consumer failed'),
    })
    return this.scheduler
  }

  private onTransition(t: Transition): void {
    const rec = this.opts.book.get(t.server)
    const [service, server] = splitServerId(t.server)
    if (t.kind !== 'weight') {
      if (rec) rec.healthSince = Date.now()
      this.opts.events.publish('health.transition', {
        service,
        server,
        up: t.kind === 'up',
        weight: t.weight,
        reason: t.reason,
        latencyMs: Math.round(t.latency ?? 0),
      })
    }
    this.opts.onChange()
  }
}
