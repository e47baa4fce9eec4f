// lvsctl's control commands against a daemon's socket (in-memory director): what they print, what they
// ask the director for, and how usage errors and refusals come out.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import test from 'ava'
import { ControlServer } from '../../src/api/server.js'
import type { ReloadResult } from '../../src/api/types.js'
import { type ControlCommand, controlCommand } from '../../src/cli/lvsctl-commands.js'
import { exampleStatus, FakeDirector } from '../helpers/fake-director.js'

function sink() {
  const stream = new PassThrough()
  let text = ''
  stream.on('data', (c: Buffer) => {
    text += c.toString()
  })
  return { stream, text: () => text }
}

async function daemon(t: { teardown(fn: () => void | Promise<void>): void }, reload?: () => ReloadResult) {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-cmd-'))
  const socketPath = join(dir, 'ctl.sock')
  const director = new FakeDirector({ status: exampleStatus(), ...(reload ? { reload } : {}) })
  const server = await ControlServer.start(director, { path: socketPath })
  t.teardown(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const run = async (command: ControlCommand, ...args: string[]) => {
    const out = sink()
    const err = sink()
    const r = await controlCommand(command, args, { socketPath, stdout: out.stream, stderr: err.stream })
    return { r, out: out.text(), err: err.text() }
  }
  return { director, run, socketPath }
}

test('drain, weight, undrain and weight none print the server line and reach the director', async (t) => {
  const { director, run } = await daemon(t)
  t.deepEqual(await run('drain', 'web', '10.0.0.7:80'), {
    r: 'ok',
    out: 'web 10.0.0.7:80: up, drained, weight 0 (configured 3)\n',
    err: '',
  })
  t.is(
    (await run('weight', 'web', '10.0.0.7:80', '9')).out,
    'web 10.0.0.7:80: up, drained, weight 0 (configured 3, operator weight 9)\n',
  )
  t.is(
    (await run('undrain', 'web', '10.0.0.7:80')).out,
    'web 10.0.0.7:80: up, weight 9 (configured 3, operator weight 9)\n',
  )
  t.is((await run('weight', 'web', '10.0.0.7:80', 'none')).out, 'web 10.0.0.7:80: up, weight 3 (configured 3)\n')
  t.deepEqual(director.calls, [
    'drain web 10.0.0.7:80',
    'weight web 10.0.0.7:80 9',
    'undrain web 10.0.0.7:80',
    'weight web 10.0.0.7:80 null',
  ])
})

test('release and resume print the instance; --json prints the reply object', async (t) => {
  const { run } = await daemon(t)
  t.is((await run('release', 'web')).out, 'web: MASTER (released), priority 150, effective 0\n')
  const j = await run('resume', 'web', '--json')
  t.like(JSON.parse(j.out), { name: 'web', released: false, effectivePriority: 150 })
})

test('reload prints the change count; a refused reload lists every configuration error and fails', async (t) => {
  let ok = true
  const config = exampleStatus().config
  const { run } = await daemon(t, () =>
    ok
      ? { ok: true, config, changes: { added: ['service:new'], removed: [], changed: ['server:web/10.0.0.7:80'] } }
      : {
          ok: false,
          config,
          errors: [{ path: 'virtual_services[0].port', message: 'must be 0–65535', line: 12, col: 11 }],
          changes: { added: [], removed: [], changed: [] },
        },
  )
  t.is((await run('reload')).out, 'reloaded /etc/lvsd/lvsd.yaml (sha256 abababababab): 2 change(s)\n')
  ok = false
  const bad = await run('reload')
  t.is(bad.r, 'failure')
  t.regex(bad.err, /^lvsctl reload: LVSD_CONFIG_INVALID: /)
  t.regex(bad.err, /\n {2}\/etc\/lvsd\/lvsd\.yaml:12:11 virtual_services\[0\]\.port: must be 0–65535\n$/)
})

test('events --no-follow prints the kept events as NDJSON, filtered by --names and --after', async (t) => {
  const { director, run } = await daemon(t)
  director.events.publish('daemon.state', { state: 'ready' })
  director.events.publish('vrrp.drop', { instance: 'web', reason: 'ttl' })
  director.events.publish('vrrp.drop', { instance: 'web', reason: 'auth' })
  const r = await run('events', '--no-follow', '--names', 'vrrp.', '--after', '2')
  t.is(r.r, 'ok')
  const lines = r.out
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { seq: number; data: { reason: string } })
  t.deepEqual(
    lines.map((e) => [e.seq, e.data.reason]),
    [[3, 'auth']],
  )
})

test('events follows live events until the signal aborts it, then succeeds', async (t) => {
  const { director, socketPath } = await daemon(t)
  const ac = new AbortController()
  const out = new PassThrough()
  const seqs: number[] = []
  out.on('data', (c: Buffer) => {
    for (const l of c.toString().trimEnd().split('\n')) seqs.push((JSON.parse(l) as { seq: number }).seq)
    if (seqs.length === 1) director.events.publish('vrrp.drop', { instance: 'web', reason: 'ttl' })
    else ac.abort()
  })
  director.events.publish('daemon.state', { state: 'ready' })
  const r = await controlCommand('events', [], { socketPath, stdout: out, signal: ac.signal })
  t.is(r, 'ok')
  t.deepEqual(seqs, [1, 2])
})

const usage: [ControlCommand, string[]][] = [
  ['drain', ['web']],
  ['weight', ['web', '10.0.0.7:80', 'heavy']],
  ['weight', ['web', '10.0.0.7:80', '-1']],
  ['release', []],
  ['reload', ['--names', 'vrrp.']],
  ['events', ['--after', 'x']],
  ['drain', ['web', '10.0.0.7:80', '--bogus']],
]

for (const [command, args] of usage) {
  test(`usage error: lvsctl ${command} ${args.join(' ')}`, async (t) => {
    const { director, run } = await daemon(t)
    const r = await run(command, ...args)
    t.is(r.r, 'usage')
    t.regex(r.err, /Usage:/)
    t.deepEqual(director.calls, [])
  })
}

test('an unknown server is a failure naming the code, with nothing changed', async (t) => {
  const { director, run } = await daemon(t)
  const r = await run('drain', 'web', '10.0.0.99:80')
  t.is(r.r, 'failure')
  t.is(r.err, 'lvsctl drain: LVSD_API_UNKNOWN_SERVER: no such server in web\n')
  t.false(director.getStatus().services[0]!.servers.some((s) => s.drained))
})
