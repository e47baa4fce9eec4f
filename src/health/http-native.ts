// HTTP checks through the batched native prober (src/sys/http-probe.ts), for the common case: plain
// HTTP, any method, path, Host and headers, a status list and an optional body regex. TLS and digests
// go through Node (http.ts). Like the TCP path, the scheduler calls httpWire once per job and
// startHttpProbe per run, with no AbortController, promise or timer per check.
import { errnoName } from '../sys/errno.js'
import { type HttpOutcome, httpProbes, type PreparedHttp } from '../sys/http-probe.js'
import { DEFAULT_MAX_REGEX_BODY, statusAccepted } from './http.js'
import { classify, endpointOf, errnoFailCode } from './probe.js'
import { probeAddrs } from './tcp.js'
import type { HttpOptions, Result, Target } from './types.js'

/** A target and its options ready for probing: keep it for as long as the check runs. */
export interface HttpWire {
  readonly http: PreparedHttp
  readonly opts: HttpOptions
  readonly regex: RegExp | undefined
}

/** Characters that would end a request line or header early (Node refuses them too). */
const UNSAFE = /[\r\n\0]/

/** The request as Node's http.request would send it for the check (http.ts), or undefined if unsafe. */
export function requestBytes(target: Target, o: HttpOptions): Buffer | undefined {
  const ep = endpointOf(target)
  const host = o.host ?? (ep.family === 6 ? `[${ep.host}]:${ep.port}` : `${ep.host}:${ep.port}`)
  const method = o.method ?? 'GET'
  const path = o.path ?? '/'
  if (!/^[A-Z]+$/.test(method) || UNSAFE.test(path) || path.includes(' ')) return undefined
  const headers: Record<string, string> = { 'user-agent': 'lvsd-health' }
  for (const [k, v] of Object.entries(o.headers ?? {})) headers[k.toLowerCase()] = v
  headers.host = host
  headers.connection = 'close'
  let text = `${method} ${path} HTTP/1.1\r\n`
  for (const [k, v] of Object.entries(headers)) {
    if (UNSAFE.test(k) || UNSAFE.test(v) || k.includes(':')) return undefined
    text += `${k}: ${v}\r\n`
  }
  return Buffer.from(`${text}\r\n`, 'latin1')
}

/**
 * The native form of an HTTP check, or undefined when it needs Node (TLS, a digest, or a request
 * the native path does not send); a Result when the target cannot be probed at all.
 */
export function httpWire(target: Target, o: HttpOptions): HttpWire | Result | undefined {
  if (o.tls || o.digest) return undefined
  const request = requestBytes(target, o)
  if (!request) return undefined
  try {
    const a = probeAddrs(target)
    const regex = o.bodyRegex === undefined ? undefined : new RegExp(o.bodyRegex)
    // a HEAD reply has no body to match: Node's path reports that as it always has
    if (regex && o.method === 'HEAD') return undefined
    return {
      http: {
        to: a.to,
        source: a.source ?? null,
        device: a.device === undefined ? null : Buffer.from(`${a.device}\0`),
        request,
        bodyMax: regex ? (o.maxBody ?? DEFAULT_MAX_REGEX_BODY) : 0,
      },
      opts: o,
      regex,
    }
  } catch (e) {
    const { code, detail } = classify(e)
    return { ok: false, ms: 0, detail, code }
  }
}

/** Starts a check; `done` runs once from the event loop unless cancelled. An id, or a Result if it could not start. */
export function startHttpProbe(w: HttpWire, done: (o: HttpOutcome) => void): number | Result {
  let id: number
  try {
    id = httpProbes().start(w.http, done)
  } catch (e) {
    const { code, detail } = classify(e)
    return { ok: false, ms: 0, detail, code }
  }
  if (id >= 0) return id
  const name = errnoName(-id)
  return { ok: false, ms: 0, detail: `connect failed: ${name}`, code: errnoFailCode(name) }
}

export function cancelHttp(id: number): void {
  if (id >= 0) httpProbes().cancel(id)
}

/** The body of a reply (header cut off, chunks joined), at most `max` bytes. */
export function replyBody(reply: Buffer, max: number): Buffer {
  const end = reply.indexOf('\r\n\r\n')
  if (end < 0) return Buffer.alloc(0)
  const head = reply.subarray(0, end).toString('latin1')
  const body = reply.subarray(end + 4)
  if (!/^transfer-encoding:[ \t]*(?:[^\r\n]*,[ \t]*)?chunked[ \t]*$/im.test(head)) return body.subarray(0, max)
  const parts: Buffer[] = []
  let at = 0
  let size = 0
  while (at < body.length && size < max) {
    const eol = body.indexOf('\r\n', at)
    if (eol < 0) break
    const n = Number.parseInt(body.subarray(at, eol).toString('latin1'), 16)
    if (!(n > 0)) break
    const part = body.subarray(eol + 2, Math.min(eol + 2 + n, body.length))
    parts.push(part)
    size += part.length
    at = eol + 2 + n + 2
  }
  return Buffer.concat(parts).subarray(0, max)
}

const round = (ms: number) => Math.round(ms * 1000) / 1000

/** The Result of a check that ended with `o` after `ms`. */
export function httpResult(w: HttpWire, o: HttpOutcome, ms: number): Result {
  const t = round(ms)
  switch (o.kind) {
    case 'errno': {
      const name = errnoName(o.errno)
      return { ok: false, ms: t, detail: name, code: errnoFailCode(name) }
    }
    case 'closed-early':
      return { ok: false, ms: t, code: 'reset', detail: 'the connection closed before the reply’s header ended' }
    case 'header-too-long':
      return { ok: false, ms: t, code: 'protocol', detail: 'reply header over 16 KiB' }
    case 'not-http':
      return { ok: false, ms: t, code: 'protocol', detail: 'the reply is not HTTP/1.x' }
  }
  if (!statusAccepted(o.status, w.opts.status))
    return { ok: false, ms: t, code: 'status', detail: `HTTP status ${o.status} not accepted` }
  if (w.regex && o.reply && !w.regex.test(replyBody(o.reply, w.http.bodyMax).toString('utf8')))
    return { ok: false, ms: t, code: 'body', detail: `body does not match /${w.opts.bodyRegex}/` }
  return { ok: true, ms: t, detail: `HTTP ${o.status}` }
}
