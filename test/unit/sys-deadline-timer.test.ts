// DeadlineTimers over the real addon (native/timer.cc): a timerfd and a Poller on this thread's
// loop. Order, clear, never early, exceptions, how often the fd is re-armed, and a worker thread's
// lifetime (an empty queue lets it exit, a pending timer keeps it alive), as setTimeout would.
import { readdirSync, readlinkSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { Worker } from 'node:worker_threads'
import test from 'ava'
import { type DeadlineHandle, DeadlineTimers, monotonicNs, performanceOffsetNs } from '../../src/sys/deadline-timer.js'
import { type NativeAddon, native } from '../../src/sys/native.js'

const moduleUrl = new URL('../../src/sys/deadline-timer.js', import.meta.url).href

function timerfds(): number {
  let n = 0
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:[timerfd]') n++
    } catch {}
  }
  return n
}

test('the queue clock is CLOCK_MONOTONIC: the clock of process.hrtime, and performance.now() plus a constant', async (t) => {
  const q = new DeadlineTimers()
  t.teardown(() => q.close())
  const n = native() as NativeAddon & { monotonicNs(): number }
  const before = process.hrtime.bigint()
  const mono = n.monotonicNs()
  const after = process.hrtime.bigint()
  t.true(mono >= Number(before) - 1 && mono <= Number(after) + 1, `${before} <= ${mono} <= ${after}`)
  // one constant offset to performance.now() fits every sample: each bracketed read puts it in
  // [m − p2, m − p1], and all those intervals overlap (however long a preemption between reads)
  let low = Number.NEGATIVE_INFINITY
  let high = Number.POSITIVE_INFINITY
  const sample = () => {
    const p1 = performance.now()
    const m = q.now()
    const p2 = performance.now()
    low = Math.max(low, m - p2)
    high = Math.min(high, m - p1)
  }
  for (let i = 0; i < 1000; i++) sample()
  // 30 ms later, by the queue's own timer: the offset must hold across time, not only within a burst
  await new Promise<void>((resolve) => q.set(resolve, 30))
  for (let i = 0; i < 1000; i++) sample()
  // 1e-6 ms: rounding of performance.now()'s subtraction of its time origin
  t.true(low <= high + 1e-6, `no constant offset: ${low} > ${high}`)
})

test('timers fire in deadline order, each deadline = set time + fractional ms, none before its deadline', async (t) => {
  const q = new DeadlineTimers()
  t.teardown(() => q.close())
  const clock = native() as NativeAddon & { monotonicNs(): number }
  const fired: Array<{ name: string; now: number }> = []
  const set: Array<{ name: string; h: DeadlineHandle; from: number; to: number; ms: number }> = []
  const all = new Promise<void>((resolve) => {
    const at = (name: string, ms: number) => {
      const from = clock.monotonicNs()
      const h = q.set(() => {
        fired.push({ name, now: clock.monotonicNs() })
        if (fired.length === 6) resolve()
      }, ms)
      set.push({ name, h, from, to: clock.monotonicNs(), ms: Math.max(0, ms) })
    }
    at('c', 6.75)
    at('a1', 2.5)
    at('b', 4.25)
    at('a2', 2.5)
    at('zero', 0)
    at('neg', -3)
  })
  t.is(q.size, 6)
  for (const s of set) {
    // the deadline is the clock at set() plus the delay to the ns, not rounded to a ms
    const lo = s.from + s.ms * 1e6
    const hi = s.to + s.ms * 1e6
    t.true(s.h.at >= lo && s.h.at <= hi, `${s.name}: ${lo} <= ${s.h.at} <= ${hi}`)
  }
  await all
  // by deadline (a loaded machine may space the set() calls by ms, so not by the delays alone)
  const byDeadline = [...set].sort((a, b) => a.h.at - b.h.at || a.h.seq - b.h.seq).map((s) => s.name)
  t.deepEqual(
    fired.map((f) => f.name),
    byDeadline,
  )
  for (const f of fired) {
    const h = set.find((s) => s.name === f.name)?.h as DeadlineHandle
    t.true(f.now >= h.at, `${f.name} ran ${(h.at - f.now) / 1e6} ms early`)
  }
  t.is(q.size, 0)
})

