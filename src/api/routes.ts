// The control API's routes (/v1/…): one table of method + path pattern → handler over a Director.
// Every operator action is also published as an operator.action event, whether it worked or not.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { LvsdError } from '../errors.js'
import type { OperatorAction } from '../events.js'
import type { PeerCred } from '../sys/peer-cred.js'
import { parseStreamQuery, serveEvents } from './event-stream.js'
import { badRequest, errorBody, parseServer, readJson, sendError, sendJson } from './http.js'
import type { Director, ServerRef } from './types.js'

/** Which socket a request came through, and who is at its other end. */
export interface Access {
  /** admin: every route; read: GET routes that neither change nor reveal the configuration. */
  level: 'admin' | 'read'
  peer?: PeerCred | undefined
}

export interface RouteContext {
  access: Access
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
  /** Only through the admin socket; `action` names it in the operator.action event of a refusal. */
  admin?: { action?: OperatorAction }
}

function serverRef(c: RouteContext): ServerRef {
  const service = c.params.service as string
  return { service, ...parseServer(c.params.server as string) }
}

/** The event's `peer` field, when the kernel told who connected. */
function peerField(peer: PeerCred | undefined): { peer?: PeerCred } {
  return peer ? { peer: { pid: peer.pid, uid: peer.uid, gid: peer.gid } } : {}
}

/** Runs an operator action, publishing its outcome (with who asked). */
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
      ...peerField(c.access.peer),
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
      ...peerField(c.access.peer),
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
  // the configuration may hold secrets (a VRRPv2 password): admin only
  { method: 'GET', path: '/v1/config', handler: (c) => c.director.getConfig(), admin: {} },
  { method: 'GET', path: '/v1/doctor', handler: doctor },
  { method: 'GET', path: '/v1/events', handler: events },
  { method: 'POST', path: '/v1/reload', handler: reload, admin: { action: 'reload' } },
  {
    method: 'POST',
    path: '/v1/services/:service/servers/:server/drain',
    handler: serverAction('drain'),
    admin: { action: 'drain' },
  },
  {
    method: 'POST',
    path: '/v1/services/:service/servers/:server/undrain',
    handler: serverAction('undrain'),
    admin: { action: 'undrain' },
  },
  {
    method: 'POST',
    path: '/v1/services/:service/servers/:server/weight',
    handler: setWeight,
    admin: { action: 'weight' },
  },
  {
    method: 'POST',
    path: '/v1/instances/:instance/release',
    handler: instanceAction('release'),
    admin: { action: 'release' },
  },
  {
    method: 'POST',
    path: '/v1/instances/:instance/resume',
    handler: instanceAction('resume'),
    admin: { action: 'resume' },
  },
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

function discardBody(req: IncomingMessage): Promise<void> {
  if (req.complete) return Promise.resolve()
  return new Promise((resolve) => {
    req.once('end', resolve).once('close', resolve).once('error', resolve)
    req.resume()
  })
}

/** An admin verb through the read-only socket: refused, and logged like any operator action. */
function forbidden(director: Director, action: OperatorAction | undefined, path: string, access: Access): LvsdError {
  const err = new LvsdError(
    'LVSD_API_FORBIDDEN',
    `${path} needs the admin control socket; this one is read-only (status, events, doctor)`,
    { path },
  )
  if (action)
    director.events.publish('operator.action', {
      action,
      target: path,
      ok: false,
      error: { code: err.code, message: err.message },
      ...peerField(access.peer),
    })
  return err
}

export async function dispatch(
  req: IncomingMessage,
  res: ServerResponse,
  director: Director,
  streams: StreamHost,
  access: Access = { level: 'admin' },
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
    if (hit.r.admin && access.level !== 'admin') {
      // read the (size-capped) body first: a reply before it would reach the client as EPIPE, not 403
      await discardBody(req)
      throw forbidden(director, hit.r.admin.action, path, access)
    }
    const body = await hit.r.handler({
      access,
      req,
      res,
      params: hit.params ?? {},
      query: url.searchParams,
      director,
      streams,
    })
    if (body !== undefined) sendJson(res, 200, body)
  } catch (e) {
    sendError(res, e)
  }
}
