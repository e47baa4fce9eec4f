// lvsd's Prometheus metrics (docs/metrics.md): counters fed by the event bus as things happen, and
// values read from the director's status at scrape time (states, weights, VRRP worker and kernel counters).
import type { AnyEvent, EventBus, EventName, LvsdEvent, VrrpState } from '../events.js'
import { sliceTimer } from '../loop-turns.js'
import { type Counter, type Gauge, type Histogram, Registry } from './metrics-registry.js'
import type { DirectorView, KernelStats, PeerStatus } from './types.js'

const VRRP_STATES: readonly VrrpState[] = ['INIT', 'BACKUP', 'MASTER', 'FAULT']

/** Check latency buckets (seconds): a LAN check takes ~1 ms, a timeout is usually 1–5 s. */
export const CHECK_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

export interface MetricsOptions {
  /** Wall-clock ms when the process started (default: derived from process.uptime()). */
  startedAt?: number
  /** Also count the events the bus still holds from before (a daemon's start-up, published before the API). */
  replay?: boolean
}

interface KernelCounters {
  conns: Counter
  inPkts: Counter
  outPkts: Counter
  inBytes: Counter
  outBytes: Counter
}

export class LvsdMetrics {
  readonly registry = new Registry()
  private readonly unsubscribe: (() => void)[] = []

  // fed by events
  readonly transitions: Counter
  readonly checks: Counter
  readonly checkSeconds: Histogram
  readonly checkSecondsTotal: Counter
  readonly healthTransitions: Counter
  readonly quorumChanges: Counter
  readonly ipvsOps: Counter
  readonly ipvsOpSeconds: Histogram
  readonly drift: Counter
  readonly reloads: Counter
  readonly lastReloadOk: Gauge
  readonly operatorActions: Counter
  readonly programFailures: Counter
  /** Connections to the metrics port from clients outside metrics.allow, closed at accept. */
  readonly metricsRefused: Counter

