// The documented events vrrp.priority, vrrp.drop and vrrp.advert_late come out of the real director's
// event bus: config → VrrpSide → VrrpRuntime → the worker's logic (VrrpWorkerCore, run in-process over
// fake sockets and a manual clock) and back up the same way. Only the thread and the kernel are fakes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test, { type ExecutionContext } from 'ava'
import type { AnyEvent } from '../../src/events.js'
import { IpvsClient } from '../../src/ipvs/client.js'
import { fakeIpvs } from '../fixtures/ipvs/fake-ipvs.js'
import { startDirector } from '../helpers/director.js'
import { until } from '../helpers/until.js'
import { advert, inProcessWorker, workerRig } from './vrrp-instance-fakes.js'

async function director(t: ExecutionContext) {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-vrrp-events-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const track = join(dir, 'track')
  writeFileSync(
    join(dir, 'lvsd.yaml'),
    `node: lb-test
control: { socket: ${join(dir, 'lvsd.sock')} }
vrrp:
  instances:
    - name: web
      interface: eth0
      vrid: 51
      priority: 100
      version: 3
      advert_interval: 100ms
      vips: [10.0.0.100/24]
      track: { files: [{ path: ${track}, weight: 10 }] }
`,
  )
  const rig = workerRig()
  const worker = inProcessWorker(rig)
  const { nl } = fakeIpvs()
  const d = await startDirector(join(dir, 'lvsd.yaml'), () => IpvsClient.open(nl), { vrrpWorker: () => worker.port })
  t.teardown(() => d.stop('test end'))
  const events: AnyEvent[] = []
  d.events.subscribeAll((e) => events.push(e))
  await until(() => rig.channels.length === 1, 5000, 'the instance to open its socket')
  const of = (name: string) => events.filter((e) => e.name === name).map((e) => e.data)
  return { rig, worker, track, of }
}

test('a tracked file lowering the priority is published as vrrp.priority', async (t) => {
  const { track, of } = await director(t)
  writeFileSync(track, '-3\n')
  const [e] = await until(() => of('vrrp.priority').length > 0 && of('vrrp.priority'), 5000, 'vrrp.priority')
  t.deepEqual(e, { instance: 'web', configured: 100, effective: 70, source: `file:${track}` })
})

test('a dropped advert is published as vrrp.drop, once per reason and source however many arrive', async (t) => {
  const { rig, of } = await director(t)
  for (let i = 0; i < 20; i++) rig.channels[0]?.receive(advert({ priority: 200, ttl: 1 }))
  const got = await until(() => of('vrrp.drop').length > 0 && of('vrrp.drop'), 5000, 'vrrp.drop')
  await new Promise((r) => setImmediate(r))
  t.deepEqual(got, [{ instance: 'web', reason: 'ttl', from: '10.0.0.2' }])
})

test('an advert sent more than half an interval late is published as vrrp.advert_late', async (t) => {
  const { rig, of } = await director(t)
  // alone on its link: Master_Down_Interval passes and it becomes master, advertising every 100 ms
  rig.clock.advance(1000)
  await until(() => of('vrrp.transition').some((e) => (e as { to: string }).to === 'MASTER'), 5000, 'MASTER')
  t.deepEqual(of('vrrp.advert_late'), [])
  // the worker stalls for 180 ms: the next advert timer fires at least 80 ms after its deadline
  rig.clock.spend(180)
  rig.clock.advance(0)
  const [late] = await until(() => of('vrrp.advert_late').length > 0 && of('vrrp.advert_late'), 5000, 'late')
  t.like(late, { instance: 'web' })
  t.true((late as { lateMs: number }).lateMs >= 80)
})
