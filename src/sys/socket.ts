// Socket: one non-blocking kernel socket driven by a poller on the calling thread's own event loop.
// Every received datagram is copied out of the reusable receive buffers, so callers may keep it,
// unless the socket lends them (`borrow`) to a handler that copies only what it keeps.
import { parseCmsgs } from './cmsg.js'
import { UV_READABLE } from './constants.js'
import { sys, sysError, wrapNativeError } from './errno.js'
import { type NativeAddon, type NativePoller, native } from './native.js'
import { type Outgoing, sentAheadPending, sentResult, takeSentAhead } from './sent-ahead.js'
import { SOCKADDR_STORAGE_SIZE } from './sockaddr.js'
import type { ReceivedDatagram, SocketApi } from './types.js'

export interface SocketOptions {
  /** Largest datagram received whole (longer ones arrive cut, with MSG_TRUNC in flags). Default 64 KiB. */
  receiveSize?: number
  /** Control-message buffer size. Default 256 bytes. */
  controlSize?: number
  /** Upper bound of messages read per readable event, so one busy socket cannot starve the loop. */
  drainLimit?: number
  /**
   * onReceive hands views of the socket's own receive buffers, valid only until the handler
   * returns (receiveAll still copies). For sockets that mostly drop what they read: two buffers of
   * their own per datagram were 60,000 ArrayBuffers a second under a VRRP flood, and the worker's
   * scavenges grew to 100-240 ms.
   */
  borrow?: boolean
}

const DEFAULT_RECEIVE = 65536
const DEFAULT_CONTROL = 256
const DEFAULT_DRAIN = 4096

/**
 * A copy in its own ArrayBuffer (not Node's shared pool), so a message can be kept, or transferred
 * to another thread, without exposing or detaching anything else.
 */
function own(src: Buffer, len: number): Buffer {
  const n = Math.min(len, src.length)
  const b = Buffer.allocUnsafeSlow(n)
  src.copy(b, 0, 0, n)
  return b
}

/** Lengths up to this keep their view of a borrowed buffer (bounds the cache at ~2,000 views). */
const VIEW_CACHE_MAX = 2048

/** The first `n` bytes of `buf`, as a view kept in `cache` for the next datagram of that length. */
function view(cache: Buffer[], buf: Buffer, n: number): Buffer {
  if (n > VIEW_CACHE_MAX) return buf.subarray(0, n)
  let v = cache[n]
  if (!v) {
    v = buf.subarray(0, n)
    cache[n] = v
  }
  return v
}

export class Socket implements SocketApi {
  private fdValue: number
  private poller: NativePoller | undefined
  private handler: ((msg: ReceivedDatagram) => void) | undefined
  private errorHandler: ((err: Error) => void) | undefined
  private referenced = true
  private readonly data: Buffer
  private readonly name = Buffer.alloc(SOCKADDR_STORAGE_SIZE)
  private readonly control: Buffer
  /** recvmsg out-parameters: namelen, controllen, msg_flags. */
  private readonly info = new Int32Array(3)
  private readonly drainLimit: number
  private readonly borrow: boolean
  /** Borrow mode: views of `data` and `name` by length, made once each (datagrams repeat lengths). */
  private readonly dataViews: Buffer[] = []
  private readonly nameViews: Buffer[] = []

  /** socket(2) with SOCK_NONBLOCK | SOCK_CLOEXEC added. */
  static open(domain: number, type: number, protocol: number, opts: SocketOptions = {}): Socket {
    const n = native()
    return new Socket(
      sys(() => n.socket(domain, type, protocol)),
      n,
      opts,
    )
  }

  private constructor(
    fd: number,
    private readonly n: NativeAddon,
    opts: SocketOptions,
  ) {
    this.fdValue = fd
    // not zero-filled: only the bytes recvmsg stored are ever read, and pages recvmsg never writes
    // stay untouched (a 64 KiB buffer per socket, most of them send-only, was 64 KiB of RSS each)
    this.data = Buffer.allocUnsafeSlow(opts.receiveSize ?? DEFAULT_RECEIVE)
    this.control = Buffer.alloc(opts.controlSize ?? DEFAULT_CONTROL)
    this.drainLimit = opts.drainLimit ?? DEFAULT_DRAIN
    this.borrow = opts.borrow ?? false
  }

  /** The descriptor, or -1 once closed (so a stale call fails with EBADF, never hits a reused fd). */
  get fd(): number {
    return this.fdValue
  }

  get closed(): boolean {
    return this.fdValue < 0
  }

  bind(sockaddr: Buffer): void {
    sys(() => this.n.bind(this.fdValue, sockaddr))
  }

