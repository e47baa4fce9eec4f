// The VRRP worker thread's entry: SCHED_RR for this thread, then every instance's sockets, timers
// and rtnetlink live here, so a stalled main loop cannot delay an advert (design.md). It hears the
// main thread on its inbox stream (inbox.ts: not the MessagePort, whose wake-up made this thread
// spin on libuv 1.44) and answers through its MessagePort (messages.ts); log records go up, never
// to a file.
// The logic is VrrpWorkerCore (worker-core.ts); this file only gives it the addon-backed parts.
import { performance } from 'node:perf_hooks'
import { parentPort, workerData } from 'node:worker_threads'
import { toWireError } from '../../errors.js'
import { DeadlineTimers, performanceOffsetNs } from '../../sys/deadline-timer.js'
import { native } from '../../sys/native.js'
import { MAX_RX_AGE_MS, receivedMsAgo } from '../../sys/rx-age.js'
import { setThreadRealtime } from '../../sys/sched.js'
import { readInbox } from '../inbox.js'
import type { Down } from '../messages.js'
import { NetState } from './netstate.js'
import { Announcer, Channel } from './sockets.js'
import { VrrpWorkerCore } from './worker-core.js'

/**
 * Master_Down wakes the worker this early. Woken 0.6–1.5 ms late and running the takeover's steps
 * cold, the worker sent its first advert 1.5–2.5 ms after the deadline (docs/benchmarks.md); the
 * lead covers the wake-up and the steps, and the rest of it is spent waiting on the clock. After
 * 3.6 s asleep (a 1 s backup) the cold path has taken up to 9 ms here, so 4 ms made the takeover
 * 1–5 ms late; what a longer lead costs is the wait, once per takeover.
 */
const TAKEOVER_LEAD_MS = 15

const port = parentPort
if (!port) throw new Error('src/vrrp/worker/worker.js runs only as a worker thread')

// performance.now() is CLOCK_MONOTONIC less a constant per thread (libuv's hrtime): taken once
const monotonicOffsetNs = performanceOffsetNs()

const announcer = new Announcer()
announcer.prepare()
let closeInbox = (): void => {}
const core = new VrrpWorkerCore({
  post: (m) => {
    port.postMessage(m)
    // the inbox is this thread's last handle once everything else is closed: without it the
    // thread ends by itself, and the main thread need not terminate() it (on libuv 1.44 a
    // terminate() wake-up made this real-time thread spin ~1 s, as any uv_async wake-up did)
    if (m.type === 'stopped') closeInbox()
  },
  now: () => performance.now(),
  wall: () => performance.timeOrigin + performance.now(),
  // one timerfd at the earliest deadline, in ns: setTimeout woke this thread 0.1–0.9 ms late
  openTimers: () => new DeadlineTimers(),
  openNet: (events) => NetState.open(events),
  openChannel: (spec) => new Channel(spec),
  announcer,
  setRealtime: setThreadRealtime,
  tid: () => native().gettid(),
  // the takeover's cold path (state step, advert encoding) runs in this lead, before the deadline
  takeoverLeadMs: TAKEOVER_LEAD_MS,
  // and waits for the deadline itself in C, sending there (sys/sent-ahead.ts)
  deadlineNs: (ms) => monotonicOffsetNs + ms * 1e6,
  // a datagram set aside may be as old as its queue's wait, plus the usual bound
  receivedMsAgo: (ns, maxAgeMs) =>
    receivedMsAgo(ns, undefined, maxAgeMs === undefined ? undefined : maxAgeMs + MAX_RX_AGE_MS),
})
const inboxFd = (workerData as { inboxFd?: unknown } | null)?.inboxFd
if (typeof inboxFd !== 'number') throw new Error('src/vrrp/worker/worker.js needs workerData.inboxFd (VrrpRuntime)')
closeInbox = readInbox(
  inboxFd,
  (m) => core.handle(m as Down),
  (err) => port.postMessage({ type: 'error', error: toWireError(err) }),
)
