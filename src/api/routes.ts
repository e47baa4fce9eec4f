// The control API's routes (/v1/…): one table of method + path pattern → handler over a Director.
// Every operator action is also published as an operator.action event, whether it worked or not.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { LvsdError } from '../errors.js'
import type { OperatorAction } from '../events.js'
import { parseStreamQuery, serveEvents } from './event-stream.js'
import { badRequest, errorBody, parseServer, readJson, sendError, sendJson } from './http.js'
import type { Director, ServerRef } from './types.js'

export interface RouteContext {
  req: IncomingMessage
  res: ServerResponse
  params: Record<string, string>
  query: URLSearchParams
  director: Director
  streams: StreamHost
}

/** Where long-lived responses are registered, so stopping the server can end them. */
export interface StreamHost {
  /** Bytes queued for one event-stream reader before it is cut off. */
  readonly highWater: number
  /** No room for another event stream (the cap on subscribers). */
  full?(): boolean
  track(end: () => void): void
}

/** A handler returns the JSON body of a 200, or undefined when it wrote the response itself. */
type Handler = (c: RouteContext) => Promise<unknown> | unknown

interface Route {
  method: 'GET' | 'POST'
  path: string
  handler: Handler
}

function serverRef(c: RouteContext): ServerRef {
  const service = c.params.service as string
  return { service, ...parseServer(c.params.server as string) }
}

/** Runs an operator action, publishing its outcome. */
async function act<T>(
  c: RouteContext,
  action: OperatorAction,
  target: string,
  params: Record<string, unknown>,
  run: () => Promise<T>,
): Promise<T> {
  try {
    const r = await run()
    c.director.events.publish('operator.action', {
      action,
      target,
      ok: true,
      ...(Object.keys(params).length ? { params } : {}),
    })
    return r
  } catch (e) {
    const { code, message } = errorBody(e)
    c.director.events.publish('operator.action', {
      action,
      target,
      ok: false,
      ...(Object.keys(params).length ? { params } : {}),
      error: { code, message },
    })
    throw e
  }
}

function serverAction(action: 'drain' | 'undrain'): Handler {
  return (c) => {
    const ref = serverRef(c)
    const target = `${ref.service} ${c.params.server}`
    return act(c, action, target, {}, () => (action === 'drain' ? c.director.drain(ref) : c.director.undrain(ref)))
  }
}

async function setWeight(c: RouteContext): Promise<unknown> {
  const ref = serverRef(c)
  const body = await readJson(c.req)
  if (!('weight' in body)) throw badRequest('weight', 'weight is required (0–65535, or null to remove the override)')
  const w = body.weight
  if (w !== null && !(typeof w === 'number' && Number.isInteger(w) && w >= 0 && w <= 65535)) {
    throw badRequest('weight', 'weight must be an integer 0–65535, or null to remove the override', { value: w })
  }
  return act(c, 'weight', `${ref.service} ${c.params.server}`, { weight: w }, () => c.director.setWeight(ref, w))
}

function instanceAction(action: 'release' | 'resume'): Handler {
  return (c) => {
    const name = c.params.instance as string
    return act(c, action, name, {}, () => (action === 'release' ? c.director.release(name) : c.director.resume(name)))
  }
}

async function reload(c: RouteContext): Promise<unknown> {
  const r = await act(c, 'reload', 'config', {}, async () => {
    const r = await c.director.reload()
    if (!r.ok) {
      throw new LvsdError(
        'LVSD_CONFIG_INVALID',
        `reload refused: ${r.errors?.length ?? 0} error(s) in ${r.config.source}`,
        {
          errors: r.errors ?? [],
          config: r.config,
        },
      )
    }
    return r
  })
  return r
}

function events(c: RouteContext): undefined {
  if (c.streams.full?.()) throw new LvsdError('LVSD_API_BUSY', 'too many event streams are open; try again later', {})
  const q = parseStreamQuery(c.query)
  if (q.after > c.director.events.lastSeq) {
    throw new LvsdError(
      'LVSD_API_CONFLICT',
      `after=${q.after} is past the last event (${c.director.events.lastSeq}): lvsd has restarted since; read again from after=0`,
      { after: q.after, lastSeq: c.director.events.lastSeq },
    )
  }
  c.streams.track(serveEvents(c.res, c.director.events, q, c.streams.highWater))
  return undefined
}

/** Probes the real servers (all services, or ?service=NAME); read-only, so no operator.action. */
async function doctor(c: RouteContext): Promise<unknown> {
  if (!c.director.doctor) throw new LvsdError('LVSD_API_NOT_FOUND', 'this director has no doctor', {})
  return c.director.doctor(c.query.get('service') ?? undefined)
}

export const ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/v1/status',
    handler: async (c) => {
      await c.director.refresh?.()
      return c.director.getStatus()
    },
  },
  { method: 'GET', path: '/v1/config', handler: (c) => c.director.getConfig() },
  { method: 'GET', path: '/v1/doctor', handler: doctor },
  { method: 'GET', path: '/v1/events', handler: events },
  { method: 'POST', path: '/v1/reload', handler: reload },
  { method: 'POST', path: '/v1/services/:service/servers/:server/drain', handler: serverAction('drain') },
  { method: 'POST', path: '/v1/services/:service/servers/:server/undrain', handler: serverAction('undrain') },
  { method: 'POST', path: '/v1/services/:service/servers/:server/weight', handler: setWeight },
  { method: 'POST', path: '/v1/instances/:instance/release', handler: instanceAction('release') },
  { method: 'POST', path: '/v1/instances/:instance/resume', handler: instanceAction('resume') },
]

function match(pattern: string, path: string): Record<string, string> | undefined {
  const ps = pattern.split('/')
  const xs = path.split('/')
  if (ps.length !== xs.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < ps.length; i++) {
    const p = ps[i] as string
    const x = xs[i] as string
    if (p.startsWith(':')) {
      let v: string
      try {
        v = decodeURIComponent(x)
      } catch {
        return undefined
      }
      if (v === '') return undefined
      params[p.slice(1)] = v
    } else if (p !== x) return undefined
  }
  return params
}

export async function dispatch(
  req: IncomingMessage,
  res: ServerResponse,
  director: Director,
  streams: StreamHost,
): Promise<void> {
  try {
    const url = new URL(req.url ?? '/', 'http://lvsd')
    const path = url.pathname.replace(/\/+$/, '') || '/'
    const found = ROUTES.map((r) => ({ r, params: match(r.path, path) })).filter((m) => m.params)
    if (found.length === 0) throw new LvsdError('LVSD_API_NOT_FOUND', `no route ${path}`, { path })
    const hit = found.find((m) => m.r.method === req.method)
    if (!hit) {
      const allow = [...new Set(found.map((m) => m.r.method))].join(', ')
      sendError(res, new LvsdError('LVSD_API_METHOD', `${req.method} not allowed on ${path}`, { allow }), { allow })
      return
    }
    const body = await hit.r.handler({ req, res, params: hit.params ?? {}, query: url.searchParams, director, streams })
    if (body !== undefined) sendJson(res, 200, body)
  } catch (e) {
    sendError(res, e)
  }
}
