// TCP, HTTP, HTTPS and SMTP checkers against real servers on 127.0.0.1 (no root needed).
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { check as httpCheck, statusAccepted } from '../../src/health/http.js'
import { replyComplete, check as smtpCheck } from '../../src/health/smtp.js'
import { check as tcpCheck } from '../../src/health/tcp.js'
import type { FailCode, HttpOptions, Target } from '../../src/health/types.js'
import { parseAddr } from '../../src/net/addr.js'

const lo = (port: number): Target => ({ addr: parseAddr('127.0.0.1'), port })
const closers: Array<() => void> = []
test.after.always(() => {
  for (const c of closers) c()
})

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port))
    closers.push(() => server.close())
  })
}

/** A port with nothing listening: bound by us, then released. */
async function closedPort(): Promise<number> {
  const s = net.createServer()
  const p = await listen(s)
  await new Promise((r) => s.close(r))
  return p
}

const BODY = 'hello from rs1 build=42\n'
/** 200 KiB of padding, then a marker: past the regex's 64 KiB, inside the digest's 1 MiB. */
const BIG = `${'x'.repeat(200 * 1024)}marker=7\n`
let httpPort = 0
let httpsPort = 0
let tarpitPort = 0
let certDir = ''
const seen: Array<{ method?: string; url?: string; host?: string }> = []
/** Resolvers waiting for the server to see a /slow request's connection close. */
const slowClosed: Array<() => void> = []

function handler(req: http.IncomingMessage, res: http.ServerResponse) {
  seen.push({ method: req.method, url: req.url, host: req.headers.host })
  if (req.url === '/slow') {
    const timer = setTimeout(() => res.end(BODY), 2000)
    res.once('close', () => {
      clearTimeout(timer)
      slowClosed.shift()?.()
    })
    return
  }
  if (req.url === '/503') {
    res.statusCode = 503
    return void res.end('down for maintenance')
  }
  if (req.url === '/big') return void res.end(BIG)
  if (req.url === '/302') {
    res.statusCode = 302
    return void res.end()
  }
  res.end(BODY)
}

test.before(async () => {
  httpPort = await listen(http.createServer(handler))
  certDir = mkdtempSync(join(tmpdir(), 'lvsd-health-tls-'))
  closers.push(() => rmSync(certDir, { recursive: true, force: true }))
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-keyout',
      join(certDir, 'key.pem'),
      '-out',
      join(certDir, 'cert.pem'),
      '-subj',
      '/CN=rs.example.test',
      '-addext',
      'subjectAltName=DNS:rs.example.test',
    ],
    { stdio: 'ignore' },
  )
  const tlsServer = https.createServer(
    { key: readFileSync(join(certDir, 'key.pem')), cert: readFileSync(join(certDir, 'cert.pem')) },
    handler,
  )
  httpsPort = await listen(tlsServer)
  // accepts connections and never answers
  const held: net.Socket[] = []
  tarpitPort = await listen(net.createServer((s) => held.push(s)))
  closers.push(() => {
    for (const s of held) s.destroy()
  })
})

const signal = (ms = 1500) => AbortSignal.timeout(ms)

test('tcp: a listening port passes', async (t) => {
  const r = await tcpCheck(lo(httpPort), {}, signal())
  t.true(r.ok, r.detail)
  t.true(r.ms >= 0 && r.ms < 1500)
})

test('tcp: a closed port fails as refused', async (t) => {
  const r = await tcpCheck(lo(await closedPort()), {}, signal())
  t.false(r.ok)
  t.is(r.code, 'refused')
})

test('tcp: connect_port overrides the real server port', async (t) => {
  const r = await tcpCheck({ ...lo(await closedPort()), connectPort: httpPort }, {}, signal())
  t.true(r.ok, r.detail)
})

