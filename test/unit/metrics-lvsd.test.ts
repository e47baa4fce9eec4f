// lvsd's metrics after synthetic events and a status snapshot: every family parses, counters count the
// events, gauges and kernel counters follow the status, and the TCP endpoint serves the exposition.
import { readFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import test from 'ava'
import { LvsdMetrics } from '../../src/api/metrics.js'
import { Registry } from '../../src/api/metrics-registry.js'
import { MetricsServer } from '../../src/api/metrics-server.js'
import { parseExposition, sampleValue } from '../helpers/exposition-parse.js'
import { exampleStatus, FakeDirector } from '../helpers/fake-director.js'
import { turnCounter } from '../helpers/loop-turns.js'
import { repoRoot } from '../helpers/paths.js'

function setup() {
  const director = new FakeDirector({ status: exampleStatus() })
  const metrics = new LvsdMetrics(director, { startedAt: Date.UTC(2026, 0, 1, 12, 0, 0, 500) })
  return { director, metrics, bus: director.events, scrape: () => parseExposition(metrics.render()) }
}

test('VRRP: state set per instance, priorities, transitions by from/to/why, worker counters', (t) => {
  const { bus, scrape } = setup()
  bus.publish('vrrp.transition', { instance: 'web', from: 'INIT', to: 'BACKUP', why: 'startup', at: 1, priority: 150 })
  bus.publish('vrrp.transition', {
    instance: 'web',
    from: 'BACKUP',
    to: 'MASTER',
    why: 'master_down',
    at: 2,
    priority: 150,
  })
  bus.publish('vrrp.transition', {
    instance: 'web',
    from: 'BACKUP',
    to: 'MASTER',
    why: 'master_down',
    at: 3,
    priority: 150,
  })
  const f = scrape()
  t.is(sampleValue(f, 'lvsd_vrrp_state', { vrrp: 'web', state: 'MASTER' }), 1)
  t.is(sampleValue(f, 'lvsd_vrrp_state', { vrrp: 'web', state: 'BACKUP' }), 0)
  t.is(sampleValue(f, 'lvsd_vrrp_state', { vrrp: 'db', state: 'BACKUP' }), 1)
  t.is(sampleValue(f, 'lvsd_vrrp_effective_priority', { vrrp: 'db' }), 90)
  t.is(sampleValue(f, 'lvsd_vrrp_priority', { vrrp: 'db' }), 100)
  const tr = (from: string, to: string, why: string) =>
    sampleValue(f, 'lvsd_vrrp_transitions_total', { vrrp: 'web', from, to, why })
  t.is(tr('BACKUP', 'MASTER', 'master_down'), 2)
  t.is(tr('INIT', 'BACKUP', 'startup'), 1)
  t.is(sampleValue(f, 'lvsd_vrrp_adverts_sent_total', { vrrp: 'web' }), 1200)
  t.is(sampleValue(f, 'lvsd_vrrp_adverts_received_total', { vrrp: 'db' }), 1203)
  t.is(sampleValue(f, 'lvsd_vrrp_drops_total', { vrrp: 'web', reason: 'vrid' }), 5)
  t.is(sampleValue(f, 'lvsd_vrrp_late_adverts_total', { vrrp: 'web' }), 1)
  t.is(
    sampleValue(f, 'lvsd_vrrp_last_transition_timestamp_seconds', { vrrp: 'web' }),
    Date.UTC(2026, 0, 1, 12, 0, 3, 120) / 1000,
  )
})

test('health: results by check and result, latency histogram, transitions, server up and weights', (t) => {
  const { bus, scrape } = setup()
  const server = '10.0.0.8:80'
  bus.publish('health.result', { service: 'web', server, check: 'tcp', ok: true, ms: 2 })
  bus.publish('health.result', { service: 'web', server, check: 'tcp', ok: false, ms: 1000, code: 'timeout' })
  bus.publish('health.result', { service: 'web', server, check: 'http', ok: false, ms: 30, code: 'status' })
  bus.publish('health.transition', { service: 'web', server, up: false, weight: 0, reason: 'timeout', latencyMs: 1000 })
  const f = scrape()
  t.is(sampleValue(f, 'lvsd_health_checks_total', { service: 'web', server, check: 'tcp', result: 'ok' }), 1)
  t.is(sampleValue(f, 'lvsd_health_checks_total', { service: 'web', server, check: 'tcp', result: 'fail' }), 1)
  t.is(sampleValue(f, 'lvsd_health_checks_total', { service: 'web', server, check: 'http', result: 'fail' }), 1)
  bus.publish('health.result', { service: 'web', server: '10.0.0.7:80', check: 'tcp', ok: true, ms: 4 })
  const g = scrape()
  // the latency histogram is the service's (both servers); the time spent per server is a counter
  t.is(sampleValue(g, 'lvsd_health_check_duration_seconds_bucket', { service: 'web', le: '0.0025' }), 1)
  t.is(sampleValue(g, 'lvsd_health_check_duration_seconds_bucket', { service: 'web', le: '0.005' }), 2)
  t.is(sampleValue(g, 'lvsd_health_check_duration_seconds_bucket', { service: 'web', le: '0.05' }), 3)
  t.is(sampleValue(g, 'lvsd_health_check_duration_seconds_count', { service: 'web' }), 4)
  t.is(sampleValue(g, 'lvsd_health_check_duration_seconds_sum', { service: 'web' }), 1.036)
  t.is(sampleValue(g, 'lvsd_health_check_duration_seconds_bucket', { service: 'web', server, le: '0.05' }), undefined)
  t.is(sampleValue(g, 'lvsd_health_check_seconds_total', { service: 'web', server }), 1.032)
  t.is(sampleValue(g, 'lvsd_health_check_seconds_total', { service: 'web', server: '10.0.0.7:80' }), 0.004)
  t.is(sampleValue(f, 'lvsd_health_transitions_total', { service: 'web', server, to: 'down' }), 1)
  t.is(sampleValue(f, 'lvsd_real_server_up', { service: 'web', server }), 0)
  t.is(sampleValue(f, 'lvsd_real_server_up', { service: 'web', server: '10.0.0.7:80' }), 1)
  t.is(sampleValue(f, 'lvsd_real_server_up', { service: 'dns6', server: '[2001:db8::a]:53' }), 1)
  t.is(sampleValue(f, 'lvsd_real_server_weight', { service: 'web', server }), 0)
  t.is(sampleValue(f, 'lvsd_real_server_configured_weight', { service: 'web', server }), 1)
  t.is(sampleValue(f, 'lvsd_service_quorum_up', { service: 'mark7' }), 0)
})

test('health: late and missed check slots, the checks in flight and the slow ones, from the director once it has checks', (t) => {
  const { director, scrape } = setup()
  t.is(sampleValue(scrape(), 'lvsd_health_checks_late_total'), undefined, 'absent while nothing is checked')
  Object.defineProperty(director, 'checks', {
    value: { completed: 10, timeouts: 1, late: 3, missed: 2, running: 4, queued: 5, slow: 6 },
  })
  const f = scrape()
  t.is(sampleValue(f, 'lvsd_health_checks_late_total'), 3)
  t.is(sampleValue(f, 'lvsd_health_checks_missed_total'), 2)
  t.is(sampleValue(f, 'lvsd_health_checks_in_flight', { state: 'running' }), 4)
  t.is(sampleValue(f, 'lvsd_health_checks_in_flight', { state: 'queued' }), 5)
  t.is(sampleValue(f, 'lvsd_health_checks_slow'), 6)
})

test('IPVS: kernel counters per service and server from the status; ops by cause and result; drift', (t) => {
  const { bus, scrape } = setup()
  bus.publish('ipvs.op', { op: 'edit-dest', target: 'tcp/10.0.0.3/80 10.0.0.8:80', ok: true, ms: 0.3, cause: 'health' })
  bus.publish('ipvs.op', { op: 'edit-dest', target: 'tcp/10.0.0.3/80 10.0.0.8:80', ok: true, ms: 0.2, cause: 'health' })
  bus.publish('ipvs.op', {
    op: 'add-dest',
    target: 'tcp/10.0.0.3/80 10.0.0.9:80',
    ok: false,
    error: { code: 'LVSD_NL_KERNEL', message: 'EEXIST' },
    ms: 0.1,
    cause: 'drift',
  })
  bus.publish('ipvs.drift', { target: 'tcp/10.0.0.3/80 10.0.0.9:80', kind: 'missing', repaired: true })
  const f = scrape()
  t.is(sampleValue(f, 'lvsd_ipvs_operations_total', { op: 'edit-dest', cause: 'health', result: 'ok' }), 2)
  t.is(sampleValue(f, 'lvsd_ipvs_operations_total', { op: 'add-dest', cause: 'drift', result: 'error' }), 1)
  t.is(sampleValue(f, 'lvsd_ipvs_operation_duration_seconds_count', { op: 'edit-dest' }), 2)
  t.is(sampleValue(f, 'lvsd_ipvs_drift_total', { kind: 'missing', repaired: 'true' }), 1)
  t.is(sampleValue(f, 'lvsd_ipvs_service_connections_total', { service: 'web' }), 500)
  t.is(sampleValue(f, 'lvsd_ipvs_service_in_bytes_total', { service: 'web' }), 500_000)
  t.is(sampleValue(f, 'lvsd_ipvs_server_in_packets_total', { service: 'web', server: '10.0.0.7:80' }), 4000)
  t.is(sampleValue(f, 'lvsd_ipvs_server_active_connections', { service: 'web', server: '10.0.0.7:80' }), 12)
  t.is(sampleValue(f, 'lvsd_ipvs_server_inactive_connections', { service: 'web', server: '10.0.0.8:80' }), 2)
  // a service the kernel has no stats for has no kernel series at all, rather than zeros
  t.is(sampleValue(f, 'lvsd_ipvs_service_connections_total', { service: 'dns6' }), undefined)
})

test('IPVS drift loop: the last pass’s duration and the effective interval, absent without IPVS', (t) => {
  const { director, scrape } = setup()
  t.is(sampleValue(scrape(), 'lvsd_ipvs_drift_interval_seconds', {}), undefined)
  Object.assign(director, { drift: { lastPassMs: undefined, effectiveIntervalMs: 5000 } })
  t.is(sampleValue(scrape(), 'lvsd_ipvs_drift_interval_seconds', {}), 5)
  t.is(sampleValue(scrape(), 'lvsd_ipvs_drift_pass_duration_seconds', {}), undefined, 'no pass yet')
  Object.assign(director, { drift: { lastPassMs: 3800, effectiveIntervalMs: 34_200 } })
  const f = scrape()
  t.is(sampleValue(f, 'lvsd_ipvs_drift_pass_duration_seconds', {}), 3.8)
  t.is(sampleValue(f, 'lvsd_ipvs_drift_interval_seconds', {}), 34.2)
})

test('a real server removed from the status disappears from the next scrape', (t) => {
  const { director, scrape } = setup()
  t.is(sampleValue(scrape(), 'lvsd_real_server_weight', { service: 'web', server: '10.0.0.8:80' }), 0)
  director.status.services[0]!.servers.pop()
  const f = scrape()
  t.is(sampleValue(f, 'lvsd_real_server_weight', { service: 'web', server: '10.0.0.8:80' }), undefined)
  t.is(sampleValue(f, 'lvsd_ipvs_server_connections_total', { service: 'web', server: '10.0.0.8:80' }), undefined)
})

test('reloads by result, last reload flag, operator actions, process start time and build info', (t) => {
  const { bus, scrape } = setup()
  const reload = { source: '/etc/lvsd/lvsd.yaml', hash: 'x', changes: { added: [], removed: [], changed: [] }, ms: 5 }
  bus.publish('config.reload', { ok: true, ...reload })
  bus.publish('config.reload', { ok: false, ...reload, errors: [{ path: 'node', message: 'required' }] })
  bus.publish('operator.action', { action: 'drain', target: 'web 10.0.0.7:80', ok: true })
  bus.publish('quorum.change', { service: 'web', up: false, alive: 0, required: 1 })
  const f = scrape()
  t.is(sampleValue(f, 'lvsd_config_reloads_total', { result: 'ok' }), 1)
  t.is(sampleValue(f, 'lvsd_config_reloads_total', { result: 'error' }), 1)
  t.is(sampleValue(f, 'lvsd_config_last_reload_successful'), 0)
  t.is(sampleValue(f, 'lvsd_operator_actions_total', { action: 'drain', result: 'ok' }), 1)
  t.is(sampleValue(f, 'lvsd_quorum_changes_total', { service: 'web', to: 'down' }), 1)
  t.is(sampleValue(f, 'process_start_time_seconds'), Date.UTC(2026, 0, 1, 12, 0, 0) / 1000)
  t.is(sampleValue(f, 'lvsd_build_info', { version: '0.1.0', node: 'lb01' }), 1)
})

test('after close, events no longer change the counters', (t) => {
  const { bus, metrics, scrape } = setup()
  metrics.close()
  bus.publish('config.reload', {
    ok: true,
    source: 's',
    hash: 'h',
    changes: { added: [], removed: [], changed: [] },
    ms: 1,
  })
  t.is(sampleValue(scrape(), 'lvsd_config_reloads_total', { result: 'ok' }), undefined)
})

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => {
        body += c
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }))
    })
    req.on('error', reject)
    req.end()
  })
}

