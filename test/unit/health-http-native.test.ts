// The native HTTP check (src/health/http-native.ts over native/http_probe.cc) against real servers
// on loopback (no root needed): the request it sends, status and body matching (Content-Length,
// chunked, to the end of the connection), hostile replies ending with a reason, cancellation, and the
// scheduler sending plain HTTP checks through it while TLS and digests stay with Node.
import net from 'node:net'
import test from 'ava'
import { type CheckRunner, realRunner } from '../../src/health/check-runs.js'
import { httpResult, httpWire, requestBytes, startHttpProbe } from '../../src/health/http-native.js'
import { Scheduler } from '../../src/health/scheduler.js'
import type { HttpOptions, Result, ServerSpec } from '../../src/health/types.js'
import { parseAddr } from '../../src/net/addr.js'
import { HttpProbes } from '../../src/sys/http-probe.js'
import { until } from '../helpers/until.js'

/** A server that hands each connection to `answer` once it has read the request's header. */
async function server(answer: (c: net.Socket, request: string) => void) {
  const seen: string[] = []
  const closed = { n: 0 }
  const srv = net.createServer((c) => {
    c.on('error', () => {})
    c.on('close', () => closed.n++)
    let got = ''
    const onData = (d: Buffer) => {
      got += d.toString('latin1')
      if (!got.includes('\r\n\r\n')) return
      c.off('data', onData)
      seen.push(got)
      answer(c, got)
    }
    c.on('data', onData)
  })
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as net.AddressInfo).port
  return { port, seen, closed, close: () => srv.close() }
}

const target = (port: number) => ({ addr: parseAddr('127.0.0.1'), port })

/** One check through the native prober, as the scheduler runs it. */
function once(port: number, o: HttpOptions): Promise<Result> {
  const w = httpWire(target(port), o)
  if (w === undefined || !('http' in w)) throw new Error('not a native check')
  const t0 = performance.now()
  return new Promise((resolve) => {
    const id = startHttpProbe(w, (out) => resolve(httpResult(w, out, performance.now() - t0)))
    if (typeof id !== 'number') resolve(id)
  })
}

const reply = (status: string, body: string, extra = '') =>
  `HTTP/1.1 ${status}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}\r\n${body}`

test('the request is the one Node would send: method, path, Host, user-agent, headers, Connection: close', async (t) => {
  const s = await server((c) => c.end(reply('200 OK', 'fine')))
  t.teardown(s.close)
  const r = await once(s.port, { method: 'GET', path: '/health?x=1', headers: { 'X-Probe': 'lvsd' } })
  t.true(r.ok, r.detail)
  t.is(r.detail, 'HTTP 200')
  t.is(
    s.seen[0],
    `GET /health?x=1 HTTP/1.1\r\nuser-agent: lvsd-health\r\nx-probe: lvsd\r\nhost: 127.0.0.1:${s.port}\r\nconnection: close\r\n\r\n`,
  )
  t.is(
    requestBytes(target(80), { host: 'www.example.test', headers: { 'User-Agent': 'mine' } })?.toString(),
    'GET / HTTP/1.1\r\nuser-agent: mine\r\nhost: www.example.test\r\nconnection: close\r\n\r\n',
  )
})

test('the status decides: 503 fails, a status list and ranges accept it', async (t) => {
  const s = await server((c) => c.end(reply('503 Service Unavailable', 'down')))
  t.teardown(s.close)
  const bad = await once(s.port, {})
  t.false(bad.ok)
  t.is(bad.code, 'status')
  t.is(bad.detail, 'HTTP status 503 not accepted')
  t.true((await once(s.port, { status: [503] })).ok)
  t.true((await once(s.port, { status: [[500, 599]] })).ok)
})

test('a body regex is matched on the body: Content-Length, chunked, or read to the end of the connection', async (t) => {
  const bodies: Record<string, (c: net.Socket) => void> = {
    '/length': (c) => c.end(reply('200 OK', 'status: healthy')),
    '/chunked': (c) =>
      c.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\nstatus:\r\n9\r\n healthy \r\n0\r\n\r\n'),
    // the chunks stay open: the final chunk alone ends the read, not the connection
    '/chunked-open': (c) =>
      c.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n7\r\nstatus:\r\n9\r\n healthy \r\n0\r\n\r\n'),
    '/to-close': (c) => c.end('HTTP/1.0 200 OK\r\n\r\nstatus: healthy'),
  }
  const s = await server((c, req) => bodies[req.split(' ')[1] as string]?.(c))
  t.teardown(s.close)
  for (const path of Object.keys(bodies)) {
    const r = await once(s.port, { path, bodyRegex: '^status: healthy ?$' })
    t.true(r.ok, `${path}: ${r.detail}`)
    const no = await once(s.port, { path, bodyRegex: 'sick' })
    t.is(no.code, 'body', path)
    t.is(no.detail, 'body does not match /sick/')
  }
})

