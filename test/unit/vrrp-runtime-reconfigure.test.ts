// A running instance reconfigured by a reload (Instance.reconfigure): the state is kept, a master
// advertises the new settings at once and touches only the VIPs that differ.
import test from 'ava'
import { parsePrefix } from '../../src/net/addr.js'
import { config, flush, setup, transitions } from './vrrp-instance-fakes.js'

const VIP2 = parsePrefix('10.0.0.101/24')
const VIP3 = parsePrefix('10.0.0.102/24')

async function runningMaster(over = {}) {
  const s = setup({ vips: [{ prefix: parsePrefix('10.0.0.100/24') }, { prefix: VIP2 }], ...over })
  await s.inst.start()
  s.clock.advanceTo(1361)
  await flush()
  return s
}

test('a master given a lower priority stays MASTER and the next advert (sent at once) carries it', async (t) => {
  const s = await runningMaster()
  const n = s.up.length
  s.inst.reconfigure({ ...s.inst.cfg, priority: 40 })
  t.is(s.inst.role, 'MASTER')
  t.deepEqual(s.up.slice(n), [], 'no transition')
  t.is(s.sent.at(-1)?.priority, 40)
  s.clock.advanceTo(1361 + 100)
  t.is(s.sent.at(-1)?.priority, 40)
})

test('a master given a new VIP list removes only the VIP that went and adds only the new one', async (t) => {
  const s = await runningMaster()
  const ops = s.vipOps.length
  const garps = s.garps.length
  s.inst.reconfigure({ ...s.inst.cfg, vips: [{ prefix: parsePrefix('10.0.0.100/24') }, { prefix: VIP3 }] })
  await flush()
  t.deepEqual(s.vipOps.slice(ops), ['del 10.0.0.101', 'add 10.0.0.102'])
  t.deepEqual(s.sent.at(-1)?.addrs, ['10.0.0.100', '10.0.0.102'], 'advertised at once with the new list')
  t.true(s.garps.length > garps, 'the new VIP is announced')
  t.deepEqual(transitions(s.up), ['INIT>BACKUP:startup', 'BACKUP>MASTER:master_down'])
})

test('a backup given a new VIP list touches no address; it validates adverts against the new list', async (t) => {
  const s = setup()
  await s.inst.start()
  s.inst.reconfigure({ ...s.inst.cfg, vips: [{ prefix: VIP3 }] })
  await flush()
  t.deepEqual(s.vipOps, [])
  t.is(s.inst.role, 'BACKUP')
})

test('reconfiguring with an equal copy changes nothing: no advert, no VIP change, no transition', async (t) => {
  const s = await runningMaster()
  const before = { sent: s.sent.length, ops: s.vipOps.length, up: s.up.length }
  s.inst.reconfigure(structuredClone(s.inst.cfg))
  await flush()
  t.deepEqual({ sent: s.sent.length, ops: s.vipOps.length, up: s.up.length }, before)
})

test('a new GARP schedule on a running master keeps its refresh going without a new burst', async (t) => {
  const s = await runningMaster()
  s.clock.advanceTo(1361 + 6000)
  const garps = s.garps.length
  s.inst.reconfigure({
    ...s.inst.cfg,
    announce: { ...config().announce, refreshMs: 1000, refreshRepeat: 1 },
  })
  t.is(s.garps.length, garps, 'no burst at reload')
  s.clock.advanceTo(1361 + 6000 + 1000)
  t.is(s.garps.length, garps + 2, 'one refresh round for each of the two VIPs')
})
