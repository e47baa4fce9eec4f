// Bounds on lvsd's two HTTP listeners (control socket, metrics port): how many connections at once,
// how long a client may take to send its request, how long an idle keep-alive connection stays. An
// unprivileged user with 20,000 idle connections to the metrics port once held every descriptor lvsd
// had (notify programs then failed with EMFILE): the caps keep descriptors for programs and netlink.
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

export interface HttpLimits {
  /** Connections open at once; more are closed on accept. */
  maxConnections: number
  /** Time to receive a request's headers (an idle new connection counts from its accept). */
  headersTimeoutMs: number
  /** Time to receive a whole request, body included (not the response: event streams live on). */
  requestTimeoutMs: number
  /** An idle keep-alive connection is closed after this long. */
  keepAliveTimeoutMs: number
  /** Largest request body; a larger Content-Length is refused before a byte of it is read. */
  maxBodyBytes: number
}

export const CONTROL_LIMITS: HttpLimits = {
  maxConnections: 64,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxBodyBytes: 64 * 1024,
}

export const METRICS_LIMITS: HttpLimits = {
  maxConnections: 16,
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxBodyBytes: 0,
}

/** Node's own deadline check, never: it runs on a timer whether or not a connection is open. */
const NODE_CHECK_NEVER_MS = 2 ** 31 - 1

/**
 * The options for createServer. Node checks the header and request deadlines on an interval of its
 * own that runs from listen() to close(), connections or not: on an idle daemon it was the main
 * thread's only wake-up (every 5 s for the control socket's 10 s header timeout, ~0.5 ms of CPU
 * each on this machine, docs/benchmarks.md). applyLimits() keeps the deadlines per connection
 * instead, with timers that exist only while a connection is open.
 */
export function serverOptions(l: HttpLimits): ServerOptions {
  return {
    connectionsCheckingInterval: NODE_CHECK_NEVER_MS,
    headersTimeout: l.headersTimeoutMs,
    requestTimeout: l.requestTimeoutMs,
    keepAliveTimeout: l.keepAliveTimeoutMs,
    maxHeaderSize: 16 * 1024,
  }
}

export function applyLimits(server: Server, l: HttpLimits): void {
  server.maxConnections = l.maxConnections
  server.headersTimeout = l.headersTimeoutMs
  server.requestTimeout = l.requestTimeoutMs
  server.keepAliveTimeout = l.keepAliveTimeoutMs
  server.on('connection', (socket: Socket) => awaitRequest(socket, l))
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const d = deadlines.get(req.socket)
    if (!d) return
    // the headers are in: the rest of the request (its body) within what is left of requestTimeout
    clear(d, 'headers')
    if (req.complete) clear(d, 'request')
    else req.once('end', () => clear(d, 'request'))
    // a kept-alive connection owes its next request the same deadlines, from this answer on
    res.once('finish', () => {
      if (!req.socket.destroyed) awaitRequest(req.socket, l)
    })
  })
}

interface Deadlines {
  headers?: NodeJS.Timeout | undefined
  request?: NodeJS.Timeout | undefined
}

const deadlines = new WeakMap<Socket, Deadlines>()

function clear(d: Deadlines, which: keyof Deadlines): void {
  if (d[which]) clearTimeout(d[which])
  d[which] = undefined
}

/** A connection's next request: its headers within headersTimeoutMs, all of it within requestTimeoutMs. */
function awaitRequest(socket: Socket, l: HttpLimits): void {
  let d = deadlines.get(socket)
  if (!d) {
    const fresh: Deadlines = {}
    d = fresh
    deadlines.set(socket, fresh)
    socket.once('close', () => {
      clear(fresh, 'headers')
      clear(fresh, 'request')
    })
  }
  const cut = () => socket.destroy()
  clear(d, 'headers')
  clear(d, 'request')
  if (l.headersTimeoutMs > 0) d.headers = setTimeout(cut, l.headersTimeoutMs).unref()
  if (l.requestTimeoutMs > 0) d.request = setTimeout(cut, l.requestTimeoutMs).unref()
}

/**
 * Refuses a request whose declared body is larger than allowed (413) and closes the connection, so
 * the body is never read. Returns true when it answered. A chunked body without a length is bounded
 * by the reader (readJson) instead.
 */
export function refuseLargeBody(req: IncomingMessage, res: ServerResponse, maxBodyBytes: number): boolean {
  const declared = Number(req.headers['content-length'] ?? 0)
  if (!(declared > maxBodyBytes)) return false
  const text = `${JSON.stringify({
    code: 'LVSD_API_BAD_REQUEST',
    message: `request body of ${declared} bytes is larger than ${maxBodyBytes}`,
    details: { field: 'body', limit: maxBodyBytes },
  })}\n`
  res.writeHead(413, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    connection: 'close',
  })
  res.end(text, () => req.socket.destroy())
  return true
}

/** After the answer, a request body nobody read is not drained: the connection is closed instead. */
export function closeIfUnread(req: IncomingMessage, res: ServerResponse): void {
  res.once('finish', () => {
    if (!req.complete) req.socket.destroy()
  })
}