test('hostile replies end with a reason: an endless body at its cap, a 1 MB header, not HTTP, closed early, refused', async (t) => {
  const s = await server((c, req) => {
    const path = req.split(' ')[1]
    if (path === '/endless') {
      c.write('HTTP/1.1 200 OK\r\n\r\n')
      const chunk = Buffer.alloc(64 * 1024, 'x')
      const more = () => {
        while (!c.destroyed && c.write(chunk));
        if (!c.destroyed) c.once('drain', more)
      }
      more()
    } else if (path === '/big-header') c.end(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(1 << 20)}\r\n\r\nok`)
    else if (path === '/ssh') c.end('SSH-2.0-OpenSSH_9.2\r\n\r\n')
    else c.destroy()
  })
  t.teardown(s.close)
  const endless = await once(s.port, { path: '/endless', bodyRegex: 'ok' })
  t.is(endless.code, 'body', 'the first 64 KiB do not match and nothing more is read')
  t.true(endless.ms < 2000, `${endless.ms} ms`)
  const big = await once(s.port, { path: '/big-header' })
  t.is(big.code, 'protocol')
  t.is(big.detail, 'reply header over 16 KiB')
  const ssh = await once(s.port, { path: '/ssh' })
  t.is(ssh.code, 'protocol')
  t.is(ssh.detail, 'the reply is not HTTP/1.x')
  const early = await once(s.port, { path: '/close' })
  t.is(early.code, 'reset')
  s.close()
  const refused = await once(s.port, {})
  t.is(refused.code, 'refused')
})

test('a cancelled check never calls back, and its socket is reset at once', async (t) => {
  // a reply dripped a byte at a time: the check would wait for its header forever
  const s = await server((c) => c.write('H'))
  t.teardown(s.close)
  const p = new HttpProbes()
  t.teardown(() => p.close())
  const w = httpWire(target(s.port), {})
  if (w === undefined || !('http' in w)) return t.fail('not native')
  let called = 0
  const id = p.start(w.http, () => called++)
  t.true(id >= 0)
  await until(() => s.seen.length === 1, 5000, 'the request arrived')
  t.is(p.size, 1)
  p.cancel(id)
  t.is(p.size, 0)
  await until(() => s.closed.n === 1, 5000, 'the server saw the connection end')
  await new Promise((r) => setTimeout(r, 50))
  t.is(called, 0)
})

test('TLS, a digest, a HEAD with a regex and a header with a line break go through Node', (t) => {
  const tg = target(80)
  t.is(httpWire(tg, { tls: true }), undefined)
  t.is(httpWire(tg, { digest: { algorithm: 'md5', hex: '00' } }), undefined)
  t.is(httpWire(tg, { method: 'HEAD', bodyRegex: 'x' }), undefined)
  t.is(httpWire(tg, { headers: { 'x-a': 'b\r\nx-evil: 1' } }), undefined)
  t.is(httpWire(tg, { path: '/a b' }), undefined)
  t.truthy(httpWire(tg, { method: 'HEAD' }))
})

test('the scheduler runs plain HTTP checks on the native prober and TLS ones through run()', async (t) => {
  const s = await server((c) => c.end(reply('200 OK', 'ok')))
  t.teardown(s.close)
  const ran: string[] = []
  const runner: CheckRunner = {
    ...realRunner,
    run: async (spec) => {
      ran.push(spec.id)
      return { ok: true, ms: 1, detail: 'through run()' }
    },
  }
  const results: Array<[string, Result]> = []
  const sched = new Scheduler({ runner, onResult: (_s, c, r) => results.push([c, r]), onTransition: () => {} })
  t.teardown(() => sched.stop())
  const spec: ServerSpec = {
    id: 'rs',
    target: target(s.port),
    checks: [
      { id: 'plain', kind: 'http', opts: { path: '/' }, intervalMs: 200, timeoutMs: 1000 },
      { id: 'tls', kind: 'http', opts: { tls: true }, intervalMs: 200, timeoutMs: 1000 },
    ],
    policy: { rise: 1, fall: 1, retry: 0, retryDelayMs: 0, initial: 'up', weight: 1, slowStartMs: 0 },
  }
  sched.set([spec])
  await until(() => results.filter(([c]) => c === 'plain').length >= 3, 5000, 'three plain checks')
  const plain = results.filter(([c]) => c === 'plain').map(([, r]) => r)
  t.true(
    plain.every((r) => r.ok && r.detail === 'HTTP 200'),
    JSON.stringify(plain),
  )
  t.true(ran.includes('tls'), 'the TLS check went through run()')
  t.false(ran.includes('plain'), 'the plain one never did')
  t.true(s.seen.length >= 3, 'the server answered each')
})

test('a reply followed at once by a reset still counts: the data that came first is read first', async (t) => {
  // the reply and the RST leave in one turn of the server (same process): both have arrived by the
  // time the prober's epoll set is next read, which reports the reset as an error
  const s = await server((c) => {
    c.write(reply('200 OK', 'ok'))
    c.resetAndDestroy()
  })
  t.teardown(s.close)
  const w = httpWire(target(s.port), {})
  if (w === undefined || !('http' in w)) return t.fail('not native')
  const p = new HttpProbes()
  t.teardown(() => p.close())
  const o = await new Promise<Parameters<Parameters<HttpProbes['start']>[1]>[0]>((resolve) => p.start(w.http, resolve))
  t.deepEqual(o, { kind: 'reply', status: 200, reply: undefined })
})