  constructor(director: DirectorView, opts: MetricsOptions = {}) {
    const r = this.registry
    const bus: EventBus = director.events
    const startedAt = opts.startedAt ?? Date.now() - process.uptime() * 1000

    r.gauge('process_start_time_seconds', 'Start time of the process since unix epoch in seconds.').set(
      {},
      Math.floor(startedAt / 1000),
    )
    const info = r.gauge('lvsd_build_info', 'Always 1; the labels say which lvsd runs on which node.', [
      'version',
      'node',
    ])

    // ---- VRRP ----
    const state = r.gauge('lvsd_vrrp_state', '1 for the state the instance is in, 0 for the others.', ['vrrp', 'state'])
    const prio = r.gauge('lvsd_vrrp_priority', 'Configured VRRP priority.', ['vrrp'])
    const eprio = r.gauge('lvsd_vrrp_effective_priority', 'Priority after tracking and operator release.', ['vrrp'])
    const released = r.gauge('lvsd_vrrp_released', '1 while an operator has released mastership.', ['vrrp'])
    const lastTransition = r.gauge(
      'lvsd_vrrp_last_transition_timestamp_seconds',
      'When the instance last changed state.',
      ['vrrp'],
    )
    this.transitions = r.counter('lvsd_vrrp_transitions_total', 'VRRP state transitions.', [
      'vrrp',
      'from',
      'to',
      'why',
    ])
    const sent = r.counter('lvsd_vrrp_adverts_sent_total', 'VRRP adverts sent.', ['vrrp'])
    const received = r.counter('lvsd_vrrp_adverts_received_total', 'VRRP adverts accepted.', ['vrrp'])
    const drops = r.counter('lvsd_vrrp_drops_total', 'Received VRRP packets discarded, by reason.', ['vrrp', 'reason'])
    const lowerAnswers = r.counter(
      'lvsd_vrrp_lower_prio_answers_total',
      'Lower-priority adverts heard as master: answered (advert + GARP/NA burst) or suppressed by the rate limit.',
      ['vrrp', 'result'],
    )
    const late = r.counter(
      'lvsd_vrrp_late_adverts_total',
      'Adverts sent more than half an interval after their deadline.',
      ['vrrp'],
    )

    // ---- health ----
    this.checks = r.counter('lvsd_health_checks_total', 'Health checks finished, by result (ok, fail).', [
      'service',
      'server',
      'check',
      'result',
    ])
    // by service, not server: 16 series per server were two thirds of a 10,000-server scrape; the mean
    // per server stays (check_seconds_total / checks_total)
    this.checkSeconds = r.histogram(
      'lvsd_health_check_duration_seconds',
      'How long health checks took, per service.',
      ['service'],
      CHECK_BUCKETS,
    )
    this.checkSecondsTotal = r.counter(
      'lvsd_health_check_seconds_total',
      'Time spent in health checks of each real server (divided by lvsd_health_checks_total: the mean).',
      ['service', 'server'],
    )
    this.healthTransitions = r.counter('lvsd_health_transitions_total', 'Real servers going up or down.', [
      'service',
      'server',
      'to',
    ])
    const up = r.gauge('lvsd_real_server_up', '1 when the real server passes its checks (or has none).', [
      'service',
      'server',
    ])
    const weight = r.gauge('lvsd_real_server_weight', 'The weight in the kernel now.', ['service', 'server'])
    const cweight = r.gauge('lvsd_real_server_configured_weight', 'The configured weight.', ['service', 'server'])
    const drained = r.gauge('lvsd_real_server_drained', '1 while an operator has drained the server.', [
      'service',
      'server',
    ])
    const quorum = r.gauge('lvsd_service_quorum_up', '1 while the service has quorum.', ['service'])
    const active = r.gauge('lvsd_service_active', '1 while the service is in the kernel table.', ['service'])
    const doctorFinding = r.gauge(
      'lvsd_doctor_findings',
      '1 for each problem the last lvsctl doctor run over all services found (lvsctl(8)).',
      ['service', 'server', 'kind'],
    )
    const doctorRun = r.gauge('lvsd_doctor_last_run_timestamp_seconds', 'When lvsctl doctor last probed every service.')
    this.quorumChanges = r.counter('lvsd_quorum_changes_total', 'Services gaining (up) or losing (down) quorum.', [
      'service',
      'to',
    ])

    // ---- IPVS ----
    const kernel = (scope: 'service' | 'server', labels: string[]): KernelCounters => ({
      conns: r.counter(`lvsd_ipvs_${scope}_connections_total`, `Connections scheduled (kernel, per ${scope}).`, labels),
      inPkts: r.counter(`lvsd_ipvs_${scope}_in_packets_total`, `Incoming packets (kernel, per ${scope}).`, labels),
      outPkts: r.counter(`lvsd_ipvs_${scope}_out_packets_total`, `Outgoing packets (kernel, per ${scope}).`, labels),
      inBytes: r.counter(`lvsd_ipvs_${scope}_in_bytes_total`, `Incoming bytes (kernel, per ${scope}).`, labels),
      outBytes: r.counter(`lvsd_ipvs_${scope}_out_bytes_total`, `Outgoing bytes (kernel, per ${scope}).`, labels),
    })
    const svcK = kernel('service', ['service'])
    const srvK = kernel('server', ['service', 'server'])
    const activeConns = r.gauge('lvsd_ipvs_server_active_connections', 'Active connections (kernel).', [
      'service',
      'server',
    ])
    const inactiveConns = r.gauge('lvsd_ipvs_server_inactive_connections', 'Inactive connections (kernel).', [
      'service',
      'server',
    ])
    this.ipvsOps = r.counter('lvsd_ipvs_operations_total', 'IPVS commands applied, by cause and result.', [
      'op',
      'cause',
      'result',
    ])
    this.ipvsOpSeconds = r.histogram(
      'lvsd_ipvs_operation_duration_seconds',
      'How long IPVS commands took.',
      ['op'],
      [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5],
    )
    const checksLate = r.counter(
      'lvsd_health_checks_late_total',
      'Checks started more than 100 ms after their slot (the concurrency limit or the event loop held them).',
    )
    const checksMissed = r.counter(
      'lvsd_health_checks_missed_total',
      'Check slots skipped because the previous run of that check had not finished.',
    )
    const checksInFlight = r.gauge(
      'lvsd_health_checks_in_flight',
      'Checks running now (state="running") and waiting for a concurrency slot (state="queued").',
      ['state'],
    )
    const checksSlow = r.gauge(
      'lvsd_health_checks_slow',
      'Checks whose last run took half their timeout or more: they wait for slots of their own, apart from the checks that answer.',
    )
    const driftPass = r.gauge(
      'lvsd_ipvs_drift_pass_duration_seconds',
      'How long the last drift pass (re-read of the kernel’s IPVS table and diff) took.',
    )
    const driftInterval = r.gauge(
      'lvsd_ipvs_drift_interval_seconds',
      'The wait before the next drift pass: ipvs.drift.interval, stretched by max_cpu_percent for a slow pass.',
    )
    this.drift = r.counter('lvsd_ipvs_drift_total', 'Differences found between the kernel and lvsd’s table.', [
      'kind',
      'repaired',
    ])

    // ---- config and operators ----
    this.reloads = r.counter('lvsd_config_reloads_total', 'Configuration reloads, by result (ok, error).', ['result'])
    this.lastReloadOk = r.gauge('lvsd_config_last_reload_successful', '1 when the last reload was applied.')
    this.operatorActions = r.counter('lvsd_operator_actions_total', 'API actions by operators, by result.', [
      'action',
      'result',
    ])

    this.metricsRefused = r.counter(
      'lvsd_metrics_refused_connections_total',
      'Connections to the metrics port from clients not in metrics.allow, closed at once.',
    )
    this.metricsRefused.inc({}, 0) // shown from the start: an unlabelled counter at 0 is a fact

    this.programFailures = r.counter(
      'lvsd_program_failures_total',
      'Notify, track and quorum programs that failed, timed out or could not start (e.g. EMFILE).',
      ['role', 'reason'],
    )

    const res = (ok: boolean) => (ok ? 'ok' : 'error')
    // each handler is kept by name as well, to count the events published before this object existed
    const handlers = new Map<EventName, (e: AnyEvent) => void>()
    const on = <K extends EventName>(name: K, fn: (e: LvsdEvent<K>) => void) => {
      handlers.set(name, fn as unknown as (e: AnyEvent) => void)
      return bus.subscribe(name, fn)
    }
    this.unsubscribe.push(
      on('vrrp.transition', ({ data: d }) =>
        this.transitions.inc({ vrrp: d.instance, from: d.from, to: d.to, why: d.why }),
      ),
      on('health.result', ({ data: d }) => {
        this.checks.inc({ service: d.service, server: d.server, check: d.check, result: d.ok ? 'ok' : 'fail' })
        this.checkSeconds.observe({ service: d.service }, d.ms / 1000)
        this.checkSecondsTotal.inc({ service: d.service, server: d.server }, d.ms / 1000)
      }),
      on('health.transition', ({ data: d }) =>
        this.healthTransitions.inc({ service: d.service, server: d.server, to: d.up ? 'up' : 'down' }),
      ),
      on('quorum.change', ({ data: d }) => this.quorumChanges.inc({ service: d.service, to: d.up ? 'up' : 'down' })),
      on('ipvs.op', ({ data: d }) => {
        this.ipvsOps.inc({ op: d.op, cause: d.cause, result: res(d.ok) })
        this.ipvsOpSeconds.observe({ op: d.op }, d.ms / 1000)
      }),
      on('ipvs.drift', ({ data: d }) => this.drift.inc({ kind: d.kind, repaired: String(d.repaired) })),
      on('config.reload', ({ data: d }) => {
        this.reloads.inc({ result: res(d.ok) })
        this.lastReloadOk.set({}, d.ok ? 1 : 0)
      }),
      on('operator.action', ({ data: d }) => this.operatorActions.inc({ action: d.action, result: res(d.ok) })),
      on('program.failed', ({ data: d }) => this.programFailures.inc({ role: d.role, reason: d.reason })),
    )
    if (opts.replay) for (const e of bus.recent()) handlers.get(e.name)?.(e)

    const peer = peerGauges(r)
    const snapshot = [
      info,
      state,
      prio,
      eprio,
      released,
      lastTransition,
      sent,
      received,
      drops,
      late,
      lowerAnswers,
      ...Object.values(peer),
    ]
    const perServer = [up, weight, cweight, drained, quorum, active, activeConns, inactiveConns, doctorFinding]
    const kernelAll = [...Object.values(svcK), ...Object.values(srvK)]
    const setKernel = (k: KernelCounters, labels: Record<string, string>, s: KernelStats) => {
      k.conns.set(labels, s.conns)
      k.inPkts.set(labels, s.inPkts)
      k.outPkts.set(labels, s.outPkts)
      k.inBytes.set(labels, s.inBytes)
      k.outBytes.set(labels, s.outBytes)
    }
    // a generator: at 10,000 servers the status and its ~110,000 series are tens of ms (the first
    // scrape, which makes every series, hundreds), so the scrape lets the event loop go every few ms
    // (src/loop-turns.ts)
    this.registry.onCollect(function* () {
      const due = sliceTimer()
      const st = director.getStatus()
      if (due()) yield
      for (const m of [...snapshot, ...perServer, ...kernelAll, driftPass, driftInterval]) m.reset()
      info.set({ version: st.version, node: st.node }, 1)
      const drift = director.drift
      if (drift) {
        driftInterval.set({}, drift.effectiveIntervalMs / 1000)
        if (drift.lastPassMs !== undefined) driftPass.set({}, drift.lastPassMs / 1000)
      }
      const ck = director.checks
      if (ck) {
        checksLate.set({}, ck.late)
        checksMissed.set({}, ck.missed)
        checksInFlight.set({ state: 'running' }, ck.running)
        checksInFlight.set({ state: 'queued' }, ck.queued)
        checksSlow.set({}, ck.slow)
      }
      const doc = director.lastDoctor
      if (doc) {
        doctorRun.set({}, Date.parse(doc.at) / 1000)
        for (const f of doc.findings) doctorFinding.set({ service: f.service, server: f.server, kind: f.kind }, 1)
      }
      for (const i of st.instances) {
        const vrrp = i.name
        for (const s of VRRP_STATES) state.set({ vrrp, state: s }, i.state === s ? 1 : 0)
        prio.set({ vrrp }, i.priority)
        eprio.set({ vrrp }, i.effectivePriority)
        released.set({ vrrp }, i.released ? 1 : 0)
        if (i.lastTransition) lastTransition.set({ vrrp }, i.lastTransition.at / 1000)
        if (i.counters) {
          sent.set({ vrrp }, i.counters.advertsSent)
          received.set({ vrrp }, i.counters.advertsReceived)
          late.set({ vrrp }, i.counters.lateAdverts)
          lowerAnswers.set({ vrrp, result: 'answered' }, i.counters.lowerPrioAnswered ?? 0)
          lowerAnswers.set({ vrrp, result: 'suppressed' }, i.counters.lowerPrioSuppressed ?? 0)
          for (const [reason, n] of Object.entries(i.counters.drops)) drops.set({ vrrp, reason }, n)
        }
      }
      if (st.peer) setPeer(peer, st.peer)
      for (const svc of st.services) {
        const service = svc.name
        quorum.set({ service }, svc.quorum.up ? 1 : 0)
        active.set({ service }, svc.active ? 1 : 0)
        if (svc.kernel) setKernel(svcK, { service }, svc.kernel)
        for (const rs of svc.servers) {
          if (due()) yield
          const l = { service, server: rs.server }
          up.set(l, rs.health === 'down' ? 0 : 1)
          weight.set(l, rs.weight.effective)
          cweight.set(l, rs.weight.configured)
          drained.set(l, rs.drained ? 1 : 0)
          if (rs.kernel) {
            setKernel(srvK, l, rs.kernel)
            activeConns.set(l, rs.kernel.activeConns)
            inactiveConns.set(l, rs.kernel.inactiveConns)
          }
        }
      }
    })
  }

