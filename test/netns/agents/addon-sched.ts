// Agent: a worker makes itself SCHED_RR through src/sys; the main thread reads both threads' policy
// from /proc/self/task/<tid>/stat (field 41) while the worker is alive. Prints one JSON line.
// With the argument 'main' it only tries SCHED_RR on the main thread and prints the result (used
// unprivileged, where the answer must be a refusal, not an exception).
import { readFileSync } from 'node:fs'
import { isMainThread, parentPort, Worker } from 'node:worker_threads'
import { getThreadPolicy, setThreadRealtime, threadId } from '../../../src/sys/sched.js'

function procPolicy(tid: number): number {
  const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')
  // fields after "(comm)" start at field 3; comm may hold spaces, so split after the last ')'
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(rest[41 - 3])
}

if (isMainThread && process.argv[2] === 'main') {
  process.stdout.write(
    `${JSON.stringify({ event: 'sched', result: setThreadRealtime(10), reported: getThreadPolicy() })}\n`,
  )
} else if (isMainThread) {
  const w = new Worker(new URL(import.meta.url))
  w.once('message', (m: { result: { tid: number }; reported: object }) => {
    const mainTid = threadId()
    process.stdout.write(
      `${JSON.stringify({
        event: 'sched',
        worker: { ...m, procPolicy: procPolicy(m.result.tid) },
        main: { tid: mainTid, pid: process.pid, procPolicy: procPolicy(mainTid), reported: getThreadPolicy() },
      })}\n`,
    )
    w.postMessage('bye')
  })
} else {
  const result = setThreadRealtime(10)
  parentPort?.postMessage({ result, reported: getThreadPolicy() })
  parentPort?.once('message', () => process.exit(0))
}
