// The control API over a real unix socket, against an in-memory director: routes, error replies with
// their HTTP statuses, socket mode/group, stale sockets, operator events.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { ControlClient } from '../../src/api/client.js'
import { ControlServer } from '../../src/api/server.js'
import { isLvsdError, type LvsdError } from '../../src/errors.js'
import type { AnyEvent } from '../../src/events.js'
import { AF_UNIX, SOCK_STREAM } from '../../src/sys/constants.js'
import { sockaddrUn } from '../../src/sys/sockaddr.js'
import { Socket } from '../../src/sys/socket.js'
import { exampleStatus, FakeDirector } from '../helpers/fake-director.js'

const details = (e: unknown): Record<string, unknown> => (e as LvsdError).details

interface Raw {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

function raw(socketPath: string, method: string, path: string, body?: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method, path }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => {
        text += c
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }))
    })
    req.on('error', reject)
    req.end(body)
  })
}

async function setup(
  t: { teardown(fn: () => void | Promise<void>): void },
  dir = mkdtempSync(join(tmpdir(), 'lvsd-api-')),
) {
  const director = new FakeDirector({ status: exampleStatus() })
  const path = join(dir, 'run', 'lvsd', 'lvsd.sock')
  const server = await ControlServer.start(director, { path })
  t.teardown(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return { director, path, server, client: new ControlClient(path), dir }
}

test('GET /v1/status answers the director status over a socket created with mode 0660 in a new directory', async (t) => {
  const { path, client, director } = await setup(t)
  t.is(statSync(path).mode & 0o777, 0o660)
  t.true(statSync(path).isSocket())
  t.deepEqual(await client.status(), director.getStatus())
  t.deepEqual(await client.config(), director.getConfig())
})

test('the socket is chowned to the configured group, resolved by name from the group file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-api-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const gid = process.getgid?.() ?? 0
  const groupFile = join(dir, 'group')
  writeFileSync(groupFile, `root:x:0:\nlvsd-ops:x:${gid}:alice,bob\n`)
  const path = join(dir, 'ctl.sock')
  const server = await ControlServer.start(new FakeDirector({ status: exampleStatus() }), {
    path,
    group: 'lvsd-ops',
    groupFile,
    mode: 0o600,
  })
  t.teardown(() => server.close())
  t.is(statSync(path).gid, gid)
  t.is(statSync(path).mode & 0o777, 0o600)
})

test('an unknown group fails startup with LVSD_API_SOCKET before a socket exists', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-api-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'group'), 'root:x:0:\n')
  const path = join(dir, 'ctl.sock')
  const err = await t.throwsAsync(
    ControlServer.start(new FakeDirector({ status: exampleStatus() }), {
      path,
      group: 'nope',
      groupFile: join(dir, 'group'),
    }),
  )
  t.true(isLvsdError(err, 'LVSD_API_SOCKET'))
  t.throws(() => statSync(path))
})

test('a leftover socket file is replaced; a live one or a regular file refuses startup', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-api-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'ctl.sock')
  // a live listener holds the path
  const other = createServer()
  await new Promise<void>((r) => other.listen(path, r))
  const live = await t.throwsAsync(ControlServer.start(new FakeDirector({ status: exampleStatus() }), { path }))
  t.true(isLvsdError(live, 'LVSD_API_SOCKET'))
  await new Promise<void>((r) => other.close(() => r()))
  // a crashed daemon leaves its socket file behind with nobody listening
  const leftover = Socket.open(AF_UNIX, SOCK_STREAM, 0)
  leftover.bind(sockaddrUn(path))
  leftover.close()
  t.true(statSync(path).isSocket())
  const server = await ControlServer.start(new FakeDirector({ status: exampleStatus() }), { path })
  t.teardown(() => server.close())
  t.is((await new ControlClient(path).status()).node, 'lb01')
  writeFileSync(join(dir, 'plain'), 'x')
  const plain = await t.throwsAsync(
    ControlServer.start(new FakeDirector({ status: exampleStatus() }), { path: join(dir, 'plain') }),
  )
  t.true(isLvsdError(plain, 'LVSD_API_SOCKET'))
})

