// HTTP plumbing of the control API: JSON replies, errors as {code, message, details} with the status
// their code implies, bounded request bodies, and the address:port syntax of a real server.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { type Code, isLvsdError, LvsdError } from '../errors.js'
import { type Addr, formatAddr, tryParseAddr } from '../net/addr.js'

const STATUS: Partial<Record<Code, number>> = {
  LVSD_API_BAD_REQUEST: 400,
  LVSD_API_FORBIDDEN: 403,
  LVSD_API_NOT_FOUND: 404,
  LVSD_API_UNKNOWN_SERVICE: 404,
  LVSD_API_UNKNOWN_SERVER: 404,
  LVSD_API_UNKNOWN_INSTANCE: 404,
  LVSD_API_METHOD: 405,
  LVSD_API_CONFLICT: 409,
  LVSD_API_BUSY: 503,
  // a reload the configuration refused: the request was fine, the file is not
  LVSD_CONFIG_INVALID: 422,
  LVSD_CONFIG_UNREADABLE: 422,
}

/** The HTTP status an error answers with; anything unforeseen is a 500. */
export function httpStatusOf(e: unknown): number {
  return (isLvsdError(e) && STATUS[e.code]) || 500
}

/** The error as the API reports it; a non-LvsdError becomes LVSD_API_INTERNAL without its stack. */
export function errorBody(e: unknown): { code: Code; message: string; details: Readonly<Record<string, unknown>> } {
  if (isLvsdError(e)) return e.toJSON()
  return { code: 'LVSD_API_INTERNAL', message: e instanceof Error ? e.message : String(e), details: {} }
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  })
  res.end(text)
}

export function sendError(res: ServerResponse, e: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.destroy()
    return
  }
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v)
  sendJson(res, httpStatusOf(e), errorBody(e))
}

export function badRequest(field: string, message: string, details: Record<string, unknown> = {}): LvsdError {
  return new LvsdError('LVSD_API_BAD_REQUEST', message, { field, ...details })
}

const MAX_BODY = 64 * 1024

/** The request body parsed as JSON; an empty body is {}. */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const c of req) {
    const b = c as Buffer
    size += b.length
    if (size > MAX_BODY) throw badRequest('body', `request body larger than ${MAX_BODY} bytes`)
    chunks.push(b)
  }
  const text = Buffer.concat(chunks).toString('utf8').trim()
  if (text === '') return {}
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (e) {
    throw badRequest('body', `request body is not JSON: ${(e as Error).message}`)
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw badRequest('body', 'request body must be an object')
  return v as Record<string, unknown>
}

/** Parses `10.0.0.7:80` or `[2001:db8::7]:80`; the field names the input in a 400. */
export function parseServer(text: string, field = 'server'): { addr: Addr; port: number } {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:[\]]+):(\d{1,5})$/.exec(text)
  const addr = m ? tryParseAddr(m[1] as string) : undefined
  const port = m ? Number(m[2]) : Number.NaN
  if (!addr || !(port >= 0 && port <= 65535)) {
    throw badRequest(field, `${JSON.stringify(text)} is not address:port (IPv6 as [address]:port)`, { value: text })
  }
  if (m?.[0].startsWith('[') !== (addr.family === 6)) {
    throw badRequest(field, `${JSON.stringify(text)}: IPv6 addresses and only they go in brackets`, { value: text })
  }
  return { addr, port }
}

export function formatServer(addr: Addr, port: number): string {
  return addr.family === 6 ? `[${formatAddr(addr)}]:${port}` : `${formatAddr(addr)}:${port}`
}
