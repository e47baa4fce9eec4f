// The director's wiring against the fake IPVS kernel, with real file checks (a file holding the weight is
// a health check that needs no network): health → weights in the table, inhibit_on_failure, quorum and
// the sorry server, drain and operator weights, a reload that sends exactly the changed operation, and a
// refused reload that changes nothing. The real kernel and VRRP are proven in the VM tier (director-*.test.ts).
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import { LvsdError } from '../../src/errors.js'
import type { AnyEvent } from '../../src/events.js'
import { IpvsClient } from '../../src/ipvs/client.js'
import { defaultService, destId } from '../../src/ipvs/model.js'
import { parseAddr } from '../../src/net/addr.js'
import { fakeIpvs } from '../fixtures/ipvs/fake-ipvs.js'
import { startDirector } from '../helpers/director.js'
import { fakeClient } from '../helpers/fake-kernel.js'
import { until } from '../helpers/until.js'

const yaml = (
  dir: string,
  over: {
    weight7?: number
    inhibit?: boolean
    sorry?: boolean
    quorum?: number
    hysteresis?: number
    programs?: boolean
    flush?: boolean
  } = {},
) => `
node: lb-test
control: { socket: ${join(dir, 'lvsd.sock')} }
ipvs: { on_shutdown: ${over.flush ? 'flush' : 'keep'} }
virtual_services:
  - name: web
    address: 10.0.0.3
    port: 80
    scheduler: wrr
    quorum: ${over.quorum ?? 1}
    hysteresis: ${over.hysteresis ?? 0}
${over.programs ? `    quorum_up: [${join(dir, 'bin', 'q')}, up]\n    quorum_down: [${join(dir, 'bin', 'q')}, down]\n` : ''}    inhibit_on_failure: ${over.inhibit ?? false}
${over.sorry ? '    sorry_server: { address: 10.0.0.9 }\n' : ''}    real_servers:
      - address: 10.0.0.7
        weight: ${over.weight7 ?? 1}
        checks: [{ type: file, path: ${join(dir, 'w7')}, interval: 500ms, timeout: 400ms, rise: 1, fall: 1 }]
      - address: 10.0.0.8
        weight: 2
        checks: [{ type: file, path: ${join(dir, 'w8')}, interval: 500ms, timeout: 400ms, rise: 1, fall: 1 }]
`

/** A director on the configuration in `file`, quiet, without the drift loop. */

async function setup(t: ExecutionContext, over: Parameters<typeof yaml>[1] = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-director-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'w7'), '1\n')
  writeFileSync(join(dir, 'w8'), '2\n')
  // the quorum program appends its argument to a log the program's user can write
  mkdirSync(join(dir, 'bin'))
  mkdirSync(join(dir, 'spool'), { mode: 0o777 })
  chmodSync(join(dir, 'spool'), 0o777)
  chmodSync(dir, 0o755)
  writeFileSync(join(dir, 'bin', 'q'), `#!/bin/sh\necho "$1" >> ${join(dir, 'spool', 'quorum.log')}\n`, { mode: 0o755 })
  const file = join(dir, 'lvsd.yaml')
  writeFileSync(file, yaml(dir, over))
  const { fake, nl } = fakeIpvs()
  const d = await startDirector(file, () => IpvsClient.open(nl))
  t.teardown(() => d.stop('test end'))
  const events: AnyEvent[] = []
  d.events.subscribeAll((e) => events.push(e))
  const dests = () => {
    const s = [...fake.services.values()][0]
    return new Map((s?.dests ?? []).map((x) => [destId(x), x.weight] as const).sort(([a], [b]) => a.localeCompare(b)))
  }
  return { dir, file, fake, d, events, dests }
}