/** This process, as SO_PEERCRED reports the client's end (the client runs here). */
const me = () => ({ pid: process.pid, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 })

test('drain, undrain and weight change the server and publish operator.action events', async (t) => {
  const { client, director } = await setup(t)
  const seen: AnyEvent[] = []
  director.events.subscribe('operator.action', (e) => seen.push(e))
  const drained = await client.drain('web', '10.0.0.7:80')
  t.is(drained.drained, true)
  t.is(drained.weight.effective, 0)
  const weighted = await client.setWeight('web', '10.0.0.7:80', 7)
  t.deepEqual(weighted.weight, { configured: 3, effective: 0, operator: 7 })
  const back = await client.undrain('web', '10.0.0.7:80')
  t.deepEqual(back.weight, { configured: 3, effective: 7, operator: 7 })
  const cleared = await client.setWeight('web', '10.0.0.7:80', null)
  t.deepEqual(cleared.weight, { configured: 3, effective: 3 })
  t.deepEqual(director.calls, [
    'drain web 10.0.0.7:80',
    'weight web 10.0.0.7:80 7',
    'undrain web 10.0.0.7:80',
    'weight web 10.0.0.7:80 null',
  ])
  t.deepEqual(
    seen.map((e) => e.data),
    [
      { action: 'drain', target: 'web 10.0.0.7:80', ok: true, peer: me() },
      { action: 'weight', target: 'web 10.0.0.7:80', ok: true, params: { weight: 7 }, peer: me() },
      { action: 'undrain', target: 'web 10.0.0.7:80', ok: true, peer: me() },
      { action: 'weight', target: 'web 10.0.0.7:80', ok: true, params: { weight: null }, peer: me() },
    ],
  )
})

test('an IPv6 real server is named [address]:port and matched by address bytes', async (t) => {
  const { client } = await setup(t)
  const r = await client.drain('dns6', '[2001:db8:0::a]:53')
  t.is(r.server, '[2001:db8::a]:53')
  t.true(r.drained)
})

const errors: [string, string, string, string | undefined, number, string, string | undefined][] = [
  [
    'unknown service',
    'POST',
    '/v1/services/nope/servers/10.0.0.7:80/drain',
    undefined,
    404,
    'LVSD_API_UNKNOWN_SERVICE',
    undefined,
  ],
  [
    'unknown server',
    'POST',
    '/v1/services/web/servers/10.0.0.9:80/drain',
    undefined,
    404,
    'LVSD_API_UNKNOWN_SERVER',
    undefined,
  ],
  [
    'server without port',
    'POST',
    '/v1/services/web/servers/10.0.0.7/drain',
    undefined,
    400,
    'LVSD_API_BAD_REQUEST',
    'server',
  ],
  [
    'IPv6 without brackets',
    'POST',
    '/v1/services/dns6/servers/2001:db8::a:53/drain',
    undefined,
    400,
    'LVSD_API_BAD_REQUEST',
    'server',
  ],
  [
    'weight missing',
    'POST',
    '/v1/services/web/servers/10.0.0.7:80/weight',
    '{}',
    400,
    'LVSD_API_BAD_REQUEST',
    'weight',
  ],
  [
    'weight too big',
    'POST',
    '/v1/services/web/servers/10.0.0.7:80/weight',
    '{"weight":65536}',
    400,
    'LVSD_API_BAD_REQUEST',
    'weight',
  ],
  [
    'weight as text',
    'POST',
    '/v1/services/web/servers/10.0.0.7:80/weight',
    '{"weight":"5"}',
    400,
    'LVSD_API_BAD_REQUEST',
    'weight',
  ],
  [
    'body not JSON',
    'POST',
    '/v1/services/web/servers/10.0.0.7:80/weight',
    '{weight',
    400,
    'LVSD_API_BAD_REQUEST',
    'body',
  ],
  ['unknown instance', 'POST', '/v1/instances/nope/release', undefined, 404, 'LVSD_API_UNKNOWN_INSTANCE', undefined],
  ['unknown route', 'GET', '/v1/nothing', undefined, 404, 'LVSD_API_NOT_FOUND', undefined],
  ['wrong method', 'GET', '/v1/reload', undefined, 405, 'LVSD_API_METHOD', undefined],
  ['bad after', 'GET', '/v1/events?after=-1', undefined, 400, 'LVSD_API_BAD_REQUEST', 'after'],
  ['bad event name', 'GET', '/v1/events?names=vrrp.nope', undefined, 400, 'LVSD_API_BAD_REQUEST', 'names'],
]