  render(): string {
    return this.registry.render()
  }

  /** The exposition in slices, for the endpoint to send with the event loop let go between them. */
  slices(): Iterable<string> {
    return this.registry.slices()
  }

  close(): void {
    for (const u of this.unsubscribe.splice(0)) u()
  }
}

/** The peer channel's gauges (docs/metrics.md), rebuilt from the status at each scrape. */
function peerGauges(r: Registry) {
  return {
    up: r.gauge('lvsd_peer_up', '1 while the peer channel is up (a valid message within peer.dead_after).'),
    info: r.gauge('lvsd_peer_info', 'Always 1; the peer’s node name and lvsd version as last heard.', [
      'peer',
      'version',
    ]),
    rtt: r.gauge('lvsd_peer_rtt_seconds', 'Round trip of the last answered peer message.'),
    lastHeard: r.gauge('lvsd_peer_last_heard_timestamp_seconds', 'When a valid peer message was last received.'),
    messages: r.counter('lvsd_peer_messages_total', 'Peer messages sent and accepted.', ['direction']),
    drops: r.counter('lvsd_peer_drops_total', 'Datagrams to the channel port dropped, by reason.', ['reason']),
    drift: r.gauge('lvsd_peer_config_drift', 'Number of config fingerprints that differ from the peer’s.'),
    driftKey: r.gauge('lvsd_peer_config_drift_key', '1 for each fingerprint that differs (service:NAME, …).', [
      'key',
      'kind',
    ]),
    master: r.gauge('lvsd_peer_master', '1 for the node that is master of the instance, as this node sees it.', [
      'vrrp',
      'node',
    ]),
    masterPrio: r.gauge('lvsd_peer_master_priority', 'Effective priority of the instance’s master.', ['vrrp']),
    masterAdvert: r.gauge('lvsd_peer_master_advert_interval_seconds', 'Advert interval of the master.', ['vrrp']),
    masterSeen: r.gauge(
      'lvsd_peer_master_last_advert_timestamp_seconds',
      'When the master’s last advert arrived (this node’s own time while it is master).',
      ['vrrp'],
    ),
    syncRole: r.gauge('lvsd_peer_sync_daemon', '1 for the kernel sync daemon role on each side.', ['side', 'role']),
    conns: r.gauge('lvsd_peer_service_connections', 'Connections of a service on each side.', ['service', 'side']),
    lagging: r.gauge('lvsd_peer_conns_lagging', '1 while the backup holds far fewer connections than the master.', [
      'service',
    ]),
    disagree: r.gauge('lvsd_peer_health_disagree', '1 while the two health views of a server differ (reported).', [
      'server',
    ]),
  }
}

