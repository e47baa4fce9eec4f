// Loads the native addon (build/Release/lvsd_native.node, or $LVSD_NATIVE_PATH) once per thread.
// The only module in lvsd that touches the addon; everything else goes through src/sys.
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LvsdError } from '../errors.js'

export interface NativePoller {
  start(events: number): void
  stop(): void
  close(): void
  ref(): void
  unref(): void
}

/** The addon's surface (native/addon.cc, native/poller.cc). Failures throw Error{code, errno, syscall}. */
export interface NativeAddon {
  socket(domain: number, type: number, protocol: number): number
  /** Two connected sockets, close-on-exec (blocking mode left to whoever drives each end). */
  socketPair(domain: number, type: number): [number, number]
  bind(fd: number, sockaddr: Uint8Array): void
  getsockname(fd: number, buf: Uint8Array): number
  setsockopt(fd: number, level: number, name: number, value: number | Uint8Array): void
  getsockoptInt(fd: number, level: number, name: number): number
  getsockopt(fd: number, level: number, name: number, buf: Uint8Array): number
  /** Bytes sent, or -EAGAIN when the send queue is full. */
  sendto(fd: number, data: Uint8Array, to: Uint8Array | null, flags: number): number
  /**
   * sendto() of each datagram in order on its own socket (native/send_many.cc); out[i]: bytes or
   * -errno. Waits in C until CLOCK_MONOTONIC reaches notBeforeNs first; returns -1, sending
   * nothing, if one of the `quiet` sockets then has something to read, else how many it sent.
   */
  sendMany(
    fds: Int32Array,
    datas: Uint8Array[],
    tos: (Uint8Array | null)[],
    out: Int32Array,
    notBeforeNs?: number,
    quiet?: Int32Array | null,
  ): number
  /** Bytes received (may exceed data.length with MSG_TRUNC), or null when nothing is queued; fills out with [namelen, controllen, msg_flags]. */
  recvmsg(
    fd: number,
    data: Uint8Array,
    name: Uint8Array,
    control: Uint8Array,
    flags: number,
    out: Int32Array,
  ): number | null
  close(fd: number): void
  attachFilter(fd: number, program: Uint8Array): void
  ifNameToIndex(name: string): number
  ifIndexToName(index: number): string
  /** Calling thread only; returns its tid. */
  schedSetScheduler(policy: number, priority: number): number
  /** Policy of the calling thread. */
  schedGetScheduler(): number
  /** Priority (sched_param.sched_priority) of the calling thread. */
  schedGetPriority(): number
  gettid(): number
  readonly EAGAIN: number
  Poller: new (fd: number, callback: (status: number, events: number) => void) => NativePoller
  /** native/pacer.cc; src/sys/pacer.ts wraps it. With `helperPath`, the rounds go to that process. */
  Pacer: new (
    socketFd: number,
    onEvent: (kind: number, value: number) => void,
    helperPath?: string,
  ) => NativePacer
  /** native/silence.cc; src/sys/silence-timer.ts wraps it. */
  SilenceTimer: new (
    socketFd: number,
    onEvent: (kind: number, value: number) => void,
  ) => NativeSilenceTimer
}

/** A master's routine adverts sent from C++ on a timerfd (native/pacer.cc). */
export interface NativePacer {
  start(packets: Buffer[], addrs: Buffer[], firstNs: number, intervalNs: number, lateNs: number): void
  stop(): void
  /** [datagrams sent, send errors, late rounds, worst lateness of a round in ms] */
  stats(): [number, number, number, number]
  /** The next round's deadline (CLOCK_MONOTONIC ns), -1 when stopped. */
  nextNs(): number
  /** The helper process's pid while the rounds go there, else 0. */
  helper(): number
  close(): void
}

/** A deadline that datagrams on a socket push back, checked in C++ (native/silence.cc). */
export interface NativeSilenceTimer {
  arm(dueNs: number, extendNs: number, heardNs: number, sinceNs: number): void
  disarm(): void
  /** Datagrams read since the last take; the newest copied out, out = [data, name, control lengths, msg_flags]. */
  take(data: Uint8Array, name: Uint8Array, control: Uint8Array, out: Int32Array): number
  /** The deadline (CLOCK_MONOTONIC ns), -1 when not armed. */
  dueNs(): number
  /** [expiries, of them moved by a datagram, datagrams read] */
  stats(): [number, number, number]
  close(): void
}

const ADDON_FILE = join('build', 'Release', 'lvsd_native.node')

/** The package root: the nearest directory above this file holding lvsd's package.json. */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const pj = join(dir, 'package.json')
    if (existsSync(pj)) {
      try {
        if ((JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'lvsd') return dir
      } catch {}
    }
    if (dirname(dir) === dir) return undefined
  }
}

/** Where the addon is loaded from: $LVSD_NATIVE_PATH, else build/Release under the package root. */
export function addonPath(env: NodeJS.ProcessEnv = process.env): string {
  const override = env.LVSD_NATIVE_PATH
  if (override) return resolve(override)
  const root = packageRoot()
  return root ? join(root, ADDON_FILE) : resolve(ADDON_FILE)
}

/** Loads an addon file; a missing or unloadable file becomes LVSD_NATIVE_MISSING. */
export function loadAddon(path: string): NativeAddon {
  const require = createRequire(import.meta.url)
  try {
    return require(path) as NativeAddon
  } catch (e) {
    const missing = !existsSync(path)
    const hint = missing
      ? 'build it with `npm run build:native` (needs g++, make, python3) or set LVSD_NATIVE_PATH to the .node file'
      : 'it exists but cannot be loaded (built for another platform or C library?); rebuild with `npm run build:native`'
    throw new LvsdError(
      'LVSD_NATIVE_MISSING',
      `native addon ${missing ? 'not found' : 'unusable'} at ${path}: ${hint}`,
      {
        path,
        reason: (e as Error).message,
      },
      { cause: e },
    )
  }
}

let cached: NativeAddon | undefined

/** The addon for this thread (each worker loads its own instance: Node-API modules are context-aware). */
export function native(): NativeAddon {
  cached ??= loadAddon(addonPath())
  return cached
}
