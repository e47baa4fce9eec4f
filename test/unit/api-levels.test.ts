// The control API's two levels (HAProxy's stats-socket levels): the admin socket serves every route,
// the read-only one beside it serves status, events and doctor and answers 403 LVSD_API_FORBIDDEN to
// the rest; every operator action, refused or not, is logged with the peer's uid and pid (SO_PEERCRED).
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import test from 'ava'
import { ControlClient } from '../../src/api/client.js'
import { readOnlyPath } from '../../src/api/server.js'
import { startApi } from '../../src/api/start.js'
import { isLvsdError, type LvsdError } from '../../src/errors.js'
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
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  }
}

async function setup(t: { teardown(fn: () => void | Promise<void>): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-levels-'))
  const socket = join(dir, 'lvsd.sock')
  const director = new FakeDirector({ status: exampleStatus() })
  const out = sink()
  const api = await startApi(
    director,
    {
      control: {
        socket,
        mode: 0o660,
        group: undefined,
        read_only: { enabled: true, socket: undefined, mode: 0o666, group: undefined },
      },
      metrics: { enabled: false, address: parseAddr('127.0.0.1'), port: 0 },
    },
    { log: createLogger({ destination: out.stream, level: 'debug' }) },
  )
  t.teardown(async () => {
    await api.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const ro = new ControlClient(readOnlyPath(socket), { readOnlyPath: '' })
  return { director, socket, out, api, admin: new ControlClient(socket), ro }
}

test('the read-only socket sits beside the admin one with mode 0666', async (t) => {
  const { socket } = await setup(t)
  t.is(readOnlyPath('/run/lvsd/lvsd.sock'), '/run/lvsd/lvsd-ro.sock')
  t.is(statSync(readOnlyPath(socket)).mode & 0o777, 0o666)
  t.is(statSync(socket).mode & 0o777, 0o660)
})

test('read-only: status, events and doctor answer; drain, weight, release, resume, reload and config are 403', async (t) => {
  const { ro, director } = await setup(t)
  t.is((await ro.status()).node, 'lb01')
  director.events.publish('daemon.state', { state: 'ready' })
  const names: string[] = []
  for await (const e of ro.events({ follow: false })) names.push(e.name)
  t.true(names.includes('daemon.state'))
  const refused = [
    () => ro.drain('web', '10.0.0.7:80'),
    () => ro.undrain('web', '10.0.0.7:80'),
    () => ro.setWeight('web', '10.0.0.7:80', 0),
    () => ro.release('web'),
    () => ro.resume('web'),
    () => ro.reload(),
    () => ro.config(),
  ]
  for (const call of refused) {
    const err = await t.throwsAsync(call())
    t.true(isLvsdError(err, 'LVSD_API_FORBIDDEN'), String(err))
    t.is((err as LvsdError).details.status, 403)
  }
  t.deepEqual(director.calls, [], 'nothing reached the director')
})

test('every admin action is logged with the peer’s uid and pid, a refused one too', async (t) => {
  const { admin, ro, out } = await setup(t)
  await admin.drain('web', '10.0.0.7:80')
  await t.throwsAsync(ro.drain('web', '10.0.0.7:80'))
  const uid = process.getuid?.() ?? 0
  const actions = out.records().filter((r) => r.event === 'operator.action')
  t.is(actions.length, 2)
  t.like(actions[0], { action: 'drain', ok: true, peer: { uid, pid: process.pid } })
  t.is(actions[0]?.msg, `operator drain web 10.0.0.7:80 by uid ${uid} pid ${process.pid}`)
  t.like(actions[1], {
    action: 'drain',
    ok: false,
    peer: { uid, pid: process.pid },
    err: { code: 'LVSD_API_FORBIDDEN' },
  })
  t.regex(String(actions[1]?.msg), new RegExp(`by uid ${uid} pid ${process.pid}: LVSD_API_FORBIDDEN$`))
})
