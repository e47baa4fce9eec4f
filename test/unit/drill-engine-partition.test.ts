// A partition is cut right after an advert of the old master, so its next advert is an interval past
// the cut and the judge can tell which one the peer heard last. Timed from an arbitrary instant, an
// advert sent while the filter went in was counted as heard (a CI run read 2.6 s for a 3.6 s timer).
import test from 'ava'
import { DrillEngine, type Scenario } from '../../lab/drill/engine.js'
import type { FaultKind, Frame } from '../../lab/drill/types.js'
import { doubleBackend } from '../helpers/drill-double.js'

const advert = (t: number, from: string, priority: number): Frame => ({
  t,
  kind: 'advert',
  srcMac: 'x',
  from,
  priority,
})

/** A pair without IPVS that records when each fault was inflicted, on a clock the test moves. */
function pair(stepTimeoutMs = 5000) {
  const faults: { kind: string; at: number }[] = []
  let now = 10_000
  const backend = doubleBackend({
    stepTimeoutMs,
    clientNow: () => now,
    fault: async (kind: FaultKind) => {
      faults.push({ kind, at: now })
      now += 20
      return { how: kind, inPlaceAt: now - 5 }
    },
  })
  return { backend, faults, advance: (ms: number) => (now += ms) }
}

const partition = (): Scenario => ({
  name: 'partition',
  title: 'partition',
  fault: 'partition',
  bounds: () => ({ outageMs: null, returnOutageMs: null, why: 'test' }),
  run: async (ctx) => ctx.fault('partition', 'lb01'),
})

test("a partition waits for the old master's next advert, then cuts and records both", async (t) => {
  const p = pair()
  const engine = new DrillEngine(
    p.backend,
    () => {},
    async () => {},
  )
  const done = engine.runAll([partition()], 1, () => {})
  // the engine settles first (status polls), then waits on the capture
  const waiting = () => (engine as unknown as { frameWaiters: Set<unknown> }).frameWaiters.size > 0
  for (let i = 0; i < 10_000 && !waiting(); i++) await new Promise((r) => setImmediate(r))
  t.true(waiting(), 'the engine waits on the capture')
  t.deepEqual(p.faults, [], 'no cut before an advert of the old master')
  engine.sink.onFrame(advert(p.advance(0), 'lb02', 100))
  engine.sink.onFrame(advert(p.advance(1), 'lb01', 0)) // a goodbye is not the master speaking
  await new Promise((r) => setImmediate(r))
  t.deepEqual(p.faults, [], 'adverts of the peer or of priority 0 do not time the cut')
  const heard = p.advance(300)
  engine.sink.onFrame(advert(heard, 'lb01', 150))
  const { runs } = await done
  t.deepEqual(
    p.faults.map((f) => f.kind),
    ['partition'],
  )
  const f = runs[0]?.fault
  t.is(f?.afterAdvert, heard)
  t.is(f?.t, heard, 'the cut began as the advert was seen')
  t.is(f?.doneAt, heard + 15, "the backend's own in-place time, not the engine's")
})

test('no advert of the old master within the step timeout: the run fails and says so', async (t) => {
  const p = pair(80)
  const engine = new DrillEngine(
    p.backend,
    () => {},
    async () => {},
  )
  const { runs } = await engine.runAll([partition()], 1, () => {})
  t.deepEqual(p.faults, [])
  t.regex(runs[0]?.error ?? '', /no advert from lb01 within 80 ms/)
})

test('other faults do not wait for an advert', async (t) => {
  const p = pair(80)
  const engine = new DrillEngine(
    p.backend,
    () => {},
    async () => {},
  )
  const crash: Scenario = { ...partition(), name: 'crash', fault: 'crash', run: (ctx) => ctx.fault('crash', 'lb01') }
  const { runs } = await engine.runAll([crash], 1, () => {})
  t.is(runs[0]?.error, null)
  t.is(runs[0]?.fault?.afterAdvert, undefined)
})