for (const [title, method, path, body, status, code, field] of errors) {
  test(`${title}: HTTP ${status} with {code: ${code}}`, async (t) => {
    const { path: sock } = await setup(t)
    const r = await raw(sock, method, path, body)
    t.is(r.status, status)
    t.regex(String(r.headers['content-type']), /^application\/json/)
    const j = JSON.parse(r.body) as { code: string; message: string; details: Record<string, unknown> }
    t.is(j.code, code)
    t.is(typeof j.message, 'string')
    if (field) t.is(j.details.field, field)
    if (status === 405) t.is(r.headers.allow, 'POST')
  })
}

test('the client raises the daemon error with its code and the HTTP status in details', async (t) => {
  const { client } = await setup(t)
  const err = await t.throwsAsync(client.drain('web', '10.0.0.9:80'))
  t.true(isLvsdError(err, 'LVSD_API_UNKNOWN_SERVER'))
  t.is(details(err).status, 404)
})

test('release and resume an instance; release in FAULT is a 409 conflict and a failed operator.action', async (t) => {
  const { client, director } = await setup(t)
  const seen: AnyEvent[] = []
  director.events.subscribe('operator.action', (e) => seen.push(e))
  const r = await client.release('web')
  t.is(r.released, true)
  t.is(r.effectivePriority, 0)
  t.is((await client.resume('web')).effectivePriority, 150)
  director.status.instances[1]!.state = 'FAULT'
  const err = await t.throwsAsync(client.release('db'))
  t.true(isLvsdError(err, 'LVSD_API_CONFLICT'))
  t.is(details(err).status, 409)
  t.deepEqual(seen.at(-1)?.data, {
    action: 'release',
    target: 'db',
    ok: false,
    error: { code: 'LVSD_API_CONFLICT', message: 'db is in FAULT' },
    peer: me(),
  })
})

test('reload: applied is 200 with the changes; refused is 422 LVSD_CONFIG_INVALID with the errors; concurrent is 409', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-api-'))
  let answer: (v: unknown) => void = () => {}
  const results = [
    { ok: true, config: exampleStatus().config, changes: { added: ['service:new'], removed: [], changed: [] } },
    {
      ok: false,
      config: exampleStatus().config,
      errors: [{ path: 'vrrp.instances[0].priority', message: 'must be 1–254', line: 4, col: 17 }],
      changes: { added: [], removed: [], changed: [] },
    },
  ]
  let n = 0
  const director = new FakeDirector({
    status: exampleStatus(),
    reload: async () => {
      const r = results[n++]
      if (r) return r
      await new Promise((resolve) => {
        answer = resolve
      })
      return results[0]!
    },
  })
  const path = join(dir, 'ctl.sock')
  const server = await ControlServer.start(director, { path })
  t.teardown(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const client = new ControlClient(path)
  t.deepEqual((await client.reload()).changes.added, ['service:new'])
  const refused = await t.throwsAsync(client.reload())
  t.true(isLvsdError(refused, 'LVSD_CONFIG_INVALID'))
  t.is(details(refused).status, 422)
  t.deepEqual(details(refused).errors, results[1]!.errors)
  const slow = client.reload()
  // the fake marks the first call as running before it awaits: the second one conflicts
  while (director.calls.length < 3) await new Promise((r) => setImmediate(r))
  const busy = await t.throwsAsync(client.reload())
  t.true(isLvsdError(busy, 'LVSD_API_CONFLICT'))
  answer(undefined)
  t.true((await slow).ok)
})

