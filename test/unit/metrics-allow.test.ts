// metrics.allow: a client outside the list is closed at accept, before any byte of its request is read,
// and counted; a client inside it scrapes as usual.
import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { startApi } from '../../src/api/start.js'
import { parseAddr, parsePrefix } from '../../src/net/addr.js'
import { exampleStatus, FakeDirector } from '../helpers/fake-director.js'

async function api(t: { teardown(fn: () => void | Promise<void>): void }, allow: string[]) {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-allow-'))
  const a = await startApi(new FakeDirector({ status: exampleStatus() }), {
    control: { socket: join(dir, 'ctl.sock'), mode: 0o660, group: undefined },
    metrics: { enabled: true, address: parseAddr('127.0.0.1'), port: 0, allow: allow.map((p) => parsePrefix(p)) },
  })
  t.teardown(async () => {
    await a.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return a
}

/** Sends a request and collects whatever comes back until the server closes. */
function ask(port: number): Promise<string> {
  return new Promise((resolve) => {
    let got = ''
    const s = connect(port, '127.0.0.1', () => s.write('GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'))
    s.on('data', (d) => {
      got += d.toString()
    })
    s.on('error', () => {})
    s.on('close', () => resolve(got))
  })
}

test('a client outside metrics.allow is closed with no answer and counted', async (t) => {
  const a = await api(t, ['10.0.0.0/8'])
  const port = a.metricsServer?.port ?? 0
  t.is(await ask(port), '')
  t.is(await ask(port), '')
  t.regex(a.metrics.render(), /^lvsd_metrics_refused_connections_total 2$/m)
})

test('a client inside metrics.allow scrapes', async (t) => {
  const a = await api(t, ['192.0.2.0/24', '127.0.0.0/8'])
  const reply = await ask(a.metricsServer?.port ?? 0)
  t.regex(reply, /^HTTP\/1\.1 200/)
  t.regex(reply, /lvsd_vrrp_state/)
  t.regex(a.metrics.render(), /^lvsd_metrics_refused_connections_total 0$/m)
})