const httpCases: Array<{ title: string; opts: HttpOptions; ok: boolean; code?: FailCode }> = [
  { title: 'a 200 passes by default', opts: {}, ok: true },
  { title: 'a 503 fails with status', opts: { path: '/503' }, ok: false, code: 'status' },
  { title: 'a 302 fails by default', opts: { path: '/302' }, ok: false, code: 'status' },
  { title: 'a 302 passes when listed', opts: { path: '/302', status: [200, 302] }, ok: true },
  { title: 'a 503 passes inside an accepted range', opts: { path: '/503', status: [[500, 599]] }, ok: true },
  { title: 'a matching body regex passes', opts: { bodyRegex: 'build=\\d+' }, ok: true },
  {
    title: 'a body regex that does not match fails with body',
    opts: { bodyRegex: 'build=43' },
    ok: false,
    code: 'body',
  },
  {
    title: 'the right md5 digest passes',
    opts: { digest: { algorithm: 'md5', hex: createHash('md5').update(BODY).digest('hex') } },
    ok: true,
  },
  {
    title: 'the right sha256 digest passes',
    opts: { digest: { algorithm: 'sha256', hex: createHash('sha256').update(BODY).digest('hex') } },
    ok: true,
  },
  {
    title: 'a regex is matched against the first 64 KiB of the body only',
    opts: { path: '/big', bodyRegex: 'marker=7' },
    ok: false,
    code: 'body',
  },
  {
    title: 'a regex inside the first 64 KiB of a large body passes',
    opts: { path: '/big', bodyRegex: '^x+' },
    ok: true,
  },
  {
    title: 'a digest covers a body larger than the regex limit (hashed as it arrives)',
    opts: { path: '/big', digest: { algorithm: 'sha256', hex: createHash('sha256').update(BIG).digest('hex') } },
    ok: true,
  },
  {
    title: 'a regex and a digest on one check are both checked',
    opts: {
      path: '/big',
      bodyRegex: '^x+',
      digest: { algorithm: 'md5', hex: createHash('md5').update(BIG).digest('hex') },
    },
    ok: true,
  },
  {
    title: 'a wrong digest fails with body',
    opts: { digest: { algorithm: 'md5', hex: '0'.repeat(32) } },
    ok: false,
    code: 'body',
  },
]

for (const c of httpCases) {
  test(`http: ${c.title}`, async (t) => {
    const r = await httpCheck(lo(httpPort), c.opts, signal())
    t.is(r.ok, c.ok, r.detail)
    t.is(r.code, c.code)
  })
  test(`https: ${c.title}`, async (t) => {
    const r = await httpCheck(lo(httpsPort), { ...c.opts, tls: true }, signal())
    t.is(r.ok, c.ok, r.detail)
    t.is(r.code, c.code)
  })
}

test('http: method, path and Host header are sent as configured', async (t) => {
  const r = await httpCheck(lo(httpPort), { method: 'HEAD', path: '/health?x=1', host: 'www.example.test' }, signal())
  t.true(r.ok, r.detail)
  t.like(
    seen.find((s) => s.url === '/health?x=1'),
    { method: 'HEAD', host: 'www.example.test' },
  )
})

test('http: a slow answer past the deadline fails as a timeout and closes the connection', async (t) => {
  const closed = new Promise<void>((resolve) => slowClosed.push(resolve))
  const r = await httpCheck(lo(httpPort), { path: '/slow' }, signal(300))
  t.false(r.ok)
  t.is(r.code, 'timeout')
  t.true(r.ms >= 290 && r.ms < 1500, `took ${r.ms} ms`)
  await closed
  t.pass('the server saw the connection close before its answer was due')
})

test('http: a server that accepts and never answers times out', async (t) => {
  const r = await httpCheck(lo(tarpitPort), {}, signal(200))
  t.is(r.code, 'timeout')
})

test('https: verification rejects a self-signed certificate without its CA', async (t) => {
  const r = await httpCheck(lo(httpsPort), { tls: true, verify: true, sni: 'rs.example.test' }, signal())
  t.false(r.ok)
  t.is(r.code, 'tls')
})

