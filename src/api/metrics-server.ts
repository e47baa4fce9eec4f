// The optional Prometheus endpoint: GET /metrics over plain HTTP on a TCP address (off unless configured;
// default 127.0.0.1:9478). Read-only by construction: it serves nothing but the exposition. With an
// allow list, a connection from any other address is closed as soon as it is accepted, before a byte
// is read, and counted.
import { createServer, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { LvsdError } from '../errors.js'
import { turn } from '../loop-turns.js'
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

/** A scrape whose client reads nothing for this long is cut. */
const SEND_IDLE_MS = 30_000
/** Text written at once before the event loop is let go. */
const SLICE_CHARS = 256 * 1024

/** Resolves when the response can take more, or is gone. */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done)
      res.off('close', done)
      resolve()
    }
    res.on('drain', done)
    res.on('close', done)
  })
}

/**
 * The first slice with text: the collectors' empty slices before it are each a turn of the event
 * loop, and nothing is sent until they are all done (a collector that throws is a 500, never a
 * half page).
 */
async function firstText(pieces: Iterator<string>): Promise<IteratorResult<string>> {
  let r = pieces.next()
  while (!r.done && r.value === '') {
    await turn()
    r = pieces.next()
  }
  return r
}

/** Writes the slices, in writes of about SLICE_CHARS, yielding to the event loop between them. */
async function sendSlices(res: ServerResponse, first: IteratorResult<string>, rest: Iterator<string>) {
  let out = ''
  for (let r = first; !r.done; r = rest.next()) {
    out += r.value
    if (out.length < SLICE_CHARS) continue
    const flushed = res.write(out)
    out = ''
    if (!flushed) await drained(res)
    // a drain is handled in the poll phase, where the next drain may follow at once: only a turn
    // through setImmediate lets timers (health checks, the peer channel) run between slices
    await turn()
    if (res.destroyed) {
      rest.return?.()
      return
    }
  }
  res.end(out)
}

export class MetricsServer {
  private constructor(private readonly server: Server) {}

  /**
   * `expose` gives the exposition in slices (Registry.slices): a slice is written and the event loop
   * is let go before the next, so a scrape of 10,000 real servers (tens of MB) never holds VRRP, the
   * health checks or other clients for more than one slice. Its first slice runs the collectors: an
   * error there is a 500, not a half page.
   */
  static async start(
    expose: () => Iterable<string> | Promise<Iterable<string>>,
    opts: MetricsServerOptions,
  ): Promise<MetricsServer> {
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
      let pieces: Iterator<string>
      let first: IteratorResult<string>
      try {
        const exposition = await expose()
        // a string is iterable too, by character
        pieces = (typeof exposition === 'string' ? [exposition] : exposition)[Symbol.iterator]()
        first = await firstText(pieces)
      } catch (e) {
        // a failed scrape shows as up=0 in Prometheus, better than a page of stale or partial values
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
        res.end(`collecting metrics failed: ${(e as Error).message}\n`)
        return
      }
      res.writeHead(200, { 'content-type': CONTENT_TYPE })
      if (req.method === 'HEAD') {
        res.end()
        return
      }
      // a client that stops reading is dropped instead of holding its slice forever
      res.setTimeout(SEND_IDLE_MS, () => res.destroy())
      await sendSlices(res, first, pieces)
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
