// What the pacer agents share (addon-pacer.ts, addon-pacer-helper.ts): abstract AF_UNIX datagram
// sinks, a sending socket with a pacer on it, and bounded waits on the loop the pacer shares.
import { randomBytes } from 'node:crypto'
import * as C from '../../../src/sys/constants.js'
import { DeadlineTimers } from '../../../src/sys/deadline-timer.js'
import { Pacer, type PacerEvents, pacerHelperPath } from '../../../src/sys/pacer.js'
import { sockaddrUn } from '../../../src/sys/sockaddr.js'
import { Socket } from '../../../src/sys/socket.js'

export const out = (o: object) => process.stdout.write(`${JSON.stringify({ event: 'result', ...o })}\n`)
export const clock = new DeadlineTimers()
export const now = () => clock.now()
export const pause = (ms: number) => new Promise<void>((r) => clock.set(r, ms))

export interface Sink {
  to: Buffer
  got: { at: number; text: string }[]
  /** Reads what is queued now: from another process, a datagram sent may not be read yet. */
  drain(): void
  close(): void
}

export function sink(): Sink {
  const to = sockaddrUn(`lvsd-pacer-${randomBytes(6).toString('hex')}`, { abstract: true })
  const rx = Socket.open(C.AF_UNIX, C.SOCK_DGRAM, 0)
  rx.bind(to)
  const got: Sink['got'] = []
  const take = (m: { data: Buffer }) => got.push({ at: now(), text: m.data.toString() })
  rx.onReceive(take)
  return { to, got, drain: () => rx.receiveAll().forEach(take), close: () => rx.close() }
}

/**
 * A sending socket, `n` sinks and a pacer on the socket (through `helperPath`, by default where
 * pacerHelperPath() finds it: LVSD_PACER=inline keeps it in-process); `end()` closes them all.
 */
export function rig(events: Partial<PacerEvents> = {}, n = 1, helperPath = pacerHelperPath()) {
  const tx = Socket.open(C.AF_UNIX, C.SOCK_DGRAM, 0)
  const sinks = Array.from({ length: n }, sink)
  const p = new Pacer(tx.fd, { late: () => {}, failed: () => {}, ...events }, undefined, helperPath)
  const end = () => {
    p.close()
    for (const x of sinks) x.close()
    tx.close()
    clock.close()
  }
  return { p, tx, sinks, a: sinks[0] as Sink, end }
}

/** Waits (bounded) until `cond` holds, on the event loop the pacer shares. */
export async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = now() + ms
  while (!cond()) {
    if (now() > end) return false
    await pause(5)
  }
  return true
}

export const gaps = (ats: number[]) => ats.slice(1).map((t, i) => Math.round((t - (ats[i] as number)) * 10) / 10)
