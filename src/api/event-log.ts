// The logs' subscription to the event bus: one structured pino line per event, at a level chosen per
// event name in one exhaustive table (a new event does not compile until it has a log decision).
import type { AnyEvent, EventBus, EventName, EventPayloads } from '../events.js'
import type { Logger } from '../log.js'

type Level = 'debug' | 'info' | 'warn' | 'error'
type Line = [Level, Record<string, unknown>, string]

const LINES: { [K in EventName]: (d: EventPayloads[K]) => Line } = {
  'daemon.state': (d) => ['info', { state: d.state, reason: d.reason }, `daemon ${d.state}`],
  'vrrp.transition': (d) => [
    'info',
    { vrrp: d.instance, from: d.from, to: d.to, why: d.why, priority: d.priority, at: d.at },
    `${d.instance}: ${d.from} -> ${d.to} (${d.why})`,
  ],
  'vrrp.priority': (d) => [
    'info',
    { vrrp: d.instance, configured: d.configured, effective: d.effective, source: d.source },
    `${d.instance}: effective priority ${d.effective} (${d.source})`,
  ],
  'vrrp.advert_late': (d) => [
    'warn',
    { vrrp: d.instance, lateMs: d.lateMs },
    `${d.instance}: advert ${d.lateMs} ms late`,
  ],
  'vrrp.drop': (d) => [
    'debug',
    { vrrp: d.instance, reason: d.reason, from: d.from },
    `${d.instance}: dropped (${d.reason})`,
  ],
  'health.result': (d) => [
    'debug',
    { service: d.service, server: d.server, check: d.check, ok: d.ok, ms: d.ms, code: d.code, detail: d.detail },
    `${d.service} ${d.server} ${d.check}: ${d.ok ? 'ok' : (d.code ?? 'fail')}`,
  ],
  'health.transition': (d) => [
    d.up ? 'info' : 'warn',
    { service: d.service, server: d.server, up: d.up, weight: d.weight, reason: d.reason, latencyMs: d.latencyMs },
    `${d.service} ${d.server}: ${d.up ? 'up' : 'down'} (${d.reason})`,
  ],
  'quorum.change': (d) => [
    d.up ? 'info' : 'warn',
    { service: d.service, up: d.up, alive: d.alive, required: d.required },
    `${d.service}: quorum ${d.up ? 'gained' : 'lost'} (${d.alive}/${d.required})`,
  ],
  'ipvs.op': (d) => [
    d.ok ? 'debug' : 'error',
    { op: d.op, target: d.target, ok: d.ok, ms: d.ms, cause: d.cause, err: d.error },
    `ipvs ${d.op} ${d.target}: ${d.ok ? 'ok' : (d.error?.code ?? 'failed')}`,
  ],
  'ipvs.drift': (d) => [
    'warn',
    { target: d.target, kind: d.kind, repaired: d.repaired },
    `ipvs drift: ${d.target} ${d.kind}${d.repaired ? ', repaired' : ''}`,
  ],
  // the owner (notifier, tracker, director) already logs the failure as a warning with its context
  'program.failed': (d) => [
    'debug',
    { role: d.role, owner: d.owner, program: d.program, reason: d.reason, detail: d.detail },
    `${d.role} program of ${d.owner} failed: ${d.detail}`,
  ],
  'config.reload': (d) => [
    d.ok ? 'info' : 'error',
    { ok: d.ok, source: d.source, hash: d.hash, changes: d.changes, errors: d.errors, ms: d.ms },
    d.ok ? `reloaded ${d.source}` : `reload of ${d.source} refused: ${d.errors?.length ?? 0} error(s)`,
  ],
  'operator.action': (d) => [
    d.ok ? 'info' : 'warn',
    { action: d.action, target: d.target, ok: d.ok, params: d.params, err: d.error, peer: d.peer },
    `operator ${d.action} ${d.target}${d.peer ? ` by uid ${d.peer.uid} pid ${d.peer.pid}` : ''}${d.ok ? '' : `: ${d.error?.code ?? 'failed'}`}`,
  ],
  'peer.channel': (d) => [
    d.state === 'up' ? 'info' : 'warn',
    { peer: d.peer, address: d.address, state: d.state },
    `peer channel to ${d.peer} (${d.address}) ${d.state}`,
  ],
  'peer.drop': (d) => [
    'warn',
    { reason: d.reason, source: d.source, detail: d.detail },
    `peer channel: dropped a datagram from ${d.source} (${d.reason}); further ones from it are only counted`,
  ],
  'peer.operator': (d) => [
    'info',
    { key: d.key, value: d.value, node: d.node, version: d.version },
    `peer: ${d.key} = ${JSON.stringify(d.value)} (from ${d.node})`,
  ],
  'peer.drift': (d) => [
    d.differs.length > 0 ? 'warn' : 'info',
    { peer: d.peer, differs: d.differs },
    d.differs.length > 0
      ? `config differs from ${d.peer}: ${d.differs.map((x) => `${x.key} (${x.kind})`).join(', ')}`
      : `config agrees with ${d.peer} again`,
  ],
  'peer.health': (d) => [
    d.disagree ? 'warn' : 'info',
    { service: d.service, server: d.server, here: d.here, peer: d.peer, disagree: d.disagree },
    d.disagree
      ? `${d.service} ${d.server}: ${d.here} here, ${d.peer} on the peer`
      : `${d.service} ${d.server}: health views agree again`,
  ],
  'peer.conns': (d) => [
    d.lagging ? 'warn' : 'info',
    { service: d.service, here: d.here, master: d.master, lagging: d.lagging },
    d.lagging
      ? `${d.service}: backup holds ${d.here} connections, master ${d.master} (sync lagging?)`
      : `${d.service}: backup's connections caught up`,
  ],
}

/** Events whose line is always at debug (a test keeps this in step with LINES). */
export const DEBUG_ONLY: ReadonlySet<EventName> = new Set<EventName>(['health.result', 'vrrp.drop', 'program.failed'])

/** The log line of one event, without undefined fields (they would only be noise in JSON). */
export function logLine(e: AnyEvent): Line {
  const [level, fields, msg] = (LINES[e.name] as (d: unknown) => Line)(e.data)
  const clean: Record<string, unknown> = { event: e.name, seq: e.seq }
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) clean[k] = v
  return [level, clean, msg]
}

/**
 * Logs every event on `bus` through `log`; returns the unsubscribe. With `replay`, the events the bus still
 * holds are logged first (a daemon's start-up, published before its API and log subscriber existed).
 */
export function logEvents(bus: EventBus, log: Logger, opts: { replay?: boolean } = {}): () => void {
  // the level is fixed for a process: without debug, a health result (10,000 a second at scale) is
  // not even made into a line
  const skipped = log.isLevelEnabled('debug') ? new Set<EventName>() : DEBUG_ONLY
  const write = (e: AnyEvent) => {
    if (skipped.has(e.name)) return
    const [level, fields, msg] = logLine(e)
    log[level](fields, msg)
  }
  if (opts.replay) for (const e of bus.recent()) write(e)
  return bus.subscribeAll(write)
}
