// UDP check (keepalived UDP_CHECK): send a payload; an ICMP port unreachable fails, a reply may be
// required and matched. Also the datagram exchange that the DNS check uses.
import dgram from 'node:dgram'
import { formatAddr, sameAddr } from '../net/addr.js'
import { AF_INET, AF_INET6, SO_BINDTODEVICE, SOCK_DGRAM, SOL_SOCKET } from '../sys/constants.js'
import { decodeSockaddr, sockaddrIn, sockaddrIn6 } from '../sys/sockaddr.js'
import { Socket as SysSocket } from '../sys/socket.js'
import { abortable, endpointOf, ProbeFailure, timed } from './probe.js'
import type { Result, Target, UdpOptions } from './types.js'

const DEFAULT_QUIET_MS = 250

/**
 * Sends `payload` and resolves with the first datagram `accept` takes. With `quietMs`, silence for
 * that long resolves with undefined. A connected socket is used so ICMP unreachables surface as
 * ECONNREFUSED; with an interface binding (not possible with dgram) only replies and silence count.
 */
export function exchangeUdp<T>(
  t: Target,
  payload: Uint8Array,
  signal: AbortSignal,
  accept: (d: Buffer) => T | undefined,
  quietMs?: number,
): Promise<T> {
  if (t.bindInterface) return exchangeBound(t, payload, signal, accept, quietMs)
  const ep = endpointOf(t)
  const sock = dgram.createSocket({ type: ep.family === 4 ? 'udp4' : 'udp6' })
  let quiet: NodeJS.Timeout | undefined
  const close = () => {
    if (quiet) clearTimeout(quiet)
    try {
      sock.close()
    } catch {}
  }
  const p = new Promise<T>((resolve, reject) => {
    sock.on('error', reject)
    sock.on('message', (d) => {
      const v = accept(d)
      if (v !== undefined) resolve(v)
    })
    const send = () =>
      sock.connect(ep.port, ep.host, () => {
        sock.send(payload, (e) => {
          if (e) return reject(e)
          if (quietMs !== undefined) quiet = setTimeout(() => resolve(undefined as T), quietMs)
        })
      })
    if (t.sourceAddr) sock.bind({ address: formatAddr(t.sourceAddr), port: 0 }, send)
    else send()
  })
  return abortable(signal, p, close).finally(close)
}

function exchangeBound<T>(
  t: Target,
  payload: Uint8Array,
  signal: AbortSignal,
  accept: (d: Buffer) => T | undefined,
  quietMs?: number,
): Promise<T> {
  const ep = endpointOf(t)
  const dst = t.connectAddr ?? t.addr
  const v4 = dst.family === 4
  const s = SysSocket.open(v4 ? AF_INET : AF_INET6, SOCK_DGRAM, 0)
  let quiet: NodeJS.Timeout | undefined
  const close = () => {
    if (quiet) clearTimeout(quiet)
    s.close()
  }
  const p = new Promise<T>((resolve, reject) => {
    s.setOption(SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(`${t.bindInterface}\0`))
    const src = t.sourceAddr?.bytes ?? new Uint8Array(v4 ? 4 : 16)
    s.bind(v4 ? sockaddrIn(src) : sockaddrIn6(src))
    s.onReceive(
      (m) => {
        const from = decodeSockaddr(m.from)
        if (!('addr' in from) || !('port' in from) || from.port !== ep.port) return
        if (!sameAddr({ family: dst.family, bytes: from.addr }, dst)) return
        const v = accept(m.data)
        if (v !== undefined) resolve(v)
      },
      (e) => reject(e),
    )
    s.send(Buffer.from(payload), v4 ? sockaddrIn(dst.bytes, ep.port) : sockaddrIn6(dst.bytes, { port: ep.port }))
    if (quietMs !== undefined) quiet = setTimeout(() => resolve(undefined as T), quietMs)
  })
  return abortable(signal, p, close).finally(close)
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i])
}

export function check(target: Target, o: UdpOptions, signal: AbortSignal): Promise<Result> {
  return timed(signal, async () => {
    const wantReply = o.requireReply === true || o.reply !== undefined || o.replyRegex !== undefined
    const d = await exchangeUdp<Buffer | null>(
      target,
      o.payload ?? new Uint8Array(0),
      signal,
      (b) => b,
      wantReply ? undefined : (o.quietMs ?? DEFAULT_QUIET_MS),
    )
    if (!d) return { detail: 'no ICMP error' }
    if (o.minReplyLength !== undefined && d.length < o.minReplyLength) {
      throw new ProbeFailure('body', `reply of ${d.length} bytes, shorter than ${o.minReplyLength}`)
    }
    if (o.maxReplyLength !== undefined && d.length > o.maxReplyLength) {
      throw new ProbeFailure('body', `reply of ${d.length} bytes, longer than ${o.maxReplyLength}`)
    }
    if (o.reply !== undefined && !bytesEqual(d, o.reply))
      throw new ProbeFailure('body', 'reply differs from the expected bytes')
    if (o.replyRegex !== undefined && !new RegExp(o.replyRegex).test(d.toString('latin1'))) {
      throw new ProbeFailure('body', `reply does not match /${o.replyRegex}/`)
    }
    return { detail: `reply of ${d.length} bytes` }
  })
}
