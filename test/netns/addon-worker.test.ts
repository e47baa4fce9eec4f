// The addon in worker_threads: an rtnetlink dump from inside a worker, workers ending through
// process.exit() or terminate() while holding open sockets and pollers (node-systems-notes §4),
// and SCHED_RR applied to one thread only.
import { spawnSync } from 'node:child_process'
import test from 'ava'
import { Lab } from '../helpers/netns.js'
import { agent, runAgent } from './agents/addon-harness.js'

const lab = new Lab('aw')
// with 20 the unfixed terminate races went unnoticed in one of two runs; 40 caught them in 6 of 6
const REPS = 40

test.before(() => {
  lab.addPair({ name: 'a', ipv4: '10.62.0.1/24' }, { name: 'b', ipv4: '10.62.0.2/24' })
})
test.after.always(() => lab.dispose())

test('an RTM_GETLINK dump from a worker returns lo, eth0 and NLMSG_DONE', (t) => {
  const [dump] = runAgent(lab, 'a', 'addon-netlink-worker', [])
  t.like(dump, { event: 'dump', done: true, seqOk: true, portOk: true, inWorker: true })
  t.deepEqual([...((dump?.names ?? []) as string[])].sort(), ['eth0', 'lo'])
})

for (const mode of ['exit', 'terminate']) {
  test(`${REPS} workers ending by ${mode === 'exit' ? 'process.exit()' : 'worker.terminate()'} with live pollers leave the parent alive`, (t) => {
    const events = runAgent(lab, 'b', 'addon-worker-exit', [mode, String(REPS)], 180_000)
    const done = events.find((e) => e.event === 'done')
    t.is(done?.reps, REPS)
    const expected = mode === 'exit' ? 0 : 1
    t.deepEqual(done?.codes, new Array(REPS).fill(expected))
  })
}

test('SCHED_RR set from a worker applies to that thread and not to the main thread', (t) => {
  const [ev] = runAgent(lab, 'a', 'addon-sched', [])
  const worker = ev?.worker as {
    result: { ok: boolean; tid: number }
    reported: { policy: number; tid: number }
    procPolicy: number
  }
  const main = ev?.main as { tid: number; pid: number; procPolicy: number; reported: { policy: number } }
  t.true(worker.result.ok, JSON.stringify(worker.result))
  t.not(worker.result.tid, main.tid)
  t.is(main.tid, main.pid)
  t.is(worker.reported.tid, worker.result.tid)
  t.is(worker.procPolicy, 2) // SCHED_RR
  t.is(worker.reported.policy, 2)
  t.is(main.procPolicy, 0) // SCHED_OTHER
  t.is(main.reported.policy, 0)
})

test('without CAP_SYS_NICE SCHED_RR is refused as a result naming EPERM, and the policy stays', (t) => {
  // an unprivileged user (nobody) with no capabilities and RLIMIT_RTPRIO 0
  const r = spawnSync(
    'setpriv',
    [
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      '--inh-caps=-all',
      '--bounding-set=-all',
      'prlimit',
      '--rtprio=0',
      process.execPath,
      agent('addon-sched'),
      'main',
    ],
    { encoding: 'utf8', timeout: 30_000 },
  )
  t.is(r.status, 0, r.stderr)
  const ev = JSON.parse(r.stdout) as {
    result: { ok: boolean; code?: string; tid: number }
    reported: { policy: number }
  }
  t.like(ev.result, { ok: false, code: 'EPERM' })
  t.true(ev.result.tid > 0)
  t.is(ev.reported.policy, 0)
})
