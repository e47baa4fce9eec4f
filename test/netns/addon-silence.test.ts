// The native silence timer (native/silence.cc, src/sys/silence-timer.ts) with the real addon and
// real stamped UDP sockets on loopback, each scenario in its own node process (an event loop left
// running must not touch the test runner). A deadline must never pass early, so lower bounds are
// tight; upper bounds are loose on purpose (the tier runs files two at a time, and a loop stalled
// 100 ms failed a tighter one once in ten runs alone), and the scenarios that tell two causes
// apart keep them hundreds of ms apart.
import { spawnSync } from 'node:child_process'
import test from 'ava'
import type { SilenceStats } from '../../src/sys/silence-timer.js'
import { agent } from './agents/addon-harness.js'

function scenario(name: string, flags: string[] = []): Record<string, unknown> {
  const r = spawnSync(process.execPath, [...flags, agent('addon-silence'), name], { encoding: 'utf8', timeout: 15_000 })
  if (r.status !== 0)
    throw new Error(`scenario ${name}: status ${r.status} signal ${r.signal}\n${r.stdout}\n${r.stderr}`)
  const line = r.stdout.split('\n').find((l) => l.includes('"result"'))
  if (!line) throw new Error(`scenario ${name} printed no result:\n${r.stdout}\n${r.stderr}`)
  return JSON.parse(line) as Record<string, unknown>
}

test('datagrams keep moving the deadline without a callback; it passes `extend` after the last one', (t) => {
  const r = scenario('moves')
  t.is(r.duesWhileSending, 0)
  const after = r.dueAfterLast as number
  t.true(after >= 299 && after < 450, `called back ${after} ms after the last datagram`)
  const s = r.stats as SilenceStats
  t.is(s.read, 20)
  t.true(s.moved >= 1 && s.expiries === s.moved + 1, JSON.stringify(s))
  t.is(r.count, 20, 'every datagram read is counted for take()')
  t.is(r.newest, 'n19', 'the newest is kept whole')
  t.true(r.stamped as boolean, 'with its kernel stamp')
  t.is(r.fromPort, r.txPort, 'and its sender')
  t.is(r.again, 0, 'take() forgets what it handed over')
  t.deepEqual(r.failures, [])
})

test('nothing arrives: one callback at the deadline, nothing to take, not armed after', (t) => {
  const r = scenario('silent')
  const at = r.dueAt as number
  t.true(at >= 49.9 && at < 250, `called back at ${at} ms`)
  t.like(r, { dues: 1, count: 0, dueIn: null })
})

test("a datagram's stamp counts when its queue can be that old, and its read time when not", (t) => {
  const trusted = scenario('trusted')
  const untrusted = scenario('untrusted')
  const a = trusted.dueAfterSend as number
  const b = untrusted.dueAfterSend as number
  t.true(a >= 999 && a < 1150, `trusted: due ${a} ms after the send (stamp + 1000)`)
  t.true(b >= 1219 && b < 1500, `untrusted: due ${b} ms after the send (read 220 ms after it, + 1000)`)
  t.is((trusted.stats as SilenceStats).moved, 1)
  t.is((untrusted.stats as SilenceStats).moved, 1)
})

test('a disarmed timer never calls back and lets the process exit', (t) => {
  t.like(scenario('disarm'), { dues: 0, dueIn: null })
})

test('a datagram longer than what is kept never moves the deadline, and is handed over cut and flagged', (t) => {
  const r = scenario('truncated')
  const at = r.dueAt as number
  t.true(at >= 39.9 && at < 250, `called back at ${at} ms, the deadline it was armed for`)
  t.like(r, { count: 1, length: 8192, truncFlag: true })
})

test('3,000 queued datagrams are all read and counted, the newest kept', (t) => {
  const r = scenario('flood')
  t.like(r, { count: 3000, newest: 'f2999' })
  t.is((r.stats as SilenceStats).read, 3000)
})

test('an armed timer nobody holds still calls back through full garbage collections', (t) => {
  t.like(scenario('gc', ['--expose-gc']), { calledBack: true })
})

test('bad arguments are refused and the armed timer is left as it was', (t) => {
  const r = scenario('badargs')
  t.deepEqual(r.refused, ['TypeError', 'TypeError', 'TypeError'])
  const at = r.dueAt as number
  t.true(at >= 79.9 && at < 300, `the first arm's deadline held: ${at} ms`)
})
