// The operations surface as the daemon starts it from its configuration: control socket, metrics over
// TCP only when enabled, every event logged as one structured line at its level.
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import test from 'ava'
import { ControlClient } from '../../src/api/client.js'
import { DEBUG_ONLY, logEvents, logLine } from '../../src/api/event-log.js'
import { startApi } from '../../src/api/start.js'
import { isLvsdError } from '../../src/errors.js'
import { type AnyEvent, EVENT_NAMES, type EventName, type EventPayloads } from '../../src/events.js'
import { createLogger } from '../../src/log.js'
import { parseAddr } from '../../src/net/addr.js'
import { exampleStatus, FakeDirector } from '../helpers/fake-director.js'

function sink() {
  const stream = new PassThrough()
  const chunks: string[] = []
  stream.on('data', (c: Buffer) => chunks.push(c.toString('utf8')))
  return {
    stream,
    records: () =>
      chunks
        .join('')
        .trimEnd()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  }
}

function scrape(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => {
        body += c
      })
      res.on('end', () => resolve(body))
    })
    req.on('error', reject)
    req.end()
  })
}

test('startApi serves the control socket and, when enabled, /metrics; close removes both', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-start-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const socket = join(dir, 'lvsd', 'lvsd.sock')
  const director = new FakeDirector({ status: exampleStatus() })
  const out = sink()
  const api = await startApi(
    director,
    {
      control: { socket, mode: 0o660, group: undefined },
      metrics: { enabled: true, address: parseAddr('127.0.0.1'), port: 0 },
    },
    { log: createLogger({ destination: out.stream, level: 'debug' }) },
  )
  t.is((await new ControlClient(socket).status()).node, 'lb01')
  const port = api.metricsServer?.port ?? 0
  t.regex(await scrape(port), /^lvsd_vrrp_state\{vrrp="web",state="MASTER"\} 1$/m)
  await api.close()
  t.throws(() => statSync(socket))
  await t.throwsAsync(scrape(port))
  t.like(out.records()[0], { msg: 'control API listening', socket, metrics: `127.0.0.1:${port}` })
})

test('metrics disabled: no TCP listener, but the counters still count for a later scrape', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-start-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const director = new FakeDirector({ status: exampleStatus() })
  const api = await startApi(director, {
    control: { socket: join(dir, 'ctl.sock'), mode: 0o660, group: undefined },
    metrics: { enabled: false, address: parseAddr('127.0.0.1'), port: 9478 },
  })
  t.teardown(() => api.close())
  t.is(api.metricsServer, undefined)
  director.events.publish('operator.action', { action: 'reload', target: 'config', ok: true })
  t.regex(api.metrics.render(), /^lvsd_operator_actions_total\{action="reload",result="ok"\} 1$/m)
})

test('a bad control group fails startApi with LVSD_API_SOCKET and leaves nothing listening', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-start-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const err = await t.throwsAsync(
    startApi(
      new FakeDirector({ status: exampleStatus() }),
      {
        control: { socket: join(dir, 'ctl.sock'), mode: 0o660, group: 'no-such-group' },
        metrics: { enabled: false, address: parseAddr('127.0.0.1'), port: 9478 },
      },
      { groupFile: join(dir, 'missing-group-file') },
    ),
  )
  t.true(isLvsdError(err, 'LVSD_API_SOCKET'))
  t.throws(() => statSync(join(dir, 'ctl.sock')))
})