  setOption(level: number, name: number, value: number | Buffer): void {
    sys(() => this.n.setsockopt(this.fdValue, level, name, value))
  }

  getOptionInt(level: number, name: number): number {
    return sys(() => this.n.getsockoptInt(this.fdValue, level, name))
  }

  getOption(level: number, name: number, size: number): Buffer {
    const buf = Buffer.alloc(size)
    const len = sys(() => this.n.getsockopt(this.fdValue, level, name, buf))
    return buf.subarray(0, Math.min(len, size))
  }

  getSockName(): Buffer {
    const buf = Buffer.alloc(SOCKADDR_STORAGE_SIZE)
    const len = sys(() => this.n.getsockname(this.fdValue, buf))
    return buf.subarray(0, Math.min(len, buf.length))
  }

  send(data: Buffer, to: Buffer | null = null): boolean {
    if (sentAheadPending > 0) {
      const ahead = takeSentAhead(this.fdValue, data, to)
      if (ahead !== undefined) return sentResult(ahead, this.n.EAGAIN)
    }
    const r = sys(() => this.n.sendto(this.fdValue, data, to, 0))
    return r >= 0
  }

  /** The datagram send(data, to) would send, for a batch sent ahead of it (sent-ahead.ts). */
  outgoing(data: Buffer, to: Buffer | null = null): Outgoing {
    return { fd: this.fdValue, data, to }
  }

  /** One datagram, or undefined when the queue is empty. */
  receive(): ReceivedDatagram | undefined {
    return this.read(false)
  }

  private read(lend: boolean): ReceivedDatagram | undefined {
    // no closure (sys) and no destructuring (an iterator): this runs for every datagram of a flood
    let bytes: number | null
    try {
      bytes = this.n.recvmsg(this.fdValue, this.data, this.name, this.control, 0, this.info)
    } catch (e) {
      throw wrapNativeError(e)
    }
    if (bytes === null) return undefined
    const nameLen = this.info[0] ?? 0
    const controlLen = this.info[1] ?? 0
    const flags = this.info[2] ?? 0
    // bytes can exceed the buffer for MSG_TRUNC-style reads; only what was stored is handed on
    const n = Math.min(bytes, this.data.length)
    const from = Math.min(nameLen, this.name.length)
    return {
      data: lend ? view(this.dataViews, this.data, n) : own(this.data, n),
      from: lend ? view(this.nameViews, this.name, from) : own(this.name, from),
      cmsg: parseCmsgs(this.control, controlLen),
      flags,
    }
  }

  receiveAll(max = Number.POSITIVE_INFINITY): ReceivedDatagram[] {
    const out: ReceivedDatagram[] = []
    while (out.length < max) {
      const m = this.receive()
      if (!m) break
      out.push(m)
    }
    return out
  }

  /**
   * Delivers every datagram to `handler` from the calling thread's event loop. Calling it again
   * replaces the handlers. Receive errors go to `onError`; without one they are thrown (and reach
   * process 'uncaughtException', like an exception thrown by `handler`).
   */
  onReceive(handler: (msg: ReceivedDatagram) => void, onError?: (err: Error) => void): void {
    if (this.closed) throw sysError('poll', 9 /* EBADF */)
    this.handler = handler
    this.errorHandler = onError
    if (this.poller) return
    const poller = sys(() => new this.n.Poller(this.fdValue, (status) => this.readable(status)))
    this.poller = poller
    if (!this.referenced) poller.unref()
    sys(() => poller.start(UV_READABLE))
  }

  private fail(err: Error): void {
    if (this.errorHandler) this.errorHandler(err)
    else throw err
  }

  private readable(status: number): void {
    if (status < 0) {
      // libuv keeps reporting a broken fd; stop rather than spin, the owner decides what next
      this.poller?.stop()
      this.fail(sysError('poll', -status))
      return
    }
    // Level-triggered: anything left by the drain limit or a throwing handler fires again.
    for (let i = 0; i < this.drainLimit && !this.closed; i++) {
      let m: ReceivedDatagram | undefined
      try {
        m = this.read(this.borrow)
      } catch (e) {
        this.fail(wrapNativeError(e) as Error)
        return
      }
      if (!m) return
      this.handler?.(m)
    }
  }

  attachFilter(program: Buffer): void {
    sys(() => this.n.attachFilter(this.fdValue, program))
  }

  ref(): void {
    this.referenced = true
    this.poller?.ref()
  }

  unref(): void {
    this.referenced = false
    this.poller?.unref()
  }

  /** Stops receiving and closes the descriptor. Idempotent. */
  close(): void {
    if (this.closed) return
    this.poller?.close()
    this.poller = undefined
    const fd = this.fdValue
    this.fdValue = -1
    sys(() => this.n.close(fd))
  }
}