test('GET /v1/events replays the kept events after `after`, then follows live ones as NDJSON', async (t) => {
  const { client, director } = await setup(t)
  const bus = director.events
  bus.publish('daemon.state', { state: 'ready' })
  bus.publish('vrrp.transition', {
    instance: 'web',
    from: 'BACKUP',
    to: 'MASTER',
    why: 'master_down',
    at: 1,
    priority: 150,
  })
  bus.publish('health.transition', {
    service: 'web',
    server: '10.0.0.8:80',
    up: false,
    weight: 0,
    reason: 'timeout',
    latencyMs: 1000,
  })
  const ac = new AbortController()
  const got: AnyEvent[] = []
  const stream = client.events({ after: 1, signal: ac.signal })
  for await (const e of stream) {
    got.push(e)
    if (got.length === 2) bus.publish('quorum.change', { service: 'web', up: false, alive: 0, required: 1 })
    if (got.length === 3) ac.abort()
  }
  t.deepEqual(
    got.map((e) => [e.seq, e.name]),
    [
      [2, 'vrrp.transition'],
      [3, 'health.transition'],
      [4, 'quorum.change'],
    ],
  )
  t.deepEqual(got[2]?.data, { service: 'web', up: false, alive: 0, required: 1 })
})

test('follow=false returns only the replay; names filters by name and by prefix', async (t) => {
  const { client, director } = await setup(t)
  const bus = director.events
  bus.publish('daemon.state', { state: 'ready' })
  bus.publish('vrrp.drop', { instance: 'web', reason: 'ttl' })
  bus.publish('ipvs.op', { op: 'add-dest', target: 'tcp/10.0.0.3/80 10.0.0.7:80', ok: true, ms: 0.2, cause: 'config' })
  bus.publish('vrrp.advert_late', { instance: 'web', lateMs: 600 })
  const names = async (q: Parameters<ControlClient['events']>[0]) => {
    const out: string[] = []
    for await (const e of client.events(q)) out.push(e.name)
    return out
  }
  t.deepEqual(await names({ follow: false }), ['daemon.state', 'vrrp.drop', 'ipvs.op', 'vrrp.advert_late'])
  t.deepEqual(await names({ follow: false, names: ['vrrp.'] }), ['vrrp.drop', 'vrrp.advert_late'])
  t.deepEqual(await names({ follow: false, names: ['ipvs.op', 'daemon.state'] }), ['daemon.state', 'ipvs.op'])
})

test('closing the server ends live event streams and removes the socket', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-api-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const path = join(dir, 'ctl.sock')
  const director = new FakeDirector({ status: exampleStatus() })
  const server = await ControlServer.start(director, { path })
  director.events.publish('daemon.state', { state: 'ready' })
  const client = new ControlClient(path)
  const got: string[] = []
  for await (const e of client.events()) {
    got.push(e.name)
    await server.close()
  }
  t.deepEqual(got, ['daemon.state'])
  t.throws(() => statSync(path))
})

test('a client without a daemon gets LVSD_API_UNREACHABLE naming the path', async (t) => {
  const path = join(tmpdir(), `lvsd-none-${process.pid}.sock`)
  const err = await t.throwsAsync(new ControlClient(path).status())
  t.true(isLvsdError(err, 'LVSD_API_UNREACHABLE'))
  t.is(details(err).path, path)
})
