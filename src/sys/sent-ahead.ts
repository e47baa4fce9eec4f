// Datagrams sent back to back in one native call ahead of the code that sends them, and the results
// that code then takes instead of sending again (Socket.send). A VRRP takeover builds its advert,
// its VIP addition and its first GARP/NA round in the lead before Master_Down and sends them this
// way at the deadline: between each of them had been ~50–100 µs of JavaScript running cold
// (docs/benchmarks.md, session 22). The takeover's commit then runs as ever, and each of its sends
// of the same bytes to the same place on the same socket returns what the kernel said the first
// time. A send that matches nothing sent ahead goes to the kernel as usual.
import { sysError } from './errno.js'
import { native } from './native.js'

/** The most datagrams one batch sends (native/send_many.cc). */
export const SEND_AHEAD_MAX = 256

/** One datagram as Socket.send would send it. */
export interface Outgoing {
  fd: number
  data: Buffer
  to: Buffer | null
}

interface Sent extends Outgoing {
  /** Bytes sent, or -errno. */
  result: number
}

let sent: Sent[] = []
/** Results not yet taken; Socket.send looks only when this is not 0. */
export let sentAheadPending = 0

const same = (a: Buffer | null, b: Buffer | null): boolean =>
  a === b || (a !== null && b !== null && a.length === b.length && a.equals(b))

/** A batch readied ahead of its deadline: the native call's arguments are built here, not at send(). */
export class SendAhead {
  private readonly fds: Int32Array
  private readonly datas: Buffer[]
  private readonly tos: (Buffer | null)[]
  private readonly out: Int32Array

  constructor(private readonly list: Outgoing[]) {
    this.fds = Int32Array.from(list, (o) => o.fd)
    this.datas = list.map((o) => o.data)
    this.tos = list.map((o) => o.to)
    this.out = new Int32Array(list.length)
  }

  get size(): number {
    return this.list.length
  }

  /**
   * Sends every datagram, in order, and keeps the results for the sends that follow. Results
   * still kept from an earlier batch are dropped first (settle() should have done it). With `at`,
   * the call waits in C for the deadline, then sends only if none of the `quiet` sockets has
   * anything to read: false when one had (nothing sent, the deadline passed).
   */
  send(at?: { notBeforeNs: number; quiet: Int32Array }): boolean {
    settleSentAhead()
    if (this.list.length === 0 && !at) return true
    const n = native().sendMany(this.fds, this.datas, this.tos, this.out, at?.notBeforeNs, at?.quiet)
    if (n < 0) return false
    sent = this.list.map((o, i) => ({ ...o, result: this.out[i] ?? 0 }))
    sentAheadPending = sent.length
    return true
  }
}

/**
 * The result of a datagram sent ahead that is the same as this one (fd, bytes, address), taken so
 * that it answers once; undefined when there is none and the caller must send it itself.
 */
export function takeSentAhead(fd: number, data: Buffer, to: Buffer | null): number | undefined {
  for (let i = 0; i < sent.length; i++) {
    const s = sent[i] as Sent
    if (s.fd !== fd || !same(s.data, data) || !same(s.to, to)) continue
    sent.splice(i, 1)
    sentAheadPending = sent.length
    return s.result
  }
  return undefined
}

/** What Socket.send returns for a result taken (true: sent, false: queue full), or throws as sendto does. */
export function sentResult(result: number, eagain: number): boolean {
  if (result >= 0) return true
  if (result === -eagain) return false
  throw sysError('sendto', -result)
}

/**
 * Ends the batch: results nobody took are dropped, so a later send of the same bytes goes to the
 * kernel. Returns how many there were: each is a datagram sent that its code did not ask for.
 */
export function settleSentAhead(): number {
  const left = sent.length
  sent = []
  sentAheadPending = 0
  return left
}
