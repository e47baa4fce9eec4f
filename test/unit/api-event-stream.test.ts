// The event stream's bound on a reader that does not read: the daemon cuts it off instead of queueing
// without limit, stops delivering to it, and a reader that keeps up is unaffected.
import { mkdtempSync, rmSync } from 'node:fs'
import { type IncomingMessage, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { ControlClient } from '../../src/api/client.js'
import { ControlServer } from '../../src/api/server.js'
import { exampleStatus, FakeDirector } from '../helpers/fake-director.js'

const tick = () => new Promise((r) => setImmediate(r))

/** Turns the loop until `cond` holds; fails after `max` turns rather than hanging the suite. */
async function until(cond: () => boolean, max = 20_000): Promise<boolean> {
  for (let i = 0; i < max; i++) {
    if (cond()) return true
    await tick()
  }
  return cond()
}

test('a reader that stops reading is cut off at the high-water mark; one that keeps up gets every event', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-stream-'))
  const path = join(dir, 'ctl.sock')
  const director = new FakeDirector({ status: exampleStatus() })
  const highWater = 64 * 1024
  const server = await ControlServer.start(director, { path, streamHighWater: highWater })
  t.teardown(async () => {
    await server.close()
    rmSync(dir, { recursive: true, force: true })
  })
  // a stuck reader: takes the response and never reads from it
  const stuck = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request({ socketPath: path, path: '/v1/events' }, resolve)
    req.on('error', reject)
    req.end()
  })
  stuck.pause()
  const ac = new AbortController()
  let healthy = 0
  const reading = (async () => {
    for await (const _ of new ControlClient(path).events({ signal: ac.signal })) healthy++
  })()
  t.true(await until(() => server.streamCount === 2))
  // ~300 bytes an event: far more than the kernel's socket buffers plus the high-water mark
  const from = 'x'.repeat(200)
  let published = 0
  while (server.streamCount === 2 && published < 100_000) {
    for (let i = 0; i < 20; i++, published++)
      director.events.publish('vrrp.drop', { instance: 'web', reason: 'ttl', from })
    await tick()
  }
  t.is(server.streamCount, 1, 'the stuck reader was cut off')
  t.true(published * 300 > highWater)
  director.events.publish('daemon.state', { state: 'ready' })
  published++
  t.true(await until(() => healthy === published))
  ac.abort()
  await reading
  t.is(healthy, published)
  stuck.destroy()
})
