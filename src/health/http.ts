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
/**
 * Body bytes a regex is matched against: decoding the body to a string is the check's main cost, and
 * 1,000 servers sending endless bodies at 1 MiB each took a whole core (docs/benchmarks.md, hostile
 * real servers). A health page is far smaller.
 */
export const DEFAULT_MAX_REGEX_BODY = 64 * 1024
/** Body bytes a digest covers: hashed as they arrive, never held or decoded. */
const DEFAULT_MAX_DIGEST_BODY = 1 << 20
/** TLS contexts by CA (one per process without a CA file): building one per check cost ~0.5 ms of CPU. */
const contexts = new Map<string, tls.SecureContext>()

function contextFor(ca: Buffer | undefined): tls.SecureContext {
  const key = ca ? createHash('sha256').update(ca).digest('hex') : ''
  let c = contexts.get(key)
  if (!c) {
    if (contexts.size >= 64) contexts.clear() // CA files that keep changing must not grow memory
    c = tls.createSecureContext(ca ? { ca } : {})
    contexts.set(key, c)
  }
  return c
}

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
    secureContext: contextFor(ca),
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
    const reply = new Promise<{ status: number; body: Buffer; digest?: string }>((resolve, reject) => {
      req.once('error', reject)
      req.once('response', (res) => {
        const status = res.statusCode ?? 0
        if (!needsBody(o)) {
          res.destroy()
          resolve({ status, body: Buffer.alloc(0) })
          return
        }
        // the regex's bytes are kept, the digest's only hashed; reading stops once both have enough
        const keep = o.bodyRegex === undefined ? 0 : (o.maxBody ?? DEFAULT_MAX_REGEX_BODY)
        const hashMax = o.digest ? (o.maxBody ?? DEFAULT_MAX_DIGEST_BODY) : 0
        const hash = o.digest ? createHash(o.digest.algorithm) : undefined
        const chunks: Buffer[] = []
        let kept = 0
        let hashed = 0
        res.on('data', (d: Buffer) => {
          if (kept < keep) {
            const part = d.subarray(0, keep - kept)
            chunks.push(part)
            kept += part.length
          }
          if (hash && hashed < hashMax) {
            const part = d.subarray(0, hashMax - hashed)
            hash.update(part)
            hashed += part.length
          }
          if (kept >= keep && hashed >= hashMax) res.destroy()
        })
        let digest: string | undefined
        // 'end' and then 'close' both come: a hash can be finished only once
        const done = () => {
          if (hash && digest === undefined) digest = hash.digest('hex')
          resolve({ status, body: Buffer.concat(chunks, kept), ...(digest === undefined ? {} : { digest }) })
        }
        res.once('end', done)
        res.once('close', done)
        res.once('error', reject)
      })
      req.end()
    })
    let r: { status: number; body: Buffer; digest?: string }
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
      const got = r.digest ?? ''
      if (got !== o.digest.hex.toLowerCase())
        throw new ProbeFailure('body', `body ${o.digest.algorithm} ${got}, expected ${o.digest.hex}`)
    }
    return { detail: `HTTP ${r.status}${o.tls ? ' over TLS' : ''}` }
  })
}