function setPeer(g: ReturnType<typeof peerGauges>, p: PeerStatus): void {
  g.up.set({}, p.channel === 'up' ? 1 : 0)
  if (p.node) g.info.set({ peer: p.node, version: p.version ?? '' }, 1)
  if (p.rttMs !== undefined) g.rtt.set({}, p.rttMs / 1000)
  if (p.lastHeard) g.lastHeard.set({}, p.lastHeard / 1000)
  g.messages.set({ direction: 'sent' }, p.sent)
  g.messages.set({ direction: 'received' }, p.received)
  for (const [reason, n] of Object.entries(p.drops)) g.drops.set({ reason }, n)
  g.drift.set({}, p.drift.length)
  for (const d of p.drift) g.driftKey.set({ key: d.key, kind: d.kind }, 1)
  for (const i of p.instances)
    if (i.master) {
      g.master.set({ vrrp: i.name, node: i.master.node }, 1)
      g.masterPrio.set({ vrrp: i.name }, i.master.priority)
      g.masterAdvert.set({ vrrp: i.name }, i.master.advertMs / 1000)
      g.masterSeen.set({ vrrp: i.name }, i.master.lastHeard / 1000)
    }
  g.syncRole.set({ side: 'here', role: p.sync.here }, 1)
  if (p.sync.peer) g.syncRole.set({ side: 'peer', role: p.sync.peer }, 1)
  for (const c of p.conns) {
    if (c.here !== undefined) g.conns.set({ service: c.service, side: 'here' }, c.here)
    if (c.peer !== undefined) g.conns.set({ service: c.service, side: 'peer' }, c.peer)
    g.lagging.set({ service: c.service }, c.lagging ? 1 : 0)
  }
  for (const h of p.healthDisagree) if (h.reported) g.disagree.set({ server: h.server }, 1)
}
