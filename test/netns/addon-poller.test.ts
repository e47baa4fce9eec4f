// Socket and Poller behaviour with the real addon, each scenario in its own node process (an
// uncaught exception or an event loop left running must not touch the test runner).
import { spawnSync } from 'node:child_process'
import test from 'ava'
import { agent } from './agents/addon-harness.js'

function scenario(name: string): Record<string, unknown> {
  const r = spawnSync(process.execPath, [agent('addon-poller'), name], { encoding: 'utf8', timeout: 15_000 })
  if (r.status !== 0)
    throw new Error(`scenario ${name}: status ${r.status} signal ${r.signal}\n${r.stdout}\n${r.stderr}`)
  const line = r.stdout.split('\n').find((l) => l.includes('"result"'))
  if (!line) throw new Error(`scenario ${name} printed no result:\n${r.stdout}\n${r.stderr}`)
  return JSON.parse(line) as Record<string, unknown>
}

test('an exception thrown by a receive handler reaches uncaughtException and delivery continues', (t) => {
  t.like(scenario('throw'), { seen: ['one', 'two', 'three'], caught: 'handler boom' })
})

test('a burst queued before onReceive is delivered in order, each message in its own memory', (t) => {
  t.like(scenario('copies'), {
    texts: ['burst-0', 'burst-1', 'burst-2', 'burst-3', 'burst-4'],
    distinct: 5,
  })
})

test('a borrowing socket hands views of its own two buffers; receiveAll still copies', (t) => {
  const r = scenario('borrow')
  t.like(r, {
    early: ['early-0', 'early-1', 'early-2'],
    earlyDistinct: 3,
    got: 20_000,
    fromOk: true,
    distinct: 2,
  })
  const texts = r.texts as string[]
  t.deepEqual(
    texts.map((s) => s.replace(/\.+$/, '')),
    ['m-0', 'm-1', 'm-2', 'm-3', 'm-4'],
  )
  t.true((r.arrayBufferGrowthKiB as number) < 512, `${r.arrayBufferGrowthKiB} KiB of ArrayBuffers`)
})

test('close() inside the handler stops delivery and later calls fail with EBADF', (t) => {
  t.like(scenario('close'), { calls: 1, afterClose: 'EBADF', fd: -1 })
})

test('an unref()d receiving socket lets the process exit', (t) => {
  t.like(scenario('unref'), { exitedWhileReceiving: true })
})

test('send() returns false on a full peer queue instead of throwing', (t) => {
  const r = scenario('eagain')
  t.is(r.full, true)
  t.is(r.drained, r.sent)
})
