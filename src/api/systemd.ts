// sd_notify(3) without a child process per message: one AF_UNIX datagram socket (src/sys) sending
// READY=1, STATUS=, RELOADING=1 + MONOTONIC_USEC, STOPPING=1 and WATCHDOG=1 to $NOTIFY_SOCKET (a path,
// or '@name' in the abstract namespace), and the watchdog ticker at half of $WATCHDOG_USEC.
// Without NOTIFY_SOCKET every call is a no-op, so the daemon code never asks whether systemd is there.
import { AF_UNIX, SOCK_DGRAM } from '../sys/constants.js'
import { sockaddrUn } from '../sys/sockaddr.js'
import { Socket } from '../sys/socket.js'

export interface NotifierOptions {
  env?: Readonly<Record<string, string | undefined>>
  pid?: number
  /** CLOCK_MONOTONIC in µs, as systemd compares it (process.hrtime is CLOCK_MONOTONIC on Linux). */
  monotonicUsec?: () => bigint
  /** Timer seam for tests: schedules `fn` every `ms`; returns the cancel. */
  repeat?: (fn: () => void, ms: number) => () => void
}

const defaultRepeat = (fn: () => void, ms: number): (() => void) => {
  const t = setInterval(fn, ms)
  // the watchdog must never be what keeps a stopping daemon alive
  t.unref()
  return () => clearInterval(t)
}

/** The address for $NOTIFY_SOCKET, or why it cannot be used (e.g. vsock: needs AF_VSOCK). */
export function notifyAddress(value: string): { addr: Buffer } | { unsupported: string } {
  if (value.startsWith('@')) return { addr: sockaddrUn(value.slice(1), { abstract: true }) }
  if (value.startsWith('/')) return { addr: sockaddrUn(value) }
  return { unsupported: `NOTIFY_SOCKET=${value}: only unix socket paths and @abstract names are supported` }
}

/** The watchdog period in ms (half the timeout), if this process is the one being watched. */
export function watchdogPeriod(env: Readonly<Record<string, string | undefined>>, pid: number): number | undefined {
  const usec = Number(env.WATCHDOG_USEC)
  if (!env.WATCHDOG_USEC || !Number.isSafeInteger(usec) || usec <= 0) return undefined
  if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== '' && Number(env.WATCHDOG_PID) !== pid) return undefined
  return Math.max(1, Math.floor(usec / 2000))
}

export class SystemdNotifier {
  private socket: Socket | undefined
  private readonly addr: Buffer | undefined
  /** Why notifications are off despite NOTIFY_SOCKET, or the last send error. */
  lastError: string | undefined
  private stopWatchdog: (() => void) | undefined
  private readonly env: Readonly<Record<string, string | undefined>>
  private readonly pid: number
  private readonly monotonicUsec: () => bigint
  private readonly repeat: (fn: () => void, ms: number) => () => void

  constructor(opts: NotifierOptions = {}) {
    this.env = opts.env ?? process.env
    this.pid = opts.pid ?? process.pid
    this.monotonicUsec = opts.monotonicUsec ?? (() => process.hrtime.bigint() / 1000n)
    this.repeat = opts.repeat ?? defaultRepeat
    const value = this.env.NOTIFY_SOCKET
    if (!value) return
    const a = notifyAddress(value)
    if ('unsupported' in a) {
      this.lastError = a.unsupported
      return
    }
    this.addr = a.addr
    this.socket = Socket.open(AF_UNIX, SOCK_DGRAM, 0)
  }

  /** Whether messages go anywhere. */
  get enabled(): boolean {
    return this.socket !== undefined
  }

  /** Sends `KEY=value` lines in one datagram; false when disabled or the send failed (never throws). */
  notify(fields: Readonly<Record<string, string | number>>): boolean {
    if (!this.socket || !this.addr) return false
    // a newline inside a value would start a new assignment
    const text = Object.entries(fields)
      .map(([k, v]) => `${k}=${String(v).replace(/\n/g, ' ')}`)
      .join('\n')
    try {
      const ok = this.socket.send(Buffer.from(text, 'utf8'), this.addr)
      if (!ok) this.lastError = 'notify socket queue full'
      return ok
    } catch (e) {
      this.lastError = (e as Error).message
      return false
    }
  }

  ready(status?: string): boolean {
    return this.notify(status === undefined ? { READY: 1 } : { READY: 1, STATUS: status })
  }

  status(text: string): boolean {
    return this.notify({ STATUS: text })
  }

  /** Type=notify-reload wants MONOTONIC_USEC with RELOADING=1; READY=1 again when the reload is done. */
  reloading(status?: string): boolean {
    const f: Record<string, string | number> = { RELOADING: 1, MONOTONIC_USEC: this.monotonicUsec().toString() }
    if (status !== undefined) f.STATUS = status
    return this.notify(f)
  }

  stopping(status?: string): boolean {
    return this.notify(status === undefined ? { STOPPING: 1 } : { STOPPING: 1, STATUS: status })
  }

  watchdog(): boolean {
    return this.notify({ WATCHDOG: 1 })
  }

  /**
   * Pings WATCHDOG=1 at half of WATCHDOG_USEC from the main loop, so a stalled loop stops the pings and
   * systemd restarts the daemon. `alive` may veto a ping (e.g. the VRRP worker stopped answering).
   * Returns the period in ms, or undefined when no watchdog applies to this process (or one already runs).
   */
  startWatchdog(alive: () => boolean = () => true): number | undefined {
    const ms = watchdogPeriod(this.env, this.pid)
    if (ms === undefined || !this.enabled || this.stopWatchdog) return undefined
    this.stopWatchdog = this.repeat(() => {
      if (alive()) this.watchdog()
    }, ms)
    return ms
  }

  close(): void {
    this.stopWatchdog?.()
    this.stopWatchdog = undefined
    this.socket?.close()
    this.socket = undefined
  }
}
