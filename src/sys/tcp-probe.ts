// TcpProbes: many TCP connect probes on one epoll set of the addon (native/tcp_probe.cc), their
// outcomes collected in batches. A probe costs one call to start and a share of one call to
// collect, with no libuv TCP handle or stream per connection.
import { UV_READABLE } from './constants.js'
import { sys } from './errno.js'
import { type NativeAddon, type NativePoller, native } from './native.js'

/** The addon calls this file uses (native/tcp_probe.cc). */
interface TcpProbeAddon {
  epollCreate(): number
  /** fd of the connecting socket, or a negative errno when connect failed at once. */
  tcpProbeStart(
    epfd: number,
    to: Uint8Array,
    source: Uint8Array | null,
    device: Uint8Array | null,
    flags: number,
  ): number
  readonly TCP_PROBE_NO_FINAL_ACK: number
  /** Finished probes as [fd, errno] pairs in out; returns how many. */
  tcpProbeCollect(epfd: number, out: Int32Array): number
}

/** Where one probe goes, as the kernel wants it (build once per target and reuse). */
export interface TcpProbeTarget {
  /** sockaddr_in / sockaddr_in6 of the server. */
  to: Buffer
  /** sockaddr to bind as the source, if any. */
  source?: Buffer
  /** Interface for SO_BINDTODEVICE, if any. */
  device?: string
  /**
   * Send the handshake's final ACK (default false: the SYN-ACK proves the listener, the ACK is
   * withheld and the RST goes first, so the server never completes a connection).
   */
  fullHandshake?: boolean
}

/** What tcpProbeStart needs, with the device name NUL-terminated once (from prepare()). */
export interface PreparedProbe {
  to: Buffer
  source: Buffer | null
  device: Buffer | null
  flags: number
}

const BATCH = 512

export class TcpProbes {
  private readonly n: NativeAddon & TcpProbeAddon
  private epfd = -1
  private poller: NativePoller | undefined
  private readonly pending = new Map<number, (errno: number) => void>()
  private readonly out = new Int32Array(2 * BATCH)
  private readonly prepared = new WeakMap<TcpProbeTarget, PreparedProbe>()

  /**
   * `onError` gets an exception thrown by a `done` callback (the other outcomes of the batch are
   * still delivered); without it the first such exception is rethrown to the event loop.
   */
  constructor(
    private readonly onError?: (e: unknown) => void,
    addon: NativeAddon = native(),
  ) {
    this.n = addon as NativeAddon & TcpProbeAddon
  }

  /** Probes in flight. */
  get size(): number {
    return this.pending.size
  }

  /**
   * Starts a connect. `done(errno)` is called once, from the event loop: 0 when the handshake
   * completed (the socket is then closed with an RST), else the errno of the failure.
   * Returns the probe's id (≥ 0, valid until `done` or `cancel`), or a negative errno when the
   * connect failed at once; `done` is not called then.
   */
  start(target: TcpProbeTarget, done: (errno: number) => void): number {
    let p = this.prepared.get(target)
    if (!p) {
      p = this.prepare(target)
      this.prepared.set(target, p)
    }
    return this.startPrepared(p, done)
  }

  /** A target in the form the addon takes, to keep and pass to startPrepared() for each probe. */
  prepare(target: TcpProbeTarget): PreparedProbe {
    return {
      to: target.to,
      source: target.source ?? null,
      device: target.device === undefined ? null : Buffer.from(`${target.device}\0`),
      flags: target.fullHandshake ? 0 : this.n.TCP_PROBE_NO_FINAL_ACK,
    }
  }

  /** start() for a prepared target: no lookup per probe. */
  startPrepared(p: PreparedProbe, done: (errno: number) => void): number {
    if (this.epfd < 0) this.open()
    const fd = this.n.tcpProbeStart(this.epfd, p.to, p.source, p.device, p.flags)
    if (fd < 0) return fd
    this.pending.set(fd, done)
    if (this.pending.size === 1) this.poller?.ref()
    return fd
  }

  /** Abandons a probe (closes its socket); `done` will not be called. Ignores ids no longer in flight. */
  cancel(id: number): void {
    if (!this.pending.delete(id)) return
    sys(() => this.n.close(id))
    if (this.pending.size === 0) this.poller?.unref()
  }

  /** Cancels every probe and releases the epoll set. The object can be used again afterwards. */
  close(): void {
    for (const id of [...this.pending.keys()]) this.cancel(id)
    this.poller?.close()
    this.poller = undefined
    if (this.epfd >= 0) {
      const fd = this.epfd
      this.epfd = -1
      sys(() => this.n.close(fd))
    }
  }

  private open(): void {
    const epfd = sys(() => this.n.epollCreate())
    try {
      const poller = sys(() => new this.n.Poller(epfd, () => this.collect()))
      sys(() => poller.start(UV_READABLE))
      // only probes in flight keep the process alive
      poller.unref()
      this.poller = poller
      this.epfd = epfd
    } catch (e) {
      sys(() => this.n.close(epfd))
      throw e
    }
  }

  private collect(): void {
    const count = sys(() => this.n.tcpProbeCollect(this.epfd, this.out))
    const out = this.out
    // every finished probe is forgotten before any callback runs: a callback may start a probe
    // that gets one of these fd numbers, and one that throws must not strand the rest
    const dones: Array<(errno: number) => void> = []
    const errnos: number[] = []
    for (let i = 0; i < count; i++) {
      const fd = out[2 * i] as number
      const done = this.pending.get(fd)
      if (!done) continue
      this.pending.delete(fd)
      dones.push(done)
      errnos.push(out[2 * i + 1] as number)
    }
    if (this.pending.size === 0) this.poller?.unref()
    let failure: { e: unknown } | undefined
    for (let i = 0; i < dones.length; i++) {
      try {
        ;(dones[i] as (errno: number) => void)(errnos[i] as number)
      } catch (e) {
        if (this.onError) this.onError(e)
        else failure ??= { e }
      }
    }
    if (failure) throw failure.e
  }
}

let shared: TcpProbes | undefined

/** The calling thread's shared prober (one epoll set per thread). */
export function tcpProbes(): TcpProbes {
  shared ??= new TcpProbes()
  return shared
}