test('https: verification passes with the CA file and the right SNI name', async (t) => {
  const r = await httpCheck(
    lo(httpsPort),
    { tls: true, verify: true, sni: 'rs.example.test', caFile: join(certDir, 'cert.pem') },
    signal(),
  )
  t.true(r.ok, r.detail)
})

test('https: verification fails when the SNI name is not in the certificate', async (t) => {
  const r = await httpCheck(
    lo(httpsPort),
    { tls: true, verify: true, sni: 'other.test', caFile: join(certDir, 'cert.pem') },
    signal(),
  )
  t.is(r.code, 'tls')
})

test('https: TLS to a plain HTTP port fails as tls', async (t) => {
  const r = await httpCheck(lo(httpPort), { tls: true }, signal())
  t.false(r.ok)
  t.true(r.code === 'tls' || r.code === 'reset' || r.code === 'protocol' || r.code === 'error', String(r.code))
})

test('status matching takes single codes and inclusive ranges', (t) => {
  t.true(statusAccepted(200))
  t.true(statusAccepted(299))
  t.false(statusAccepted(300))
  t.true(statusAccepted(404, [200, [400, 404]]))
  t.false(statusAccepted(405, [200, [400, 404]]))
})

/** An SMTP server speaking from a script: each line received gets the next reply. */
async function smtpServer(
  banner: string,
  replies: string[],
): Promise<{ port: number; got: string[]; quit: Promise<void> }> {
  const got: string[] = []
  let quitSeen = () => {}
  const quit = new Promise<void>((r) => {
    quitSeen = r
  })
  const port = await listen(
    net.createServer((s) => {
      s.write(banner)
      let i = 0
      let buf = ''
      s.on('data', (d) => {
        buf += d.toString()
        for (let n = buf.indexOf('\r\n'); n >= 0; n = buf.indexOf('\r\n')) {
          got.push(buf.slice(0, n))
          if (buf.startsWith('QUIT')) quitSeen()
          buf = buf.slice(n + 2)
          const r = replies[i++]
          if (r) s.write(r)
        }
      })
      s.on('error', () => {})
    }),
  )
  return { port, got, quit }
}

test('smtp: banner 220 and HELO 250 pass, then QUIT is sent', async (t) => {
  const s = await smtpServer('220-mx.example.test ESMTP\r\n220 ready\r\n', ['250 mx.example.test\r\n', '221 bye\r\n'])
  const r = await smtpCheck(lo(s.port), { heloName: 'lb01' }, signal())
  t.true(r.ok, r.detail)
  await s.quit
  t.deepEqual(s.got, ['HELO lb01', 'QUIT'])
})

test('smtp: EHLO with a multi-line 250 passes', async (t) => {
  const s = await smtpServer('220 ready\r\n', ['250-mx\r\n250-PIPELINING\r\n250 8BITMIME\r\n'])
  const r = await smtpCheck(lo(s.port), { heloName: 'lb01', ehlo: true }, signal())
  t.true(r.ok, r.detail)
  t.is(s.got[0], 'EHLO lb01')
})

test('smtp: a 554 banner fails as protocol', async (t) => {
  const s = await smtpServer('554 no service\r\n', [])
  const r = await smtpCheck(lo(s.port), {}, signal())
  t.is(r.code, 'protocol')
})

test('smtp: a refused HELO fails as protocol', async (t) => {
  const s = await smtpServer('220 ready\r\n', ['501 syntax\r\n'])
  const r = await smtpCheck(lo(s.port), {}, signal())
  t.is(r.code, 'protocol')
})

test('smtp: a silent server times out', async (t) => {
  const r = await smtpCheck(lo(tarpitPort), {}, signal(200))
  t.is(r.code, 'timeout')
})

test('smtp replies are complete at the line without a dash', (t) => {
  t.false(replyComplete(Buffer.from('220-a\r\n')))
  t.true(replyComplete(Buffer.from('220-a\r\n220 b\r\n')))
  t.false(replyComplete(Buffer.from('220 b')))
})