test('the endpoint serves the exposition at /metrics with the 0.0.4 content type; else 404/405/500', async (t) => {
  const { metrics } = setup()
  let fail = false
  const server = await MetricsServer.start(
    () => {
      if (fail) throw new Error('status unavailable')
      return metrics.slices()
    },
    { host: '127.0.0.1', port: 0 },
  )
  t.teardown(() => server.close())
  const ok = await get(server.port, '/metrics')
  t.is(ok.status, 200)
  t.is(ok.type, 'text/plain; version=0.0.4; charset=utf-8')
  t.is(sampleValue(parseExposition(ok.body), 'lvsd_vrrp_priority', { vrrp: 'web' }), 150)
  t.is((await get(server.port, '/')).status, 404)
  t.is((await get(server.port, '/metrics', 'POST')).status, 405)
  fail = true
  t.is((await get(server.port, '/metrics')).status, 500)
})

test('a large exposition goes out in slices, the event loop running between them; a client that leaves stops it', async (t) => {
  const loop = turnCounter()
  const piece = `${'#'.repeat(300 * 1024 - 1)}\n`
  const turns: number[] = []
  let finished = false
  const pieces = function* () {
    try {
      for (let i = 0; i < 12; i++) {
        turns.push(loop.turns)
        yield piece
      }
    } finally {
      finished = true
    }
  }
  const server = await MetricsServer.start(() => pieces(), { host: '127.0.0.1', port: 0 })
  const ok = await get(server.port, '/metrics')
  t.is(ok.status, 200)
  t.is(ok.body, piece.repeat(12), 'every piece, in order')
  t.is(new Set(turns).size, 12, `each piece made in a turn of its own (${turns.join(' ')})`)
  t.true(finished)

  // a client that reads the headers and goes: the rest is never made
  turns.length = 0
  finished = false
  await new Promise<void>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path: '/metrics' }, (res) => {
      res.once('data', () => {
        req.destroy()
        resolve()
      })
    })
    req.on('error', reject)
    req.end()
  })
  const until = Date.now() + 5000
  while (!finished && Date.now() < until) await new Promise((r) => setTimeout(r, 5))
  t.true(finished, 'the generator was closed')
  t.true(turns.length < 12, `stopped after ${turns.length} pieces`)
  loop.stop()
  await server.close()
})

