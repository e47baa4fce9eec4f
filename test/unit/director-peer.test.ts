// Two directors over the peer channel on loopback (127.0.0.1 ↔ 127.0.0.2), each with its own fake IPVS
// kernel: a drain or a weight on either reaches the other's kernel, the state file is written, and a
// restarted director programs the saved drain in its first IPVS pass, before it hears the peer.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { IpvsClient } from '../../src/ipvs/client.js'
import { destId } from '../../src/ipvs/model.js'
import { parseAddr } from '../../src/net/addr.js'
import { fakeIpvs } from '../fixtures/ipvs/fake-ipvs.js'
import { startDirector } from '../helpers/director.js'
import { loopbackPeer } from '../helpers/loopback-peer.js'
import { until } from '../helpers/until.js'

const PORT = 20_000 + Math.floor(Math.random() * 20_000)

const yaml = (dir: string, n: 1 | 2) => `
node: lb0${n}
control: { socket: ${join(dir, `lb0${n}.sock`)} }
virtual_services:
  - name: web
    address: 10.0.0.3
    port: 80
    scheduler: wrr
    real_servers:
      - { address: 10.0.0.7, weight: 1 }
      - { address: 10.0.0.8, weight: 2 }
${loopbackPeer(dir, n, PORT)}`

async function start(file: string) {
  const { fake, nl } = fakeIpvs()
  const d = await startDirector(file, () => IpvsClient.open(nl))
  const weights = () =>
    new Map(([...fake.services.values()][0]?.dests ?? []).map((x) => [destId(x), x.weight] as const))
  return { d, weights }
}

const ref = (host: string) => ({ service: 'web', addr: parseAddr(host), port: 80 })

test('a drain on either node reaches the other’s kernel; the saved drain is in a restarted node’s first pass', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-peer-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'key'), 'unit-test-peer-key-0123456789\n', { mode: 0o600 })
  writeFileSync(join(dir, 'lb01.yaml'), yaml(dir, 1))
  writeFileSync(join(dir, 'lb02.yaml'), yaml(dir, 2))
  const a = await start(join(dir, 'lb01.yaml'))
  const b = await start(join(dir, 'lb02.yaml'))
  t.teardown(() => b.d.stop('test end'))
  await until(() => a.d.getStatus().peer?.channel === 'up' && b.d.getStatus().peer?.channel === 'up')

  await a.d.drain(ref('10.0.0.7'))
  await until(() => b.weights().get('10.0.0.7/80') === 0)
  t.like(b.d.getStatus().services[0]?.servers[0], { drained: true })
  await b.d.setWeight(ref('10.0.0.8'), 5)
  await until(() => a.weights().get('10.0.0.8/80') === 5)
  const saved = JSON.parse(readFileSync(join(dir, 'lb01-state.json'), 'utf8'))
  t.like(saved.ops, {
    'drain:web/10.0.0.7:80': { v: true, node: 'lb01' },
    'weight:web/10.0.0.8:80': { v: 5, node: 'lb02' },
  })

  // lb01 restarts: its first pass already has the drain and the weight (from its file)
  await a.d.stop('restart')
  const a2 = await start(join(dir, 'lb01.yaml'))
  t.teardown(() => a2.d.stop('test end'))
  t.is(a2.weights().get('10.0.0.7/80'), 0)
  t.is(a2.weights().get('10.0.0.8/80'), 5)
  // an undrain on lb02 reaches the restarted lb01, and both hold the same operator state
  await b.d.undrain(ref('10.0.0.7'))
  await until(() => a2.weights().get('10.0.0.7/80') === 1)
  t.deepEqual(a2.d.getStatus().peer?.operator, b.d.getStatus().peer?.operator)
})
