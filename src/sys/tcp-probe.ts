// TcpProbes: many TCP connect probes on one epoll set of the addon (native/tcp_probe.cc), their
// outcomes collected in batches. A probe costs one call to start and a share of one call to
// collect, with no libuv TCP handle or stream per connection. The socket of a probe that passed is
// reset with connect(AF_UNSPEC) and kept in a pool for the next probe of the same kind (family,
// source, device, flags): three syscalls per probe instead of six, and no socket allocated per probe.
import { deliverAll, EpollSet } from './epoll-set.js'
import { sys } from './errno.js'
import { type NativeAddon, native } from './native.js'

/** The addon calls this file uses (native/tcp_probe.cc). */
interface TcpProbeAddon {
  epollCreate(): number
  /** fd of the connecting socket (reuseFd itself when given), or a negative errno when connect failed at once. */
  tcpProbeStart(
    epfd: number,
    to: Uint8Array,
    source: Uint8Array | null,
    device: Uint8Array | null,
    flags: number,
    reuseFd: number,
  ): number
  readonly TCP_PROBE_NO_FINAL_ACK: number
  /** Finished probes as [fd, errno, kept] triples in out; returns how many. */
  tcpProbeCollect(epfd: number, out: Int32Array, keep: boolean): number
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
  /** Idle sockets for probes of this kind (shared by every target of the same kind). */
  pool: number[]
}

const BATCH = 512
/** Idle sockets kept per kind at most (in flight there are at most the scheduler's maxConcurrent). */
const POOL_MAX = 1024

export class TcpProbes {
  private readonly n: NativeAddon & TcpProbeAddon
  private readonly set: EpollSet
  /** By fd: the callback of the probe in flight, and the pool its socket goes back to. */
  private readonly dones: Array<((errno: number) => void) | undefined> = []
  private readonly pools: Array<number[] | undefined> = []
  private readonly out = new Int32Array(3 * BATCH)
  private readonly prepared = new WeakMap<TcpProbeTarget, PreparedProbe>()
  private readonly poolsByKind = new Map<string, number[]>()

  /**
   * `onError` gets an exception thrown by a `done` callback (the other outcomes of the batch are
   * still delivered); without it the first such exception is rethrown to the event loop.
   */
  constructor(
    private readonly onError?: (e: unknown) => void,
    addon: NativeAddon = native(),
  ) {
    this.n = addon as NativeAddon & TcpProbeAddon
    this.set = new EpollSet(this.n, () => this.collect())
  }

  /** Probes in flight. */
  get size(): number {
    return this.set.size
  }

  /** Idle sockets kept for reuse, over all kinds. */
  get idle(): number {
    let n = 0
    for (const p of this.poolsByKind.values()) n += p.length
    return n
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
    const flags = target.fullHandshake ? 0 : this.n.TCP_PROBE_NO_FINAL_ACK
    // a kept socket is bound as its kind says and has that kind's options set
    const kind = `${target.to.readUInt16LE(0)}/${target.source?.toString('hex') ?? ''}/${target.device ?? ''}/${flags}`
    let pool = this.poolsByKind.get(kind)
    if (!pool) {
      pool = []
      this.poolsByKind.set(kind, pool)
    }
    return {
      to: target.to,
      source: target.source ?? null,
      device: target.device === undefined ? null : Buffer.from(`${target.device}\0`),
      flags,
      pool,
    }
  }

  /** start() for a prepared target: no lookup per probe. */
  startPrepared(p: PreparedProbe, done: (errno: number) => void): number {
    const epfd = this.set.fd()
    const reuse = p.pool.pop() ?? -1
    const fd = this.n.tcpProbeStart(epfd, p.to, p.source, p.device, p.flags, reuse)
    // a failed start has closed the socket, a reused one too
    if (fd < 0) return fd
    this.dones[fd] = done
    this.pools[fd] = p.pool
    this.set.added()
    return fd
  }

  /** Abandons a probe (closes its socket); `done` will not be called. Ignores ids no longer in flight. */
  cancel(id: number): void {
    if (this.dones[id] === undefined) return
    this.forget(id)
    sys(() => this.n.close(id))
  }

  /** Cancels every probe, closes the idle sockets and releases the epoll set. The object can be used again afterwards. */
  close(): void {
    for (let fd = 0; fd < this.dones.length; fd++) if (this.dones[fd] !== undefined) this.cancel(fd)
    for (const pool of this.poolsByKind.values()) {
      for (const fd of pool) sys(() => this.n.close(fd))
      pool.length = 0
    }
    this.set.close()
  }

  private forget(fd: number): void {
    this.dones[fd] = undefined
    this.pools[fd] = undefined
    this.set.removed()
  }

  private collect(): void {
    const count = sys(() => this.n.tcpProbeCollect(this.set.fd(), this.out, true))
    const out = this.out
    // every finished probe is forgotten (and its kept socket pooled) before any callback runs: a
    // callback may start a probe that gets one of these fd numbers, and one that throws must not
    // strand the rest
    const dones: Array<(errno: number) => void> = []
    const errnos: number[] = []
    for (let i = 0; i < count; i++) {
      const fd = out[3 * i] as number
      const done = this.dones[fd]
      const pool = this.pools[fd]
      if (done === undefined || pool === undefined) {
        // not ours any more (cannot happen: a cancelled probe's socket is closed): do not leak it
        if (out[3 * i + 2] === 1) sys(() => this.n.close(fd))
        continue
      }
      this.forget(fd)
      if (out[3 * i + 2] === 1) {
        if (pool.length < POOL_MAX) pool.push(fd)
        else sys(() => this.n.close(fd))
      }
      dones.push(done)
      errnos.push(out[3 * i + 1] as number)
    }
    deliverAll(dones, errnos, this.onError)
  }
}

let shared: TcpProbes | undefined

/** The calling thread's shared prober (one epoll set per thread). */
export function tcpProbes(): TcpProbes {
  shared ??= new TcpProbes()
  return shared
}
