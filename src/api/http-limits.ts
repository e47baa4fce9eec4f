// Bounds on lvsd's two HTTP listeners (control socket, metrics port): how many connections at once,
// how long a client may take to send its request, how long an idle keep-alive connection stays. An
// unprivileged user with 20,000 idle connections to the metrics port once held every descriptor lvsd
// had (notify programs then failed with EMFILE): the caps keep descriptors for programs and netlink.
import type { IncomingMessage, Server, ServerOptions, ServerResponse } from 'node:http'

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

/**
 * The options for createServer. Node checks the header and request deadlines on a timer of its own
 * that runs whether or not a connection is open: at half the header timeout a slow client is cut
 * within 1.5× its deadline, and an idle daemon's main thread wakes once every 2.5-5 s for it, not
 * every second (the check was most of its idle wake-ups: docs/benchmarks.md, session 15).
 */
export function serverOptions(l: HttpLimits): ServerOptions {
  return {
    connectionsCheckingInterval: Math.max(1, Math.floor(l.headersTimeoutMs / 2)),
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
