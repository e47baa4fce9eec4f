// The VRRP worker thread's entry: SCHED_RR for this thread, then every instance's sockets, timers
// and rtnetlink live here, so a stalled main loop cannot delay an advert (design.md). It talks to
// the main thread only through its MessagePort (messages.ts); log records go up, never to a file.
// The logic is VrrpWorkerCore (worker-core.ts); this file only gives it the addon-backed parts.
import { performance } from 'node:perf_hooks'
import { parentPort } from 'node:worker_threads'
import { DeadlineTimers } from '../../sys/deadline-timer.js'
import { setThreadRealtime } from '../../sys/sched.js'
import type { Down } from '../messages.js'
import { NetState } from './netstate.js'
import { Announcer, Channel } from './sockets.js'
import { VrrpWorkerCore } from './worker-core.js'

const port = parentPort
if (!port) throw new Error('src/vrrp/worker/worker.js runs only as a worker thread')

const announcer = new Announcer()
announcer.prepare()
const core = new VrrpWorkerCore({
  post: (m) => port.postMessage(m),
  now: () => performance.now(),
  wall: () => performance.timeOrigin + performance.now(),
  // one timerfd at the earliest deadline, in ns: setTimeout woke this thread 0.1–0.9 ms late
  openTimers: () => new DeadlineTimers(),
  openNet: (events) => NetState.open(events),
  openChannel: (spec) => new Channel(spec),
  announcer,
  setRealtime: setThreadRealtime,
})
port.on('message', (m: Down) => core.handle(m))