test('a collector that yields runs over turns of the event loop before anything is sent; one that throws then is a 500', async (t) => {
  const r = new Registry()
  const g = r.gauge('g', 'G.', ['i'])
  const loop = turnCounter()
  t.teardown(() => loop.stop())
  const seen: number[] = []
  let failAt: number | undefined
  r.onCollect(function* () {
    g.reset()
    for (let i = 0; i < 5; i++) {
      if (i === failAt) throw new Error('status unavailable')
      g.set({ i: String(i) }, i)
      seen.push(loop.turns)
      yield
    }
  })
  const server = await MetricsServer.start(() => r.slices(), { host: '127.0.0.1', port: 0 })
  t.teardown(() => server.close())
  const ok = await get(server.port, '/metrics')
  t.is(ok.status, 200)
  t.is(new Set(seen).size, 5, `each part of the collection in a turn of its own (${seen.join(' ')})`)
  t.is(sampleValue(parseExposition(ok.body), 'g', { i: '4' }), 4)
  failAt = 3
  const failed = await get(server.port, '/metrics')
  t.is(failed.status, 500, 'nothing was sent before the collector threw')
  t.regex(failed.body, /^collecting metrics failed: status unavailable/)
  failAt = undefined
  t.is((await get(server.port, '/metrics')).status, 200, 'a failed collection does not hold the next scrape')
})

