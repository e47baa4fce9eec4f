// The pacer helper process (native/pacer_helper.c through native/pacer_remote.cc) with the real
// addon, the real helper binary and real sockets, each scenario in its own node process.
// Needs `npm run build:native` (the helper is built beside the addon); no root, no network.
import { spawnSync } from 'node:child_process'
import test from 'ava'
import type { PacerStats } from '../../src/sys/pacer.js'
import { agent } from './agents/addon-harness.js'

function scenario(name: string): Record<string, unknown> {
  const r = spawnSync(process.execPath, [agent('addon-pacer-helper'), name], {
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, LVSD_PACER: '' },
  })
  if (r.status !== 0)
    throw new Error(`scenario ${name}: status ${r.status} signal ${r.signal}\n${r.stdout}\n${r.stderr}`)
  const line = r.stdout.split('\n').find((l) => l.includes('"result"'))
  if (!line) throw new Error(`scenario ${name} printed no result:\n${r.stdout}\n${r.stderr}`)
  return JSON.parse(line) as Record<string, unknown>
}

test('the rounds leave from a child process of a few MiB that holds no capability', (t) => {
  const r = scenario('identity')
  t.true(r.got as boolean)
  const s = r.status as { name: string; ppid: number; capEff: string; rssKiB: number }
  t.not(r.pid as number, r.self as number)
  t.is(s.name, 'lvsd-pacer')
  t.is(s.ppid, r.self as number)
  t.is(Number.parseInt(s.capEff, 16), 0, `CapEff ${s.capEff}`)
  t.true(s.rssKiB < 4096, `${s.rssKiB} KiB resident`)
})

test('the rounds go on while the daemon’s event loop is held, none of them late', (t) => {
  const r = scenario('blocked')
  // 400 ms held at a 50 ms interval: ~8 rounds; in-process there would be none
  t.true((r.during as number) >= 5, `${r.during} rounds while the loop was held`)
  t.is((r.stats as PacerStats).lateRounds, 0)
})

test('a helper held past a deadline reports the round late, and the next is on time', (t) => {
  const r = scenario('late')
  const lates = r.lates as number[]
  t.is(lates.length, 1, `late reports ${lates.join(' ')}`)
  t.true((lates[0] ?? 0) >= 120, `${lates[0]} ms late`)
  t.is((r.stats as PacerStats).lateRounds, 1)
  for (const g of (r.gapsAfter as number[]).slice(1)) t.true(g >= 45 && g < 100, `gaps ${r.gapsAfter}`)
})

test('a helper killed mid-run is reported, and the rounds go on in-process without a gap or a double', (t) => {
  const r = scenario('lost')
  const why = r.why as { status?: number }[]
  t.is(why.length, 1)
  t.is((why[0]?.status ?? 0) & 0x7f, 9, 'the wait status of a SIGKILL')
  t.is(r.helperAfter, 0)
  t.true(r.reaped as boolean, 'no zombie left')
  // a helper killed mid-round may leave that round one advert short, never repeated
  for (const g of r.around as number[]) t.true(g >= 20 && g < 90, `gaps ${(r.around as number[]).join(' ')}`)
  t.is(r.sent, r.received, 'the helper’s counts and this process’s add up to what arrived')
})

test('stop() with the helper frozen kills it within its bound, and nothing of the old rounds follows', (t) => {
  const r = scenario('hung')
  t.true((r.stopMs as number) >= 150 && (r.stopMs as number) < 1000, `stop took ${r.stopMs} ms`)
  t.is(r.afterStop, 0)
  t.is((r.why as unknown[]).length, 1)
  t.true(r.reaped as boolean)
  t.true(r.again as boolean)
  t.is(r.helperAfter, 0, 'after a loss the rounds stay in-process')
})

test('a helper that cannot start is reported with its errno and the rounds run in-process', (t) => {
  const r = scenario('unavailable')
  t.deepEqual(r.why, [{ code: 'ENOENT' }])
  t.is(r.helper, 0)
  t.true((r.got as number) >= 3)
})

test('two pacers share one helper, and stopping one leaves the other sending', (t) => {
  const r = scenario('shared')
  const [p, q] = r.pids as number[]
  t.true((p ?? 0) > 0)
  t.is(p, q)
  t.is(r.aAfter, 0)
  t.true((r.bAfter as number) >= 3)
})

test('once stop() returns the helper sends nothing more, wherever in the round it lands', (t) => {
  const r = scenario('stoprace')
  t.true(r.rounds as boolean)
  t.is(r.after, 0, `${r.after} datagrams after stop() returned, of ${r.got}`)
})

test('a daemon killed with SIGKILL takes its helper with it: no adverts from an orphan', (t) => {
  const r = scenario('crashed')
  t.true((r.goneMs as number) < 500, `helper gone ${r.goneMs} ms after the kill`)
  t.is(r.afterGone, 0)
})

test('terminating the worker that owns a helper ends it', (t) => {
  const r = scenario('worker')
  t.true(r.alive as boolean)
  t.true(r.self as boolean)
  t.true((r.goneMs as number) < 500, `helper gone ${r.goneMs} ms after terminate()`)
  t.is(r.afterGone, 0)
})
