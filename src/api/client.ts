// The control API's client (used by lvsctl): one method per route over the unix socket; an error reply
// comes back as the LvsdError the daemon raised, so callers match on the same codes.
import { request } from 'node:http'
import { createInterface } from 'node:readline'
import { CODES, type Code, LvsdError } from '../errors.js'
import type { AnyEvent } from '../events.js'
import { DEFAULT_SOCKET, readOnlyPath } from './server.js'
import type { ConfigInfo, DoctorReport, InstanceStatus, ReloadResult, ServerStatus, Status } from './types.js'

export interface ControlClientOptions {
  /** Per request, not for the event stream. Default 10 s (a reload of a large table takes a while). */
  timeoutMs?: number
  /**
   * Where read requests (status, events, doctor) go when the admin socket refuses the connection
   * (EACCES: not in its group). Default: the read-only socket beside it; '' for none.
   */
  readOnlyPath?: string
}

/** The admin socket's permissions refused this user: the read-only one may not. */
function denied(e: unknown): boolean {
  return (
    e instanceof LvsdError && e.code === 'LVSD_API_UNREACHABLE' && ['EACCES', 'EPERM'].includes(String(e.details.errno))
  )
}

export interface EventsQuery {
  after?: number
  follow?: boolean
  names?: string[]
  signal?: AbortSignal
}

type Method = 'GET' | 'POST'

function unreachable(path: string, e: NodeJS.ErrnoException): LvsdError {
  return new LvsdError(
    'LVSD_API_UNREACHABLE',
    `cannot connect to ${path}: ${e.code ?? e.message}`,
    { path, errno: e.code },
    { cause: e },
  )
}

function fromReply(status: number, text: string): LvsdError {
  try {
    const j = JSON.parse(text) as { code?: unknown; message?: unknown; details?: unknown }
    if (typeof j.code === 'string' && Object.hasOwn(CODES, j.code) && typeof j.message === 'string') {
      return new LvsdError(j.code as Code, j.message, {
        ...(typeof j.details === 'object' && j.details !== null ? j.details : {}),
        status,
      })
    }
  } catch {
    // fall through: not our JSON
  }
  return new LvsdError('LVSD_API_PROTOCOL', `HTTP ${status} without an lvsd error body`, {
    status,
    body: text.slice(0, 200),
  })
}

export class ControlClient {
  private readonly fallback: string | undefined

  constructor(
    readonly socketPath: string = DEFAULT_SOCKET,
    private readonly opts: ControlClientOptions = {},
  ) {
    this.fallback = opts.readOnlyPath ?? readOnlyPath(socketPath)
    if (this.fallback === '') this.fallback = undefined
  }

  private async call<T>(method: Method, path: string, body?: unknown): Promise<T> {
    try {
      return await this.callOn<T>(this.socketPath, method, path, body)
    } catch (e) {
      if (method !== 'GET' || !this.fallback || !denied(e)) throw e
      return this.callOn<T>(this.fallback, method, path, body)
    }
  }

  private callOn<T>(socketPath: string, method: Method, path: string, body?: unknown): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body)
      const req = request(
        {
          // a connection per request: a kept-alive socket that the daemon closed after its idle timeout
          // while this process was busy (blocked longer than 5 s) is reused and the request fails with EPIPE
          agent: false,
          socketPath,
          method,
          path,
          headers:
            payload === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
          timeout: this.opts.timeoutMs ?? 10_000,
        },
        (res) => {
          const chunks: Buffer[] = []
          res.on('data', (c: Buffer) => chunks.push(c))
          res.on('error', reject)
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            const status = res.statusCode ?? 0
            if (status < 200 || status > 299) return reject(fromReply(status, text))
            try {
              resolve(JSON.parse(text) as T)
            } catch {
              reject(new LvsdError('LVSD_API_PROTOCOL', 'reply is not JSON', { status, body: text.slice(0, 200) }))
            }
          })
        },
      )
      req.on('timeout', () =>
        req.destroy(
          new LvsdError('LVSD_API_UNREACHABLE', `no answer from ${socketPath} in time`, { path: socketPath }),
        ),
      )
      req.on('error', (e) => reject(e instanceof LvsdError ? e : unreachable(socketPath, e)))
      req.end(payload)
    })
  }

  status(): Promise<Status> {
    return this.call('GET', '/v1/status')
  }

  config(): Promise<ConfigInfo> {
    return this.call('GET', '/v1/config')
  }

  doctor(service?: string): Promise<DoctorReport> {
    return this.call('GET', service === undefined ? '/v1/doctor' : `/v1/doctor?service=${encodeURIComponent(service)}`)
  }

  reload(): Promise<ReloadResult> {
    return this.call('POST', '/v1/reload')
  }

  private serverPath(service: string, server: string, verb: string): string {
    return `/v1/services/${encodeURIComponent(service)}/servers/${encodeURIComponent(server)}/${verb}`
  }

  /** server: address:port, IPv6 as [address]:port. */
  drain(service: string, server: string): Promise<ServerStatus> {
    return this.call('POST', this.serverPath(service, server, 'drain'))
  }

  undrain(service: string, server: string): Promise<ServerStatus> {
    return this.call('POST', this.serverPath(service, server, 'undrain'))
  }

  /** null removes the operator's override. */
  setWeight(service: string, server: string, weight: number | null): Promise<ServerStatus> {
    return this.call('POST', this.serverPath(service, server, 'weight'), { weight })
  }

  release(instance: string): Promise<InstanceStatus> {
    return this.call('POST', `/v1/instances/${encodeURIComponent(instance)}/release`)
  }

  resume(instance: string): Promise<InstanceStatus> {
    return this.call('POST', `/v1/instances/${encodeURIComponent(instance)}/resume`)
  }

  /** The event stream: kept events after `after`, then live ones while following; ends when aborted. */
  async *events(q: EventsQuery = {}): AsyncGenerator<AnyEvent> {
    const params = new URLSearchParams()
    if (q.after !== undefined) params.set('after', String(q.after))
    if (q.follow !== undefined) params.set('follow', String(q.follow))
    if (q.names?.length) params.set('names', q.names.join(','))
    const qs = params.toString()
    const open = (socketPath: string) =>
      new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
        const req = request(
          { socketPath, method: 'GET', path: `/v1/events${qs ? `?${qs}` : ''}`, signal: q.signal },
          resolve,
        )
        req.on('error', (e) => reject(e.name === 'AbortError' ? e : unreachable(socketPath, e)))
        req.end()
      })
    const res = await open(this.socketPath).catch((e) => {
      if (!this.fallback || !denied(e)) throw e
      return open(this.fallback)
    })
    const status = res.statusCode ?? 0
    if (status !== 200) {
      const chunks: Buffer[] = []
      for await (const c of res) chunks.push(c as Buffer)
      throw fromReply(status, Buffer.concat(chunks).toString('utf8'))
    }
    const lines = createInterface({ input: res, crlfDelay: Number.POSITIVE_INFINITY })
    try {
      for await (const line of lines) {
        if (line.trim() === '') continue
        yield JSON.parse(line) as AnyEvent
      }
    } catch (e) {
      // aborting tears the connection down, which the response reports as a reset
      if (!q.signal?.aborted) throw e
    } finally {
      lines.close()
      res.destroy()
    }
  }
}
