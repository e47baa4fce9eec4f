// The kernel counters a status or scrape reads: one service and one destination dump per configured
// service, with the event loop let go during a long read.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { configReader } from '../../src/director/config-source.js'
import { readKernelCounters } from '../../src/director/status.js'
import { defaultDest, defaultService } from '../../src/ipvs/model.js'
import { parseAddr } from '../../src/net/addr.js'
import { busy, turnCounter } from '../helpers/loop-turns.js'

test('readKernelCounters lets the event loop turn during a long read, and reads every service', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-kread-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const services = Array.from(
    { length: 12 },
    (_, i) =>
      `  - { name: s${i}, address: 10.0.0.3, port: ${1000 + i}, scheduler: rr, real_servers: [{ address: 10.0.1.${i + 1}, port: ${1000 + i} }] }\n`,
  )
  const file = join(dir, 'lvsd.yaml')
  writeFileSync(file, `node: t\nvirtual_services:\n${services.join('')}`)
  const r = await configReader(file)()
  if (!r.ok) throw new Error(JSON.stringify(r.errors))
  // each dump answered synchronously after 2 ms of work, as the kernel answers inside sendmsg
  const ipvs = {
    getService: async (key: Parameters<typeof defaultService>[0]) => defaultService(key, 'rr'),
    listDests: async () => {
      busy(2)
      return [
        { ...defaultDest(parseAddr('10.0.1.1'), 80, 'droute'), activeConns: 1, inactiveConns: 0, persistentConns: 0 },
      ]
    },
  }
  const loop = turnCounter()
  const counters = await readKernelCounters(ipvs, r.loaded.config)
  loop.stop()
  t.is(counters.size, 12)
  t.true(loop.turns >= 4, `${loop.turns} turns during the read`)
})
