// SMTP check (keepalived SMTP_CHECK, RFC 5321 §4.2): banner 220, HELO or EHLO answered with 250, then QUIT.

import type net from 'node:net'
import { hostname } from 'node:os'
import { connectTcp, ProbeFailure, readUntil, timed } from './probe.js'
import type { Result, SmtpOptions, Target } from './types.js'

/** A reply is complete at a line whose code is followed by a space (§4.2.1: "250-" lines continue). */
export function replyComplete(buf: Buffer): boolean {
  const text = buf.toString('latin1')
  if (!text.endsWith('\n')) return false
  const lines = text.split(/\r?\n/).filter((l) => l !== '')
  const last = lines[lines.length - 1] ?? ''
  return /^\d{3}( |$)/.test(last)
}

function codeOf(buf: Buffer): number {
  const lines = buf
    .toString('latin1')
    .split(/\r?\n/)
    .filter((l) => l !== '')
  return Number.parseInt((lines[lines.length - 1] ?? '').slice(0, 3), 10)
}

/** A reply longer than this is a hostile or broken server, not a slow one. */
const MAX_REPLY = 64 * 1024

async function expect(sock: net.Socket, signal: AbortSignal, code: number, what: string): Promise<string> {
  const reply = await readUntil(sock, signal, replyComplete, MAX_REPLY)
  if (!replyComplete(reply)) {
    const why =
      reply.length >= MAX_REPLY
        ? `${what} reply longer than ${MAX_REPLY} bytes without an end`
        : `connection closed before the ${what} reply`
    throw new ProbeFailure('protocol', why)
  }
  const got = codeOf(reply)
  if (got !== code) {
    const first = reply.toString('latin1').split(/\r?\n/)[0]
    throw new ProbeFailure('protocol', `${what}: expected ${code}, got "${first}"`)
  }
  return reply.toString('latin1').trim()
}

export function check(target: Target, o: SmtpOptions, signal: AbortSignal): Promise<Result> {
  return timed(signal, async () => {
    const sock = await connectTcp(target, signal)
    try {
      await expect(sock, signal, 220, 'banner')
      sock.write(`${o.ehlo ? 'EHLO' : 'HELO'} ${o.heloName ?? hostname()}\r\n`)
      await expect(sock, signal, 250, o.ehlo ? 'EHLO' : 'HELO')
      // QUIT is courtesy: the verdict does not wait for the 221
      sock.end('QUIT\r\n')
      return { detail: 'SMTP banner and greeting accepted' }
    } finally {
      sock.destroy()
    }
  })
}
