// Timeouts from desired state and the sync daemons' role switching against the fake IPVS kernel: keepalived's
// order (entering master stops the backup first), idempotence against GET_DAEMON, restarts on a config change.
import test from 'ava'
import type { LvsdError } from '../../src/errors.js'
import { IpvsClient } from '../../src/ipvs/client.js'
import { ensureTimeouts, type SyncAction, SyncDaemons, validateSyncConfig } from '../../src/ipvs/syncd.js'
import { formatAddr, parseAddr } from '../../src/net/addr.js'
import { fakeIpvs } from '../fixtures/ipvs/fake-ipvs.js'

async function setup() {
  const { fake, nl } = fakeIpvs()
  return { fake, c: await IpvsClient.open(nl) }
}

const cfg = { ifname: 'eth0', syncId: 51 }
const brief = (a: SyncAction[]) => a.map((x) => `${x.action} ${x.state}`)
const daemonCmds = (log: string[]) => log.filter((x) => x === 'NEW_DAEMON' || x === 'DEL_DAEMON')

test('the seed’s --set 30 5 60 is sent once; equal timeouts send nothing; 0 leaves a timeout alone', async (t) => {
  const { fake, c } = await setup()
  t.true(await ensureTimeouts(c, { tcp: 30, tcpFin: 5, udp: 60 }))
  t.deepEqual(fake.timeouts, { tcp: 30, tcpFin: 5, udp: 60 })
  t.false(await ensureTimeouts(c, { tcp: 30, tcpFin: 5, udp: 60 }))
  t.false(await ensureTimeouts(c, { tcp: 0, tcpFin: 5, udp: 0 }))
  t.is(fake.log.filter((x) => x === 'SET_CONFIG').length, 1)
})

test('roles switch like keepalived: master stops the backup first, backup stops the master first, none stops all', async (t) => {
  const { fake, c } = await setup()
  const seen: string[] = []
  const s = new SyncDaemons(c, cfg, (a) => seen.push(`${a.action} ${a.state} ${a.ok}`))
  t.deepEqual(brief(await s.setRole('backup')), ['start backup'])
  t.deepEqual(brief(await s.setRole('master')), ['stop backup', 'start master'])
  t.like(fake.daemons, [{ state: 'master', ifname: 'eth0', syncId: 51 }])
  t.deepEqual(brief(await s.setRole('backup')), ['stop master', 'start backup'])
  t.deepEqual(brief(await s.setRole('none')), ['stop backup'])
  t.deepEqual(fake.daemons, [])
  t.is(s.role, 'none')
  t.is(seen.length, 6)
})

test('setRole is idempotent against what the kernel reports', async (t) => {
  const { fake, c } = await setup()
  const s = new SyncDaemons(c, cfg)
  await s.setRole('master')
  const before = daemonCmds(fake.log).length
  t.deepEqual(await s.setRole('master'), [])
  // a fresh instance (lvsd restarted) finds the master already running
  t.deepEqual(await new SyncDaemons(c, cfg).setRole('master'), [])
  t.is(daemonCmds(fake.log).length, before)
  // someone stopped it: the next setRole starts it again
  fake.daemons = []
  t.deepEqual(brief(await s.setRole('master')), ['start master'])
})

test('a running daemon with another configuration is restarted; unset options accept the kernel’s defaults', async (t) => {
  const { fake, c } = await setup()
  await c.startDaemon({ state: 'master', ifname: 'eth0', syncId: 7, maxLen: 1472, port: 8848, ttl: 1 })
  const group = parseAddr('ff02::81')
  const s = new SyncDaemons(c, { ...cfg, group, port: 8850, ttl: 2, maxLen: 1400 })
  t.deepEqual(brief(await s.setRole('master')), ['stop master', 'start master'])
  t.like(fake.daemons[0], { syncId: 51, port: 8850, ttl: 2, maxLen: 1400 })
  t.is(formatAddr(fake.daemons[0]?.group ?? parseAddr('::')), 'ff02::81')
  t.deepEqual(await s.setRole('master'), [])
  // only ifname and id configured: the kernel's maxlen/port/ttl do not force a restart
  fake.daemons = [{ state: 'backup', ifname: 'eth0', syncId: 51, maxLen: 1472, port: 8848, ttl: 1 }]
  t.deepEqual(await new SyncDaemons(c, cfg).setRole('backup'), [])
})

test('calls are serialized: a quick master → backup → master flap ends with exactly the master running', async (t) => {
  const { fake, c } = await setup()
  const s = new SyncDaemons(c, cfg)
  await Promise.all([s.setRole('master'), s.setRole('backup'), s.setRole('master')])
  t.deepEqual(
    fake.daemons.map((d) => d.state),
    ['master'],
  )
})

test('a refused stop is reported and thrown; invalid configurations are refused up front', async (t) => {
  const { fake, c } = await setup()
  const seen: string[] = []
  const s = new SyncDaemons(c, cfg, (a) => seen.push(`${a.action} ${a.state} ${a.error?.details.code ?? 'ok'}`))
  await s.setRole('backup')
  fake.failNext = { cmd: 10, errno: 'EINTR' }
  const e = await t.throwsAsync<LvsdError>(s.setRole('master'))
  t.is(e?.details.code, 'EINTR')
  t.deepEqual(seen, ['start backup ok', 'stop backup EINTR'])
  for (const bad of [
    { ifname: '', syncId: 1 },
    { ifname: 'eth0', syncId: 256 },
    { ifname: 'eth0', syncId: 1, group: parseAddr('10.0.0.1') },
    { ifname: 'eth0', syncId: 1, port: 0 },
    { ifname: 'eth0', syncId: 1, ttl: 0 },
  ]) {
    t.is(t.throws<LvsdError>(() => validateSyncConfig(bad))?.code, 'LVSD_IPVS_TABLE_INVALID')
  }
})