test('clear() cancels a pending timer; an already-run, cleared or undefined handle is ignored', async (t) => {
  const q = new DeadlineTimers()
  t.teardown(() => q.close())
  const ran: string[] = []
  const gone = q.set(() => ran.push('gone'), 3)
  await new Promise<void>((resolve) => {
    const done = q.set(() => {
      ran.push('done')
      q.clear(done)
      q.clear(gone)
      q.clear(undefined)
      resolve()
    }, 8)
    q.clear(gone)
  })
  t.deepEqual(ran, ['done'])
  t.is(q.size, 0)
})

test('a 20 ms timer runs no earlier than 20 ms by performance.now(), and not absurdly late', async (t) => {
  const q = new DeadlineTimers()
  t.teardown(() => q.close())
  const lates: number[] = []
  for (let i = 0; i < 5; i++) {
    const set = performance.now()
    const ran = await new Promise<number>((resolve) => q.set(() => resolve(performance.now()), 20))
    lates.push(ran - set - 20)
  }
  t.log(`lateness ms: ${lates.map((l) => l.toFixed(3)).join(' ')}`)
  for (const l of lates) t.true(l >= 0, `ran ${-l} ms early`)
  // the machine is shared and loaded: only a bound that a working timer cannot miss on it
  t.true(Math.min(...lates) < 15, `best of 5 was ${Math.min(...lates)} ms late`)
})

test('a throwing callback goes to onError, and the other due timers and later ones still run', async (t) => {
  const errors: unknown[] = []
  const q = new DeadlineTimers((e) => errors.push(e))
  t.teardown(() => q.close())
  const ran: string[] = []
  await new Promise<void>((resolve) => {
    q.set(() => {
      throw new Error('first')
    }, 2)
    q.set(() => ran.push('same pass'), 2)
    q.set(() => {
      ran.push('later')
      resolve()
    }, 6)
  })
  t.deepEqual(ran, ['same pass', 'later'])
  t.deepEqual(
    errors.map((e) => (e as Error).message),
    ['first'],
  )
})

test('the fd is armed once per turn at the earliest deadline, disarmed when none is left, and wakes only for a due timer', async (t) => {
  const real = native() as NativeAddon & {
    timerfdSetAbs(fd: number, ns: number): void
    timerfdRead(fd: number): number
  }
  const armed: number[] = []
  /** Timers run before each wake-up's read of the fd. */
  const atWake: number[] = []
  const spy = {
    ...real,
    timerfdSetAbs: (fd: number, ns: number) => {
      armed.push(ns)
      real.timerfdSetAbs(fd, ns)
    },
    timerfdRead: (fd: number) => {
      atWake.push(ran.length)
      return real.timerfdRead(fd)
    },
  } as NativeAddon
  const q = new DeadlineTimers(undefined, spy)
  t.teardown(() => q.close())
  const turn = () => new Promise<void>((resolve) => setImmediate(resolve))
  const ran: string[] = []
  // a backup hearing adverts: Master_Down cleared and set later, several times in one turn
  let h = q.set(() => ran.push('first'), 30)
  for (let i = 1; i <= 5; i++) {
    q.clear(h)
    h = q.set(() => ran.push('moved'), 30 + i)
  }
  t.is(armed.length, 0, 'nothing is armed before the turn ends')
  await turn()
  t.is(armed.length, 1, 'one timerfd_settime for the whole turn')
  t.true((armed[0] as number) >= Math.ceil(h.at))
  // clearing the only timer disarms the fd, so it does not wake the thread for nothing
  q.clear(h)
  await turn()
  t.deepEqual(armed.slice(1), [0])
  // and set again later in separate turns: one arm each (250 ms apart from the 5 ms one, so a
  // stalled turn on a loaded machine cannot make the later-set timer the later deadline)
  h = q.set(() => ran.push('moved'), 250)
  await turn()
  const early = q.set(() => ran.push('early'), 5)
  await turn()
  t.is(armed.length, 4)
  t.is(armed[3], Math.ceil(early.at), 'an earlier deadline re-arms it')
  await new Promise<void>((resolve) =>
    q.set(() => {
      ran.push('end')
      resolve()
    }, 300),
  )
  t.deepEqual(ran, ['early', 'moved', 'end'])
  // (a loaded machine may run two of them on one wake-up)
  t.true(atWake.length >= 1 && atWake.length <= 3, `${atWake.length} wake-ups`)
  t.true(
    [...atWake, ran.length].every((n, i, all) => i === 0 || n > (all[i - 1] as number)),
    `every wake-up ran a timer (timers run before each wake: ${atWake})`,
  )
  t.true(
    armed.every((ns, i) => i === 0 || ns !== armed[i - 1]),
    'never armed twice in a row for the same time',
  )
})