test.serial(
  'start programs the configured table; a failing check removes the server, recovery adds it back',
  async (t) => {
    const { dir, d, dests, events } = await setup(t)
    t.deepEqual(
      dests(),
      new Map([
        ['10.0.0.7/80', 1],
        ['10.0.0.8/80', 2],
      ]),
    )
    writeFileSync(join(dir, 'w7'), '-1\n')
    await until(() => !dests().has('10.0.0.7/80'))
    t.deepEqual(dests(), new Map([['10.0.0.8/80', 2]]))
    const down = events.find((e) => e.name === 'health.transition')
    t.like(down?.data, { service: 'web', server: '10.0.0.7:80', up: false, weight: 0 })
    t.like(d.getStatus().services[0]?.servers[0], { server: '10.0.0.7:80', health: 'down', weight: { effective: 0 } })
    writeFileSync(join(dir, 'w7'), '1\n')
    await until(() => dests().get('10.0.0.7/80') === 1)
    t.like(d.getStatus().services[0]?.servers[0], { health: 'up', weight: { effective: 1, configured: 1 } })
    const ops = events
      .filter((e) => e.name === 'ipvs.op')
      .map((e) => e.name === 'ipvs.op' && `${e.data.cause} ${e.data.op}`)
    t.deepEqual(ops, ['health del-dest', 'health add-dest'])
    // the scheduler's counters reach the metrics through the director
    const ck = d.checks
    t.truthy(ck)
    // at least 10.0.0.7's failing check and its recovering one (how many more ran depends on timing)
    t.true(Number(ck?.completed) >= 2, `completed ${ck?.completed}`)
  },
)

test.serial('inhibit_on_failure keeps a failed server at weight 0', async (t) => {
  const { dir, dests } = await setup(t, { inhibit: true })
  writeFileSync(join(dir, 'w8'), '-1\n')
  await until(() => dests().get('10.0.0.8/80') === 0)
  t.deepEqual(
    dests(),
    new Map([
      ['10.0.0.7/80', 1],
      ['10.0.0.8/80', 0],
    ]),
  )
})

test.serial(
  'losing quorum puts the sorry server in place of the real servers, regaining it restores them',
  async (t) => {
    const { dir, d, dests, events } = await setup(t, { sorry: true, quorum: 2 })
    writeFileSync(join(dir, 'w8'), '-1\n')
    await until(() => dests().has('10.0.0.9/80'))
    t.deepEqual(dests(), new Map([['10.0.0.9/80', 1]]))
    t.like(d.getStatus().services[0]?.quorum, { up: false, alive: 1, required: 2 })
    t.like(events.find((e) => e.name === 'quorum.change')?.data, { service: 'web', up: false, alive: 1, required: 2 })
    writeFileSync(join(dir, 'w8'), '2\n')
    await until(() => dests().get('10.0.0.8/80') === 2)
    t.deepEqual(
      dests(),
      new Map([
        ['10.0.0.7/80', 1],
        ['10.0.0.8/80', 2],
      ]),
    )
  },
)

test.serial(
  'hysteresis holds quorum inside the band; quorum_down and quorum_up run once per change, in order',
  async (t) => {
    // quorum 3 ± 1: both servers up (1 + 2 = 3) start with quorum
    const { dir, d, events } = await setup(t, { quorum: 3, hysteresis: 1, programs: true })
    const log = join(dir, 'spool', 'quorum.log')
    const changes = () =>
      events.filter((e) => e.name === 'quorum.change').map((e) => e.name === 'quorum.change' && e.data.up)
    // w8 at weight 1: alive 2 = quorum − hysteresis, kept
    writeFileSync(join(dir, 'w8'), '1\n')
    await until(() => d.getStatus().services[0]?.quorum?.alive === 2)
    t.like(d.getStatus().services[0]?.quorum, { up: true })
    // w8 down: alive 1 < 2, lost
    writeFileSync(join(dir, 'w8'), '-1\n')
    await until(() => d.getStatus().services[0]?.quorum?.up === false)
    await until(() => existsSync(log) && readFileSync(log, 'utf8') === 'down\n')
    // back at weight 2: alive 3 < quorum + hysteresis (4), still down
    writeFileSync(join(dir, 'w8'), '2\n')
    await until(() => d.getStatus().services[0]?.quorum?.alive === 3)
    t.like(d.getStatus().services[0]?.quorum, { up: false })
    // weight 3: alive 4, regained
    writeFileSync(join(dir, 'w8'), '3\n')
    await until(() => d.getStatus().services[0]?.quorum?.up === true)
    await until(() => readFileSync(log, 'utf8') === 'down\nup\n')
    t.deepEqual(changes(), [false, true])
  },
)

