// What every checker shares: where to probe, a TCP connect that honours source/interface/abort,
// error classification into FailCodes, and turning a probe function into a timed Result.
import net from 'node:net'
import { performance } from 'node:perf_hooks'
import { formatAddr } from '../net/addr.js'
import { AF_INET, AF_INET6, SO_BINDTODEVICE, SOCK_STREAM, SOL_SOCKET } from '../sys/constants.js'
import { sysErrorCode } from '../sys/errno.js'
import { sockaddrIn, sockaddrIn6 } from '../sys/sockaddr.js'
import { Socket as SysSocket } from '../sys/socket.js'
import type { FailCode, Result, Target } from './types.js'

/** A failed probe with its code; checkers throw it, `timed` turns it into a Result. */
export class ProbeFailure extends Error {
  constructor(
    readonly code: FailCode,
    message: string,
  ) {
    super(message)
  }
}

export interface Endpoint {
  host: string
  port: number
  family: 4 | 6
}

export function endpointOf(t: Target): Endpoint {
  const a = t.connectAddr ?? t.addr
  return { host: formatAddr(a), port: t.connectPort ?? t.port, family: a.family }
}

export function classify(e: unknown, signal?: AbortSignal): { code: FailCode; detail: string } {
  if (e instanceof ProbeFailure) return { code: e.code, detail: e.message }
  if (signal?.aborted) return { code: 'timeout', detail: 'timed out' }
  const err = e as NodeJS.ErrnoException
  // errors from src/sys carry the errno name in details
  const c = sysErrorCode(e) ?? err?.code ?? ''
  const detail = err?.message ?? String(e)
  if (err?.name === 'AbortError' || c === 'ABORT_ERR') return { code: 'timeout', detail: 'timed out' }
  if (/^(ERR_TLS|ERR_SSL|CERT_|UNABLE_TO|DEPTH_ZERO|SELF_SIGNED|ERR_OSSL)/.test(c)) return { code: 'tls', detail }
  return { code: errnoFailCode(c), detail }
}

/** The FailCode of a socket errno name ('ECONNREFUSED' → refused). */
export function errnoFailCode(name: string): FailCode {
  switch (name) {
    case 'ECONNREFUSED':
      return 'refused'
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EADDRNOTAVAIL':
      return 'unreachable'
    case 'ECONNRESET':
    case 'EPIPE':
    case 'ECONNABORTED':
      return 'reset'
    case 'ETIMEDOUT':
      return 'timeout'
    default:
      return 'error'
  }
}

/**
 * Runs a probe and reports it as a Result: the probe returns a detail (and maybe a weight) on
 * success and throws on failure. An abort is a timeout, whatever the probe was doing.
 */
export async function timed(
  signal: AbortSignal,
  probe: () => Promise<{ detail: string; weight?: number }>,
): Promise<Result> {
  const t0 = performance.now()
  const ms = () => Math.round((performance.now() - t0) * 1000) / 1000
  try {
    if (signal.aborted) throw new ProbeFailure('timeout', 'timed out before it started')
    const r = await probe()
    return r.weight === undefined
      ? { ok: true, ms: ms(), detail: r.detail }
      : { ok: true, ms: ms(), detail: r.detail, weight: r.weight }
  } catch (e) {
    const { code, detail } = classify(e, signal)
    return { ok: false, ms: ms(), detail, code }
  }
}

/** Rejects when the signal aborts, after running `cleanup`; resolves/rejects with `p` otherwise. */
export function abortable<T>(signal: AbortSignal, p: Promise<T>, cleanup: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      cleanup()
      reject(new ProbeFailure('timeout', 'timed out'))
    }
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort)
        resolve(v)
      },
      (e) => {
        signal.removeEventListener('abort', onAbort)
        reject(e)
      },
    )
  })
}

/**
 * A socket bound to an interface (SO_BINDTODEVICE) and/or source before connect. Node's net cannot
 * bind to a device, so the descriptor is made through src/sys and handed to net.Socket, which owns it.
 */
function deviceBoundSocket(t: Target, ep: Endpoint): net.Socket {
  const s = SysSocket.open(ep.family === 4 ? AF_INET : AF_INET6, SOCK_STREAM, 0)
  try {
    if (t.bindInterface) s.setOption(SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(`${t.bindInterface}\0`))
    if (t.sourceAddr) s.bind(ep.family === 4 ? sockaddrIn(t.sourceAddr.bytes) : sockaddrIn6(t.sourceAddr.bytes))
  } catch (e) {
    s.close()
    throw e
  }
  return new net.Socket({ fd: s.fd, readable: true, writable: true })
}

/** Connects over TCP; the socket is destroyed if the signal aborts first. */
export function connectTcp(t: Target, signal: AbortSignal): Promise<net.Socket> {
  const ep = endpointOf(t)
  let sock: net.Socket
  if (t.bindInterface) {
    sock = deviceBoundSocket(t, ep)
    sock.connect({ host: ep.host, port: ep.port })
  } else {
    sock = net.connect({
      host: ep.host,
      port: ep.port,
      ...(t.sourceAddr ? { localAddress: formatAddr(t.sourceAddr) } : {}),
    })
  }
  const connected = new Promise<net.Socket>((resolve, reject) => {
    sock.once('connect', () => {
      sock.removeListener('error', reject)
      resolve(sock)
    })
    sock.once('error', reject)
  })
  return abortable(signal, connected, () => sock.destroy())
}

/** Collects a socket's data until `done(buffer)` says so, the peer closes, or the signal aborts. */
export function readUntil(
  sock: net.Socket,
  signal: AbortSignal,
  done: (buf: Buffer) => boolean,
  maxBytes = 1 << 20,
): Promise<Buffer> {
  const p = new Promise<Buffer>((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0)
    const finish = (e?: Error) => {
      // back to paused mode, or bytes arriving before the next read would be dropped
      sock.pause()
      sock.removeListener('data', onData)
      sock.removeListener('end', onEnd)
      sock.removeListener('error', onError)
      if (e) reject(e)
      else resolve(buf)
    }
    const onData = (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d])
      if (buf.length >= maxBytes || done(buf)) finish()
    }
    const onEnd = () => finish()
    const onError = (e: Error) => finish(e)
    sock.on('data', onData)
    sock.once('end', onEnd)
    sock.once('error', onError)
    sock.resume()
  })
  return abortable(signal, p, () => sock.destroy())
}
