// The control API server: HTTP/JSON on a unix socket (default /run/lvsd/lvsd.sock), mode and group
// set as configured, so access is plain file permissions (root and the group; no tokens to leak).
// Two levels, as HAProxy's stats sockets: the admin socket serves every route; a read-only one
// (default lvsd-ro.sock beside it, mode 0666) serves status, events and doctor and answers 403 to
// the rest. Each connection's peer (SO_PEERCRED) goes into the operator.action events it causes.
import { chmodSync, chownSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { Socket } from 'node:net'
import { dirname } from 'node:path'
import { LvsdError } from '../errors.js'
import { type PeerCred, peerCred, socketFd } from '../sys/peer-cred.js'
import { unixListening } from '../sys/unix-listening.js'
import { STREAM_HIGH_WATER } from './event-stream.js'
import {
  applyLimits,
  CONTROL_LIMITS,
  closeIfUnread,
  type HttpLimits,
  refuseLargeBody,
  serverOptions,
} from './http-limits.js'
import { type Access, dispatch } from './routes.js'
import type { Director } from './types.js'
import { resolveGroup } from './unix-group.js'

export interface ControlServerOptions {
  /** Socket path. Default /run/lvsd/lvsd.sock. */
  path?: string
  /** Default 0o660. */
  mode?: number
  /** Group owning the socket (name or gid); absent = the daemon's group. */
  group?: string
  /** Where group names are looked up (tests point this at their own file). */
  groupFile?: string
  /** Bytes queued for one event-stream reader before it is cut off (default 16 MiB). */
  streamHighWater?: number
  /** Connection, timeout and body bounds (default CONTROL_LIMITS). */
  limits?: Partial<HttpLimits>
  /** Event streams open at once; more are refused with 503 (default 16). */
  maxStreams?: number
  /** admin (default): every route; read: status, events and doctor only. */
  level?: Access['level']
}

export const DEFAULT_MAX_STREAMS = 16

export const DEFAULT_SOCKET = '/run/lvsd/lvsd.sock'

/** The read-only socket beside an admin one: /run/lvsd/lvsd.sock → /run/lvsd/lvsd-ro.sock. */
export function readOnlyPath(admin: string): string {
  return `${admin.endsWith('.sock') ? admin.slice(0, -'.sock'.length) : admin}-ro.sock`
}

const peers = new WeakMap<Socket, PeerCred | undefined>()

/** The peer of a request's connection, read once per connection; undefined if the kernel (or addon) cannot say. */
function peerOf(req: IncomingMessage): PeerCred | undefined {
  const s = req.socket
  if (peers.has(s)) return peers.get(s)
  let p: PeerCred | undefined
  try {
    const fd = socketFd(s)
    p = fd === undefined ? undefined : peerCred(fd)
  } catch {
    p = undefined // no addon here (a test double): the action is still logged, without a peer
  }
  peers.set(s, p)
  return p
}

async function clearStale(path: string): Promise<void> {
  let st: ReturnType<typeof lstatSync>
  try {
    st = lstatSync(path)
  } catch {
    return
  }
  if (!st.isSocket()) throw new LvsdError('LVSD_API_SOCKET', `${path} exists and is not a socket`, { path })
  if (await unixListening(path)) {
    throw new LvsdError('LVSD_API_SOCKET', `another process is serving ${path} (is lvsd already running?)`, { path })
  }
  unlinkSync(path)
}

export class ControlServer {
  private readonly streams = new Set<() => void>()

  private constructor(
    readonly path: string,
    private readonly server: Server,
  ) {}

  static async start(director: Director, opts: ControlServerOptions = {}): Promise<ControlServer> {
    const path = opts.path ?? DEFAULT_SOCKET
    const mode = opts.mode ?? 0o660
    const level = opts.level ?? 'admin'
    // resolve first: a typo in the group fails before anything is created
    const gid = opts.group === undefined ? undefined : resolveGroup(opts.group, opts.groupFile)
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o755 })
    } catch (e) {
      throw new LvsdError('LVSD_API_SOCKET', `cannot create ${dirname(path)}`, { path }, { cause: e })
    }
    await clearStale(path)
    let self: ControlServer | undefined
    const limits = { ...CONTROL_LIMITS, ...opts.limits }
    const maxStreams = opts.maxStreams ?? DEFAULT_MAX_STREAMS
    const server = createServer(serverOptions(limits), (req, res) => {
      if (refuseLargeBody(req, res, limits.maxBodyBytes)) return
      closeIfUnread(req, res)
      void dispatch(
        req,
        res,
        director,
        {
          highWater: opts.streamHighWater ?? STREAM_HIGH_WATER,
          full: () => (self?.streamCount ?? 0) >= maxStreams,
          track: (end) => self?.track(end, res),
        },
        { level, peer: peerOf(req) },
      )
    })
    applyLimits(server, limits)
    self = new ControlServer(path, server)
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) =>
        reject(new LvsdError('LVSD_API_SOCKET', `cannot listen on ${path}: ${e.message}`, { path }, { cause: e })),
      )
      server.listen(path, () => resolve())
    })
    try {
      chmodSync(path, mode)
      if (gid !== undefined) chownSync(path, -1, gid)
    } catch (e) {
      await self.close()
      const err = e as NodeJS.ErrnoException
      throw new LvsdError('LVSD_API_SOCKET', `cannot set mode/group of ${path}: ${err.code ?? err.message}`, {
        path,
        group: opts.group,
      })
    }
    return self
  }

  private track(end: () => void, res: { once(ev: 'close', fn: () => void): unknown }): void {
    this.streams.add(end)
    res.once('close', () => this.streams.delete(end))
  }

  /** Event-stream readers connected now. */
  get streamCount(): number {
    return this.streams.size
  }

  /** Stops accepting, ends event streams, waits for requests in flight, removes the socket. */
  async close(): Promise<void> {
    for (const end of [...this.streams]) end()
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve())
      this.server.closeIdleConnections()
    })
    try {
      unlinkSync(this.path)
    } catch {
      // already gone (server.close removes it on some platforms)
    }
  }
}
