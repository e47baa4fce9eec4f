// The optional Prometheus endpoint: GET /metrics over plain HTTP on a TCP address (off unless configured;
// default 127.0.0.1:9478). Read-only by construction: it serves nothing but the exposition. With an
// allow list, a connection from any other address is closed as soon as it is accepted, before a byte
// is read, and counted.
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { LvsdError } from '../errors.js'
import { type Prefix, prefixContains, tryParseAddr } from '../net/addr.js'
import { applyLimits, closeIfUnread, METRICS_LIMITS, refuseLargeBody, serverOptions } from './http-limits.js'
import { CONTENT_TYPE } from './metrics-registry.js'

export interface MetricsServerOptions {
  host: string
  /** 0 picks a free port (tests). */
  port: number
  /** Clients allowed to connect; empty or absent: any that can reach the address. */
  allow?: readonly Prefix[]
  /** Called for each connection refused by `allow`. */
  onRefused?: () => void
}

/** A socket's peer address as lvsd compares it: an IPv4 client of a dual-stack listener is ::ffff:a.b.c.d. */
function peerAddr(s: Socket) {
  const text = s.remoteAddress ?? ''
  return tryParseAddr(text.startsWith('::ffff:') && text.includes('.') ? text.slice(7) : text)
}

/** Whether a client may scrape. */
export function allowed(allow: readonly Prefix[], s: Socket): boolean {
  if (allow.length === 0) return true
  const a = peerAddr(s)
  return a !== undefined && allow.some((p) => prefixContains(p, a))
}

export class MetricsServer {
  private constructor(private readonly server: Server) {}

  static async start(render: () => string | Promise<string>, opts: MetricsServerOptions): Promise<MetricsServer> {
    const server = createServer(serverOptions(METRICS_LIMITS), async (req, res) => {
      if (refuseLargeBody(req, res, METRICS_LIMITS.maxBodyBytes)) return
      closeIfUnread(req, res)
      const path = (req.url ?? '/').split('?')[0]
      if (path !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' })
        res.end('lvsd serves Prometheus metrics at /metrics\n')
        return
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' })
        res.end('GET only\n')
        return
      }
      let body: string
      try {
        body = await render()
      } catch (e) {
        // a failed scrape shows as up=0 in Prometheus, better than a page of stale or partial values
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
        res.end(`collecting metrics failed: ${(e as Error).message}\n`)
        return
      }
      res.writeHead(200, { 'content-type': CONTENT_TYPE, 'content-length': Buffer.byteLength(body) })
      res.end(req.method === 'HEAD' ? undefined : body)
    })
    applyLimits(server, METRICS_LIMITS)
    const allow = opts.allow ?? []
    if (allow.length > 0)
      server.on('connection', (s: Socket) => {
        if (allowed(allow, s)) return
        s.destroy()
        opts.onRefused?.()
      })
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) =>
        reject(
          new LvsdError('LVSD_API_SOCKET', `cannot listen on ${opts.host}:${opts.port}: ${e.message}`, {
            host: opts.host,
            port: opts.port,
          }),
        ),
      )
      server.listen(opts.port, opts.host, () => resolve())
    })
    return new MetricsServer(server)
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
  }
}