test('close() drops pending timers and closes the timerfd; a timer set afterwards never runs', async (t) => {
  const before = timerfds()
  const q = new DeadlineTimers()
  t.is(timerfds(), before + 1)
  let ran = 0
  q.set(() => ran++, 1)
  q.close()
  q.close()
  t.is(timerfds(), before)
  t.is(q.size, 0)
  q.set(() => ran++, 0)
  t.is(q.size, 0)
  // a timer of another queue, set later and due later, fires: the closed queue's would have by then
  const other = new DeadlineTimers()
  await new Promise<void>((resolve) => other.set(resolve, 1))
  other.close()
  t.is(ran, 0)
})

type Outcome = { messages: unknown[]; code: number; ms: number; error?: string }

/** Runs `body` in a worker with `q` = new DeadlineTimers() and `post`; resolves at its exit. */
function inWorker(body: string, limitMs = 20_000): Promise<Outcome> {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads')
    const post = (m) => parentPort.postMessage(m)
    import(workerData.url).then(({ DeadlineTimers }) => {
      const q = new DeadlineTimers()
      ${body}
    })`
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const w = new Worker(code, { eval: true, workerData: { url: moduleUrl } })
    const messages: unknown[] = []
    let error: string | undefined
    const limit = setTimeout(() => {
      void w.terminate()
      reject(new Error(`worker still alive after ${limitMs} ms; messages ${JSON.stringify(messages)}`))
    }, limitMs)
    w.on('message', (m) => messages.push(m))
    w.on('error', (e) => (error = e.message))
    w.on('exit', (code) => {
      clearTimeout(limit)
      resolve({ messages, code, ms: performance.now() - started, ...(error ? { error } : {}) })
    })
  })
}

test('a worker whose queue is empty (its one timer cleared) exits without waiting for the timer', async (t) => {
  const r = await inWorker(`
    const h = q.set(() => post('fired'), 10_000)
    q.clear(h)
    post('cleared')`)
  t.deepEqual(r.messages, ['cleared'])
  t.is(r.code, 0)
  t.true(r.ms < 9_000, `exited after ${r.ms} ms`)
})

test('a pending timer keeps a worker alive until it has run, then the worker exits', async (t) => {
  const r = await inWorker(`
    const set = performance.now()
    q.set(() => post(performance.now() - set), 300)`)
  t.is(r.code, 0)
  t.is(r.messages.length, 1)
  t.true((r.messages[0] as number) >= 300, `ran after ${r.messages[0]} ms`)
  t.true(r.ms >= 300)
})

test('without onError a throwing callback is the worker uncaught error, after the other due timer ran', async (t) => {
  const r = await inWorker(`
    q.set(() => { throw new Error('boom') }, 5)
    q.set(() => post('other'), 5)
    q.set(() => post('much later'), 60_000)
    // both 5 ms timers are due at the first wake-up, however late this thread gets the CPU
    const until = performance.now() + 20
    while (performance.now() < until) {}`)
  t.is(r.error, 'boom')
  t.deepEqual(r.messages, ['other'])
  t.is(r.code, 1)
})

test('performanceOffsetNs is never below the true offset, and takes the narrowest of its tries', (t) => {
  // one clock in ns; performance.now() reads it less 5 s, in ms; each read moves it on
  const trueOffset = 5e9
  let clock = 7e9
  const steps = [40e6, 3e6, 2000, 500, 9e6, 1000, 1000, 30e6, 700, 700, 800, 800, 200, 200, 200]
  let i = 0
  const tick = () => {
    clock += steps[i++ % steps.length] as number
    return clock
  }
  const offset = performanceOffsetNs(
    () => (tick() - trueOffset) / 1e6,
    () => tick(),
  )
  t.true(offset >= trueOffset, `${offset}`)
  // the last try (reads 200 ns apart) is the narrowest: the offset is late by the 200 ns before its monotonic read
  t.true(Math.abs(offset - (trueOffset + 200)) < 1, `${offset}`)
  const real = performanceOffsetNs()
  const now = performance.now()
  const mono = monotonicNs()
  t.true(real + now * 1e6 <= mono + 1e6, 'the real offset converts now to within a ms of the monotonic clock')
  t.true(real + now * 1e6 >= mono - 1e6)
})
