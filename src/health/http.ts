// HTTP and HTTPS check (keepalived HTTP_GET / SSL_GET): status codes and ranges, body regex or digest,
// Host header, TLS SNI and optional verification against a CA file. One request, no keep-alive.
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import http from 'node:http'
import { isIP } from 'node:net'
import tls from 'node:tls'
import { abortable, connectTcp, endpointOf, ProbeFailure, timed } from './probe.js'
import type { HttpOptions, Result, StatusMatch, Target } from './types.js'

const DEFAULT_STATUS: readonly StatusMatch[] = [[200, 299]]
const DEFAULT_MAX_BODY = 1 << 20

export function statusAccepted(code: number, accept: readonly StatusMatch[] = DEFAULT_STATUS): boolean {
  return accept.some((m) => (typeof m === 'number' ? m === code : code >= m[0] && code <= m[1]))
}

/** Whether the body has to be read at all: without a regex or digest only the status line matters. */
function needsBody(o: HttpOptions): boolean {
  return o.bodyRegex !== undefined || o.digest !== undefined
}

async function secure(sock: import('node:net').Socket, o: HttpOptions, signal: AbortSignal): Promise<tls.TLSSocket> {
  const servername =
    o.sni ?? (o.host && isIP(o.host.replace(/:\d+$/, '')) === 0 ? o.host.replace(/:\d+$/, '') : undefined)
  const ca = o.verify && o.caFile ? await readFile(o.caFile) : undefined
  const t = tls.connect({
    socket: sock,
    rejectUnauthorized: o.verify === true,
    ...(servername ? { servername } : {}),
    ...(ca ? { ca } : {}),
  })
  const ready = new Promise<tls.TLSSocket>((resolve, reject) => {
    t.once('secureConnect', () => {
      t.removeListener('error', reject)
      resolve(t)
    })
    t.once('error', reject)
  })
  return abortable(signal, ready, () => t.destroy())
}

export function check(target: Target, o: HttpOptions, signal: AbortSignal): Promise<Result> {
  return timed(signal, async () => {
    const ep = endpointOf(target)
    const raw = await connectTcp(target, signal)
    let sock: import('node:net').Socket = raw
    try {
      if (o.tls) sock = await secure(raw, o, signal)
    } catch (e) {
      raw.destroy()
      throw e
    }
    const hostHeader = o.host ?? (ep.family === 6 ? `[${ep.host}]:${ep.port}` : `${ep.host}:${ep.port}`)
    const req = http.request({
      method: o.method ?? 'GET',
      path: o.path ?? '/',
      headers: { 'user-agent': 'lvsd-health', ...o.headers, host: hostHeader, connection: 'close' },
      // no agent: with one, Node would open its own connection and ignore ours
      createConnection: () => sock,
    })
    const reply = new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
      req.once('error', reject)
      req.once('response', (res) => {
        const status = res.statusCode ?? 0
        if (!needsBody(o)) {
          res.destroy()
          resolve({ status, body: Buffer.alloc(0) })
          return
        }
        const max = o.maxBody ?? DEFAULT_MAX_BODY
        const chunks: Buffer[] = []
        let n = 0
        res.on('data', (d: Buffer) => {
          if (n >= max) return
          chunks.push(d)
          n += d.length
          if (n >= max) res.destroy()
        })
        const done = () => resolve({ status, body: Buffer.concat(chunks).subarray(0, max) })
        res.once('end', done)
        res.once('close', done)
        res.once('error', reject)
      })
      req.end()
    })
    let r: { status: number; body: Buffer }
    try {
      r = await abortable(signal, reply, () => req.destroy())
    } finally {
      sock.destroy()
    }
    if (!statusAccepted(r.status, o.status)) throw new ProbeFailure('status', `HTTP status ${r.status} not accepted`)
    if (o.bodyRegex !== undefined && !new RegExp(o.bodyRegex).test(r.body.toString('utf8'))) {
      throw new ProbeFailure('body', `body does not match /${o.bodyRegex}/`)
    }
    if (o.digest) {
      const got = createHash(o.digest.algorithm).update(r.body).digest('hex')
      if (got !== o.digest.hex.toLowerCase())
        throw new ProbeFailure('body', `body ${o.digest.algorithm} ${got}, expected ${o.digest.hex}`)
    }
    return { detail: `HTTP ${r.status}${o.tls ? ' over TLS' : ''}` }
  })
}