const samples: { [K in EventName]: [EventPayloads[K], string] } = {
  'daemon.state': [{ state: 'ready' }, 'info'],
  'vrrp.transition': [
    { instance: 'web', from: 'BACKUP', to: 'MASTER', why: 'master_down', at: 5, priority: 150 },
    'info',
  ],
  'vrrp.priority': [{ instance: 'web', configured: 150, effective: 0, source: 'release' }, 'info'],
  'vrrp.advert_late': [{ instance: 'web', lateMs: 700 }, 'warn'],
  'vrrp.drop': [{ instance: 'web', reason: 'ttl' }, 'debug'],
  'health.result': [
    { service: 'web', server: '10.0.0.8:80', check: 'tcp', ok: false, ms: 1000, code: 'timeout' },
    'debug',
  ],
  'health.transition': [
    { service: 'web', server: '10.0.0.8:80', up: false, weight: 0, reason: 'timeout', latencyMs: 1000 },
    'warn',
  ],
  'quorum.change': [{ service: 'web', up: false, alive: 0, required: 1 }, 'warn'],
  'ipvs.op': [
    {
      op: 'add-dest',
      target: 'tcp/10.0.0.3/80 10.0.0.9:80',
      ok: false,
      error: { code: 'LVSD_NL_KERNEL', message: 'EEXIST' },
      ms: 0.1,
      cause: 'drift',
    },
    'error',
  ],
  'ipvs.drift': [{ target: 'tcp/10.0.0.3/80 10.0.0.9:80', kind: 'missing', repaired: true }, 'warn'],
  'config.reload': [
    { ok: true, source: '/etc/lvsd/lvsd.yaml', hash: 'h', changes: { added: [], removed: [], changed: [] }, ms: 3 },
    'info',
  ],
  'operator.action': [{ action: 'drain', target: 'web 10.0.0.7:80', ok: true }, 'info'],
  'peer.channel': [{ state: 'down', peer: 'lb02', address: '10.0.0.2' }, 'warn'],
  'peer.drop': [{ reason: 'auth', source: '10.0.0.66' }, 'warn'],
  'peer.operator': [{ key: 'drain:web/10.0.0.7:80', value: true, node: 'lb02', version: 5 }, 'info'],
  'peer.drift': [{ peer: 'lb02', differs: [{ key: 'service:web', kind: 'differs' }] }, 'warn'],
  'peer.health': [{ service: 'web', server: '10.0.0.7:80', here: 'up', peer: 'down', disagree: true }, 'warn'],
  'peer.conns': [{ service: 'web', here: 3, master: 400, lagging: true }, 'warn'],
  'program.failed': [
    { role: 'notify', owner: 'web', program: '/usr/local/bin/n', reason: 'spawn', detail: 'could not start: EMFILE' },
    'debug',
  ],
}

test('every event has a log line: its level, the event name and seq, the payload without undefined fields', (t) => {
  let seq = 0
  for (const name of EVENT_NAMES) {
    const [data, level] = samples[name]
    const e = { seq: ++seq, at: 0, name, data } as AnyEvent
    const [lvl, fields, msg] = logLine(e)
    t.is(lvl as string, level, name)
    // an event skipped unless debug is on must never have a line at another level
    if (DEBUG_ONLY.has(name)) t.is(lvl, 'debug', `${name} is skipped below debug`)
    t.like(fields, { event: name, seq })
    t.false(Object.values(fields).includes(undefined), name)
    t.true(msg.length > 0)
  }
  t.deepEqual(logLine({ seq: 1, at: 0, name: 'vrrp.transition', data: samples['vrrp.transition'][0] }), [
    'info',
    {
      event: 'vrrp.transition',
      seq: 1,
      vrrp: 'web',
      from: 'BACKUP',
      to: 'MASTER',
      why: 'master_down',
      priority: 150,
      at: 5,
    },
    'web: BACKUP -> MASTER (master_down)',
  ])
})

test('logged events come out as pino records through the configured logger', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-start-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const out = sink()
  const director = new FakeDirector({ status: exampleStatus() })
  const api = await startApi(
    director,
    {
      control: { socket: join(dir, 'ctl.sock'), mode: 0o660, group: undefined },
      metrics: { enabled: false, address: parseAddr('127.0.0.1'), port: 9478 },
    },
    { log: createLogger({ destination: out.stream, level: 'info' }) },
  )
  t.teardown(() => api.close())
  director.events.publish('health.result', samples['health.result'][0])
  director.events.publish('quorum.change', samples['quorum.change'][0])
  const recs = out.records().filter((r) => r.event !== undefined)
  t.is(recs.length, 1, 'the debug-level health.result is below the level')
  t.like(recs[0], { level: 40, event: 'quorum.change', service: 'web', up: false, msg: 'web: quorum lost (0/1)' })
})

test('at level debug, the events skipped below it are logged', async (t) => {
  const out = sink()
  const bus = new FakeDirector({ status: exampleStatus() }).events
  const stop = logEvents(bus, createLogger({ destination: out.stream, level: 'debug' }))
  t.teardown(stop)
  bus.publish('health.result', samples['health.result'][0])
  bus.publish('vrrp.drop', samples['vrrp.drop'][0])
  t.deepEqual(
    out
      .records()
      .filter((r) => r.event !== undefined)
      .map((r) => [r.level, r.event]),
    [
      [20, 'health.result'],
      [20, 'vrrp.drop'],
    ],
  )
})
