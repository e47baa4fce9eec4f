// The API's contract, held by both directors behind the control socket: the FakeDirector that the API,
// lvsctl and metrics tests use, and the real LvsDirector (its VRRP worker in-process over fake sockets,
// a fake IPVS kernel). Whatever the fake lets those tests assume, the product must do too.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import { ControlClient } from '../../src/api/client.js'
import { ControlServer } from '../../src/api/server.js'
import type { Director } from '../../src/api/types.js'
import { isLvsdError } from '../../src/errors.js'
import { IpvsClient } from '../../src/ipvs/client.js'
import { fakeIpvs } from '../fixtures/ipvs/fake-ipvs.js'
import { startDirector } from '../helpers/director.js'
import { exampleStatus, FakeDirector } from '../helpers/fake-director.js'
import { until } from '../helpers/until.js'
import { inProcessWorker, link, workerRig } from './vrrp-instance-fakes.js'

interface Subject {
  director: Director
  /** Puts the instance `web` into FAULT. */
  fault(): Promise<void>
}

const SUBJECTS: Record<string, (t: ExecutionContext, dir: string) => Promise<Subject>> = {
  fake: async () => {
    const director = new FakeDirector({ status: exampleStatus() })
    return {
      director,
      fault: async () => {
        const web = director.status.instances.find((i) => i.name === 'web')
        if (web) web.state = 'FAULT'
      },
    }
  },
  real: async (t, dir) => {
    const file = join(dir, 'lvsd.yaml')
    writeFileSync(
      file,
      `node: lb01
control: { socket: ${join(dir, 'unused.sock')} }
vrrp:
  instances:
    - { name: web, interface: eth0, vrid: 51, priority: 150, version: 3, advert_interval: 100ms, vips: [10.0.0.3/24] }
virtual_services:
  - name: web
    address: 10.0.0.3
    port: 80
    scheduler: wrr
    real_servers:
      - { address: 10.0.0.7, weight: 3 }
      - { address: 10.0.0.8, weight: 1 }
`,
    )
    const rig = workerRig()
    const worker = inProcessWorker(rig)
    const { nl } = fakeIpvs()
    const d = await startDirector(file, () => IpvsClient.open(nl), { vrrpWorker: () => worker.port })
    t.teardown(() => d.stop('test end'))
    await until(() => rig.channels.length === 1, 5000, 'the instance to open its socket')
    return {
      director: d,
      fault: async () => {
        rig.net.addLink(link(2, 'eth0', false))
        await until(() => d.getStatus().instances[0]?.state === 'FAULT', 5000, 'web in FAULT')
      },
    }
  },
}

async function serve(t: ExecutionContext, kind: string) {
  const dir = mkdtempSync(join(tmpdir(), `lvsd-contract-${kind}-`))
  const subject = await (SUBJECTS[kind] as (typeof SUBJECTS)[string])(t, dir)
  const path = join(dir, 'api.sock')
  const server = await ControlServer.start(subject.director, { path })
  t.teardown(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return { ...subject, client: new ControlClient(path) }
}

const codeOf = (e: unknown) => (isLvsdError(e) ? `${e.code} ${(e.details as { status?: number }).status}` : String(e))

for (const kind of Object.keys(SUBJECTS)) {
  test(`${kind}: drain, a weight, undrain and clearing the weight, as the answers and the status show them`, async (t) => {
    const { client } = await serve(t, kind)
    const drained = await client.drain('web', '10.0.0.7:80')
    t.like(drained, { server: '10.0.0.7:80', drained: true, weight: { configured: 3, effective: 0 } })
    t.deepEqual((await client.setWeight('web', '10.0.0.7:80', 7)).weight, { configured: 3, effective: 0, operator: 7 })
    t.deepEqual((await client.undrain('web', '10.0.0.7:80')).weight, { configured: 3, effective: 7, operator: 7 })
    t.deepEqual((await client.setWeight('web', '10.0.0.7:80', null)).weight, { configured: 3, effective: 3 })
    const web = (await client.status()).services.find((s) => s.name === 'web')
    t.like(
      web?.servers.find((r) => r.server === '10.0.0.7:80'),
      { drained: false, weight: { effective: 3 } },
    )
  })

  test(`${kind}: an unknown service, server or instance is a 404 with its code; a bad weight is a 400`, async (t) => {
    const { client } = await serve(t, kind)
    t.is(codeOf(await t.throwsAsync(client.drain('nope', '10.0.0.7:80'))), 'LVSD_API_UNKNOWN_SERVICE 404')
    t.is(codeOf(await t.throwsAsync(client.drain('web', '10.0.0.9:80'))), 'LVSD_API_UNKNOWN_SERVER 404')
    t.is(codeOf(await t.throwsAsync(client.release('nope'))), 'LVSD_API_UNKNOWN_INSTANCE 404')
    t.is(codeOf(await t.throwsAsync(client.setWeight('web', '10.0.0.7:80', 70_000))), 'LVSD_API_BAD_REQUEST 400')
  })

  test(`${kind}: release and resume; a release in FAULT is a 409 and changes nothing`, async (t) => {
    const { client, fault } = await serve(t, kind)
    t.like(await client.release('web'), { released: true, effectivePriority: 0 })
    t.like(await client.resume('web'), { released: false, effectivePriority: 150 })
    await fault()
    t.is(codeOf(await t.throwsAsync(client.release('web'))), 'LVSD_API_CONFLICT 409')
    t.like(
      (await client.status()).instances.find((i) => i.name === 'web'),
      { state: 'FAULT', released: false },
    )
  })
}
