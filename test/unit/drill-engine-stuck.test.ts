// The drill stops trying once a director is gone for good: after a failed run and its recovery, a
// director that still does not answer makes every later scenario "not run" with the reason, instead
// of each one waiting out its step timeouts (a guest stuck in its BIOS after a reboot cost CI 20 min).
import test from 'ava'
import type { DrillBackend } from '../../lab/drill/backend.js'
import { DrillEngine, type Scenario } from '../../lab/drill/engine.js'
import type { FaultKind } from '../../lab/drill/types.js'
import { directorStatus, doubleBackend } from '../helpers/drill-double.js'

/** A pair without IPVS whose lb01 answers until `lb01Gone` is set. */
class PairDouble {
  lb01Gone = false
  faults: string[] = []
  backend(): DrillBackend {
    return doubleBackend({
      status: async (node: string) => {
        if (node === 'lb01') return this.lb01Gone ? null : directorStatus('MASTER')
        return directorStatus('BACKUP')
      },
      fault: async (kind: FaultKind, node: string) => {
        this.faults.push(`${kind} ${node}`)
        return kind
      },
    })
  }
}

/** The engine's wait for traffic without IPVS: nothing to watch here, so no wall time either. */
const noPause = async () => {}

function scenario(name: string, run: Scenario['run']): Scenario {
  return {
    name,
    title: name,
    fault: 'reboot',
    bounds: () => ({ outageMs: null, returnOutageMs: null, why: 'test' }),
    run,
  }
}

test('a director silent after the recovery: the later scenarios are not run, and say why', async (t) => {
  const pair = new PairDouble()
  const engine = new DrillEngine(pair.backend(), () => {}, noPause)
  const reboot = scenario('reboot', async (ctx) => {
    await ctx.fault('reboot', 'lb01')
    pair.lb01Gone = true // never comes back
    await ctx.waitMaster('lb01')
  })
  const later = (name: string) => scenario(name, (ctx) => ctx.fault('stop', 'lb01'))
  const seen: string[] = []
  const { runs, notRun } = await engine.runAll([reboot, later('partition'), later('reload')], 2, (r) =>
    seen.push(r.scenario),
  )
  t.deepEqual(
    runs.map((r) => [r.scenario, r.ok]),
    [['reboot', false]],
  )
  t.deepEqual(seen, ['reboot'])
  t.deepEqual(pair.faults, ['reboot lb01'], 'no fault inflicted after the pair got stuck')
  t.deepEqual(
    notRun.map((n) => n.scenario),
    ['partition', 'reload', 'reboot #2', 'partition #2', 'reload #2'],
  )
  t.regex(notRun[0]?.why ?? '', /^lb01 did not answer after the recovery from reboot$/)
})

test('a failed run whose directors answer again: the next scenarios still run', async (t) => {
  const pair = new PairDouble()
  const engine = new DrillEngine(pair.backend(), () => {}, noPause)
  const failing = scenario('reboot', async () => {
    throw new Error('a step that timed out')
  })
  const next = scenario('partition', async (ctx) => {
    await ctx.fault('stop', 'lb01')
  })
  const { runs, notRun } = await engine.runAll([failing, next], 1, () => {})
  t.deepEqual(
    runs.map((r) => [r.scenario, r.error]),
    [
      ['reboot', 'a step that timed out'],
      ['partition', null],
    ],
  )
  t.deepEqual(notRun, [])
  t.is(engine.stuck, undefined)
})