test('docs/metrics.md lists every metric with its type, and nothing else', (t) => {
  const { scrape } = setup()
  const rendered = [...scrape().values()].map((f) => `${f.name} ${f.type}`).sort()
  const doc = readFileSync(join(repoRoot, 'docs', 'metrics.md'), 'utf8')
  const documented = [...doc.matchAll(/^\| `([a-z_:]+)` +\| (\w+) +\|/gm)].map((m) => `${m[1]} ${m[2]}`).sort()
  t.deepEqual(documented, rendered)
})

test('with replay, events published before the metrics existed (a daemon’s start-up) are counted once', (t) => {
  const director = new FakeDirector({ status: exampleStatus() })
  const op = { op: 'add-dest', target: 'tcp/10.0.0.3/80 10.0.0.7:80', ok: true, ms: 0.2, cause: 'config' } as const
  director.events.publish('ipvs.op', op)
  director.events.publish('ipvs.op', op)
  const without = new LvsdMetrics(director)
  const replayed = new LvsdMetrics(director, { replay: true })
  director.events.publish('ipvs.op', op)
  const count = (m: LvsdMetrics) =>
    sampleValue(parseExposition(m.render()), 'lvsd_ipvs_operations_total', {
      op: 'add-dest',
      cause: 'config',
      result: 'ok',
    })
  t.is(count(without), 1)
  t.is(count(replayed), 3)
})
