// The native advert pacer (native/pacer.cc, src/sys/pacer.ts) with the real addon and real
// sockets, each scenario in its own node process (an event loop left running must not touch the
// test runner). Cadence bounds are loose on purpose: the tier runs files two at a time.
import { spawnSync } from 'node:child_process'
import test from 'ava'
import type { PacerStats } from '../../src/sys/pacer.js'
import { agent } from './agents/addon-harness.js'

function scenario(name: string, flags: string[] = []): Record<string, unknown> {
  const r = spawnSync(process.execPath, [...flags, agent('addon-pacer'), name], { encoding: 'utf8', timeout: 15_000 })
  if (r.status !== 0)
    throw new Error(`scenario ${name}: status ${r.status} signal ${r.signal}\n${r.stdout}\n${r.stderr}`)
  const line = r.stdout.split('\n').find((l) => l.includes('"result"'))
  if (!line) throw new Error(`scenario ${name} printed no result:\n${r.stdout}\n${r.stderr}`)
  return JSON.parse(line) as Record<string, unknown>
}

test('every target gets each round, the first at its deadline and the next an interval after each send', (t) => {
  const r = scenario('cadence')
  t.deepEqual(r.texts, ['to-a', 'to-b'])
  const firstLate = r.firstLate as number
  t.true(firstLate >= 0 && firstLate < 30, `first round ${firstLate} ms after its deadline`)
  const gaps = r.gapsA as number[]
  t.is(gaps.length, 9)
  for (const g of gaps) t.true(g >= 39.5 && g < 80, `gaps ${gaps.join(' ')}`)
  const { sent, errors } = r.stats as PacerStats
  const [a, b] = r.counts as number[]
  t.is(sent, (a ?? 0) + (b ?? 0), 'stats count every datagram delivered')
  t.is(errors, 0)
})

test('start() again replaces the datagrams and the phase: nothing of the old advert after the new', (t) => {
  const r = scenario('restart')
  t.regex(r.sequence as string, /^(old,){3,}new(,new){2,}$/)
  t.true(r.newAfterItsStart as boolean)
  t.is(r.nextWhileStopped, null)
})

test('stop() ends the rounds and lets the process exit', (t) => {
  t.like(scenario('stop'), { afterStop: 0, sentStat: true })
})

test('a refused target is reported with its errno and the other target still gets every round', (t) => {
  const r = scenario('failed')
  t.true(r.kept as boolean)
  t.deepEqual(r.codes, ['ECONNREFUSED'])
  const { sent, errors } = r.stats as PacerStats
  t.true(errors >= 5 && sent >= 5, JSON.stringify(r.stats))
})

test('a round held past its deadline by the event loop is reported late, and the next is on time', (t) => {
  const r = scenario('late')
  const lates = r.lates as number[]
  t.is(lates.length, 1, `late reports ${lates.join(' ')}`)
  t.true((lates[0] ?? 0) >= 150, `${lates[0]} ms late`)
  const { lateRounds, maxLateMs } = r.stats as PacerStats
  t.is(lateRounds, 1)
  t.true(maxLateMs >= 150)
  for (const g of r.gaps as number[]) t.true(g >= 49.5 && g < 100, `gaps ${(r.gaps as number[]).join(' ')}`)
})

test('a running pacer nobody holds keeps sending through full garbage collections', (t) => {
  t.like(scenario('gc', ['--expose-gc']), { sentOnAfterGc: true })
})

test('a refused start() leaves the running pacer as it was', (t) => {
  const r = scenario('badargs')
  t.deepEqual(r.refused, ['TypeError', 'TypeError', 'TypeError', 'TypeError', 'TypeError'])
  t.true(r.stillGood as boolean)
})
