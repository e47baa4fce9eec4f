// sd_notify over a real AF_UNIX datagram socket bound in a temp dir (and in the abstract namespace):
// the messages systemd reads, the watchdog period and who it applies to, and the no-op without systemd.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { notifyAddress, SystemdNotifier, watchdogPeriod } from '../../src/api/systemd.js'
import { AF_UNIX, SOCK_DGRAM } from '../../src/sys/constants.js'
import { sockaddrUn } from '../../src/sys/sockaddr.js'
import { Socket } from '../../src/sys/socket.js'

/** A receiving notify socket, as systemd binds it. */
function receiver(t: { teardown(fn: () => void): void }, opts: { abstract?: boolean } = {}) {
  const s = Socket.open(AF_UNIX, SOCK_DGRAM, 0)
  let value: string
  if (opts.abstract) {
    const name = `lvsd-test-notify-${process.pid}-${Math.random().toString(36).slice(2)}`
    s.bind(sockaddrUn(name, { abstract: true }))
    value = `@${name}`
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'lvsd-notify-'))
    value = join(dir, 'notify')
    s.bind(sockaddrUn(value))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  }
  t.teardown(() => s.close())
  // unix datagrams are queued by the sendto itself: everything sent is readable at once
  return { value, messages: () => s.receiveAll().map((m) => m.data.toString('utf8')) }
}

test('READY, STATUS, RELOADING with MONOTONIC_USEC, STOPPING and WATCHDOG arrive as systemd reads them', (t) => {
  const r = receiver(t)
  const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: r.value }, monotonicUsec: () => 123456789n })
  t.teardown(() => n.close())
  t.true(n.enabled)
  t.true(n.ready('2 instances, 3 services'))
  t.true(n.status('reloading\nnow'))
  t.true(n.reloading())
  t.true(n.ready())
  t.true(n.watchdog())
  t.true(n.stopping('SIGTERM'))
  t.deepEqual(r.messages(), [
    'READY=1\nSTATUS=2 instances, 3 services',
    'STATUS=reloading now',
    'RELOADING=1\nMONOTONIC_USEC=123456789',
    'READY=1',
    'WATCHDOG=1',
    'STOPPING=1\nSTATUS=SIGTERM',
  ])
})

test('an abstract-namespace NOTIFY_SOCKET (@name) is reached without a filesystem entry', (t) => {
  const r = receiver(t, { abstract: true })
  const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: r.value } })
  t.teardown(() => n.close())
  t.true(n.ready())
  t.deepEqual(r.messages(), ['READY=1'])
})

test('the default MONOTONIC_USEC is CLOCK_MONOTONIC in microseconds', (t) => {
  const r = receiver(t)
  const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: r.value } })
  t.teardown(() => n.close())
  const before = process.hrtime.bigint() / 1000n
  n.reloading()
  const after = process.hrtime.bigint() / 1000n
  const m = /^RELOADING=1\nMONOTONIC_USEC=(\d+)$/.exec(r.messages()[0] ?? '')
  t.truthy(m)
  const usec = BigInt(m![1]!)
  t.true(usec >= before && usec <= after)
})

test('without NOTIFY_SOCKET every call is a no-op that reports false', (t) => {
  const n = new SystemdNotifier({ env: { WATCHDOG_USEC: '1000000' } })
  t.false(n.enabled)
  t.false(n.ready())
  t.false(n.watchdog())
  t.is(n.startWatchdog(), undefined)
  t.is(n.lastError, undefined)
  n.close()
})

test('an unsupported NOTIFY_SOCKET (vsock:) disables notifications and says why', (t) => {
  t.true('unsupported' in notifyAddress('vsock:2:1234'))
  const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: 'vsock:2:1234' } })
  t.false(n.enabled)
  t.false(n.ready())
  t.regex(n.lastError ?? '', /vsock/)
})

test('a notify socket nobody listens on makes notify return false with the error, never throw', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-notify-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const n = new SystemdNotifier({ env: { NOTIFY_SOCKET: join(dir, 'gone') } })
  t.teardown(() => n.close())
  t.true(n.enabled)
  t.false(n.ready())
  t.truthy(n.lastError)
})

test('watchdog period: half of WATCHDOG_USEC, only for the watched pid or when WATCHDOG_PID is unset', (t) => {
  t.is(watchdogPeriod({ WATCHDOG_USEC: '20000000' }, 7), 10_000)
  t.is(watchdogPeriod({ WATCHDOG_USEC: '20000000', WATCHDOG_PID: '7' }, 7), 10_000)
  t.is(watchdogPeriod({ WATCHDOG_USEC: '20000000', WATCHDOG_PID: '8' }, 7), undefined)
  t.is(watchdogPeriod({ WATCHDOG_USEC: '0' }, 7), undefined)
  t.is(watchdogPeriod({ WATCHDOG_USEC: 'soon' }, 7), undefined)
  t.is(watchdogPeriod({}, 7), undefined)
  t.is(watchdogPeriod({ WATCHDOG_USEC: '1' }, 7), 1)
})

test('the watchdog ticker pings WATCHDOG=1 each period while alive, skips when not, stops on close', (t) => {
  const r = receiver(t)
  const ticks: { fn: () => void; ms: number; cancelled: boolean }[] = []
  const n = new SystemdNotifier({
    env: { NOTIFY_SOCKET: r.value, WATCHDOG_USEC: '3000000', WATCHDOG_PID: '42' },
    pid: 42,
    repeat: (fn, ms) => {
      const tick = { fn, ms, cancelled: false }
      ticks.push(tick)
      return () => {
        tick.cancelled = true
      }
    },
  })
  let alive = true
  t.is(
    n.startWatchdog(() => alive),
    1500,
  )
  t.is(n.startWatchdog(), undefined, 'a second start does not add a second ticker')
  t.is(ticks.length, 1)
  ticks[0]!.fn()
  ticks[0]!.fn()
  alive = false
  ticks[0]!.fn()
  t.deepEqual(r.messages(), ['WATCHDOG=1', 'WATCHDOG=1'])
  n.close()
  t.true(ticks[0]!.cancelled)
})

test('a process other than WATCHDOG_PID starts no ticker', (t) => {
  const r = receiver(t)
  let started = 0
  const n = new SystemdNotifier({
    env: { NOTIFY_SOCKET: r.value, WATCHDOG_USEC: '3000000', WATCHDOG_PID: '1' },
    pid: 42,
    repeat: () => {
      started++
      return () => {}
    },
  })
  t.teardown(() => n.close())
  t.is(n.startWatchdog(), undefined)
  t.is(started, 0)
})