test.serial('drain sets weight 0 and keeps checking; undrain and an operator weight follow', async (t) => {
  const { d, dests } = await setup(t)
  const ref = { service: 'web', addr: parseAddr('10.0.0.8'), port: 80 }
  const drained = await d.drain(ref)
  t.like(drained, { drained: true, health: 'up', weight: { effective: 0 } })
  t.is(dests().get('10.0.0.8/80'), 0)
  await d.undrain(ref)
  t.is(dests().get('10.0.0.8/80'), 2)
  // the file check's dynamic weight (2) wins over the configured weight; an operator weight replaces the configured one
  const ref7 = { service: 'web', addr: parseAddr('10.0.0.7'), port: 80 }
  await t.throwsAsync(d.setWeight({ ...ref7, port: 81 }, 3), { message: /no such real server/ })
  await t.throwsAsync(d.drain({ ...ref7, service: 'nope' }), { message: /no service nope/ })
})

test.serial(
  'a reload with one changed weight sends exactly one operation; an invalid file changes nothing',
  async (t) => {
    const { dir, file, d, events } = await setup(t)
    // servers without a dynamic weight: unchecked ones take the configured weight as is
    writeFileSync(file, yaml(dir, { weight7: 1 }).replace(/checks: \[\{ type: file, path: [^\n]*w7[^\n]*\n/, '\n'))
    await d.reload()
    events.length = 0
    writeFileSync(file, yaml(dir, { weight7: 5 }).replace(/checks: \[\{ type: file, path: [^\n]*w7[^\n]*\n/, '\n'))
    const r = await d.reload()
    t.true(r.ok)
    t.deepEqual(r.changes, { added: [], removed: [], changed: ['server:web/10.0.0.7:80'] })
    const ops = events.filter((e) => e.name === 'ipvs.op')
    t.is(ops.length, 1)
    t.like(ops[0]?.data, { op: 'edit-dest', ok: true, cause: 'config' })
    // the checked server kept its health state across the reload: no transition, still up
    t.is(events.filter((e) => e.name === 'health.transition').length, 0)
    t.like(d.getStatus().services[0]?.servers[1], { server: '10.0.0.8:80', health: 'up' })

    const hash = d.getConfig().hash
    const text = `${yaml(dir)}bogus: 1\n`
    writeFileSync(file, text)
    events.length = 0
    const bad = await d.reload()
    t.false(bad.ok)
    t.regex(JSON.stringify(bad.errors), /bogus/)
    t.is(bad.errors?.[0]?.line, text.split('\n').indexOf('bogus: 1') + 1)
    t.is(d.getConfig().hash, hash)
    t.is(events.filter((e) => e.name === 'ipvs.op').length, 0)
    t.like(events.find((e) => e.name === 'config.reload')?.data, { ok: false })
  },
)

test.serial('status reports services, servers and kernel counters after a refresh', async (t) => {
  const { d } = await setup(t)
  await d.refresh()
  const s = d.getStatus()
  t.is(s.node, 'lb-test')
  const svc = s.services[0]
  t.like(svc, { name: 'web', key: 'tcp/10.0.0.3/80', address: '10.0.0.3:80', scheduler: 'wrr', active: true })
  t.is(svc?.kernel?.conns, 5)
  t.like(svc?.servers[1], { server: '10.0.0.8:80', health: 'up', kernel: { activeConns: 2, inactiveConns: 1 } })
})

test.serial('stop keeps lvsd’s services by default and removes only them with on_shutdown: flush', async (t) => {
  for (const flush of [false, true]) {
    const { d, fake } = await setup(t, { flush })
    const other = { protocol: 'tcp', addr: parseAddr('10.0.0.4'), port: 80 } as const
    fake.services.set('tcp/10.0.0.4/80', { svc: defaultService(other, 'rr'), dests: [] })
    await d.stop('test')
    t.deepEqual([...fake.services.keys()].sort(), flush ? ['tcp/10.0.0.4/80'] : ['tcp/10.0.0.3/80', 'tcp/10.0.0.4/80'])
  }
})

test.serial(
  'a restarted director removes a service an earlier run created and its new config dropped, and nothing else',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsd-owned-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const ownedFile = join(dir, 'lvsd.owned-services.json')
    const { fake } = fakeIpvs()
    const other = { protocol: 'tcp', addr: parseAddr('10.0.0.4'), port: 80 } as const
    fake.services.set('tcp/10.0.0.4/80', { svc: defaultService(other, 'rr'), dests: [] })
    const service = (port: number) =>
      `  - { name: s${port}, address: 10.0.0.3, port: ${port}, scheduler: rr, real_servers: [{ address: 10.0.0.7 }] }\n`
    const run = async (ports: number[]) => {
      const file = join(dir, 'lvsd.yaml')
      writeFileSync(file, `node: t\nvirtual_services:\n${ports.map(service).join('')}`)
      // a new socket per run, on the same kernel: stop() closes the client
      const d = await startDirector(file, () => IpvsClient.open(fakeClient(fake.handle).client), { ownedFile })
      await d.stop('restart')
      return [...fake.services.keys()].sort()
    }
    t.deepEqual(await run([80, 81]), ['tcp/10.0.0.3/80', 'tcp/10.0.0.3/81', 'tcp/10.0.0.4/80'])
    t.deepEqual(await run([80]), ['tcp/10.0.0.3/80', 'tcp/10.0.0.4/80'])
  },
)

test.serial(
  'after stop the drift loop no longer reads the kernel (a daemon with timers left would never exit)',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsd-stop-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const file = join(dir, 'lvsd.yaml')
    writeFileSync(file, 'node: t\nvirtual_services:\n  - { name: s, address: 10.0.0.3, port: 80, scheduler: rr }\n')
    const { fake, nl } = fakeIpvs()
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length
    const before = timers()
    const d = await startDirector(file, () => IpvsClient.open(nl), { driftIntervalMs: 20 })
    await until(() => fake.log.filter((c) => c === 'GET_SERVICE').length >= 3, 5000)
    t.true(timers() > before, 'the drift loop holds a timer while running')
    await d.stop('test')
    await until(() => timers() === before, 2000, 'the drift loop to release its timer')
    t.is(timers(), before)
  },
)

test.serial(
  'a director started without services connects no IPVS; a reload that adds one programs and checks it',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsd-director-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    writeFileSync(join(dir, 'w7'), '1\n')
    writeFileSync(join(dir, 'w8'), '2\n')
    const file = join(dir, 'lvsd.yaml')
    writeFileSync(file, `node: lb-test\ncontrol: { socket: ${join(dir, 'lvsd.sock')} }\n`)
    const { fake, nl } = fakeIpvs()
    let connects = 0
    const d = await startDirector(file, () => {
      connects++
      return IpvsClient.open(nl)
    })
    t.teardown(() => d.stop('test end'))
    t.is(connects, 0)
    t.deepEqual(d.getStatus().services, [])
    writeFileSync(file, yaml(dir))
    const r = await d.reload()
    t.true(r.ok)
    t.is(connects, 1)
    const dests = () => [...fake.services.values()][0]?.dests.map((x) => `${destId(x)} ${x.weight}`).sort()
    t.deepEqual(dests(), ['10.0.0.7/80 1', '10.0.0.8/80 2'])
    writeFileSync(join(dir, 'w8'), '-1\n')
    await until(() => dests()?.length === 1)
    t.like(d.getStatus().services[0]?.servers[1], { server: '10.0.0.8:80', health: 'down' })
  },
)

test.serial(
  'a reload adding the first service on a kernel without IPVS is refused whole: old config kept, READY again',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'lvsd-director-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    writeFileSync(join(dir, 'w7'), '1\n')
    writeFileSync(join(dir, 'w8'), '2\n')
    const file = join(dir, 'lvsd.yaml')
    writeFileSync(file, `node: lb-test\ncontrol: { socket: ${join(dir, 'lvsd.sock')} }\n`)
    const d = await startDirector(file, () =>
      Promise.reject(
        new LvsdError('LVSD_GENL_FAMILY_ABSENT', 'the kernel has no IPVS (generic netlink family IPVS absent)'),
      ),
    )
    t.teardown(() => d.stop('test end'))
    const states: string[] = []
    d.events.subscribe('daemon.state', (e) => states.push(e.data.state))
    const before = d.getConfig().hash
    writeFileSync(file, yaml(dir))
    const r = await d.reload()
    t.false(r.ok)
    t.regex(r.errors?.[0]?.message ?? '', /no IPVS/)
    t.is(d.getConfig().hash, before, 'the running configuration is the old one')
    t.deepEqual(d.getStatus().services, [], 'no health checks or services of the refused file')
    t.deepEqual(states, ['reloading', 'ready'], 'systemd gets READY again after RELOADING')
  },
)
