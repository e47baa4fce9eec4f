// HttpProbes: many HTTP/1.1 checks on one epoll set of the addon (native/http_probe.cc), finished
// ones collected in batches. A check costs one call to start and a share of one call to collect; the
// reply's bytes are copied into JavaScript only for a check that matches its body.
import { deliverAll, EpollSet } from './epoll-set.js'
import { sys } from './errno.js'
import { type NativeAddon, native } from './native.js'

/** The addon calls this file uses (native/http_probe.cc). */
interface HttpProbeAddon {
  epollCreate(): number
  /** fd of the check's socket, or a negative errno when it could not start. */
  httpProbeStart(
    epfd: number,
    to: Uint8Array,
    source: Uint8Array | null,
    device: Uint8Array | null,
    request: Uint8Array,
    bodyMax: number,
  ): number
  /** Finished checks as [fd, outcome, status, held] quadruples in out; returns how many. */
  httpProbeCollect(epfd: number, out: Int32Array): number
  httpProbeTake(fd: number): Buffer | undefined
  httpProbeCancel(fd: number): void
  readonly HTTP_PROBE_CLOSED_EARLY: number
  readonly HTTP_PROBE_HEADER_TOO_LONG: number
  readonly HTTP_PROBE_NOT_HTTP: number
}

/** How a check ended: a reply (its status and, if a body was wanted, the bytes read) or a failure. */
export type HttpOutcome =
  | { kind: 'reply'; status: number; reply: Buffer | undefined }
  | { kind: 'errno'; errno: number }
  | { kind: 'closed-early' | 'header-too-long' | 'not-http' }

/** What httpProbeStart needs for one target, built once (http-native.ts). */
export interface PreparedHttp {
  to: Buffer
  source: Buffer | null
  /** NUL-terminated interface name. */
  device: Buffer | null
  request: Buffer
  /** Body bytes wanted after the header; 0 = the status is all that matters. */
  bodyMax: number
}

const BATCH = 512

export class HttpProbes {
  private readonly n: NativeAddon & HttpProbeAddon
  private readonly set: EpollSet
  private readonly dones: Array<((o: HttpOutcome) => void) | undefined> = []
  private readonly out = new Int32Array(4 * BATCH)

  /** `onError` as TcpProbes': an exception thrown by a `done` callback. */
  constructor(
    private readonly onError?: (e: unknown) => void,
    addon: NativeAddon = native(),
  ) {
    this.n = addon as NativeAddon & HttpProbeAddon
    this.set = new EpollSet(this.n, () => this.collect())
  }

  get size(): number {
    return this.set.size
  }

  /**
   * Starts a check; `done` runs once from the event loop unless it is cancelled. Returns its id, or
   * a negative errno when it could not start (`done` is not called then).
   */
  start(p: PreparedHttp, done: (o: HttpOutcome) => void): number {
    const fd = this.n.httpProbeStart(this.set.fd(), p.to, p.source, p.device, p.request, p.bodyMax)
    if (fd < 0) return fd
    this.dones[fd] = done
    this.set.added()
    return fd
  }

  /** Abandons a check (its socket reset and closed); `done` will not be called. */
  cancel(id: number): void {
    if (this.dones[id] === undefined) return
    this.dones[id] = undefined
    this.set.removed()
    sys(() => this.n.httpProbeCancel(id))
  }

  close(): void {
    for (let fd = 0; fd < this.dones.length; fd++) if (this.dones[fd] !== undefined) this.cancel(fd)
    this.set.close()
  }

  private outcome(code: number, status: number, reply: Buffer | undefined): HttpOutcome {
    if (code === 0) return { kind: 'reply', status, reply }
    if (code > 0) return { kind: 'errno', errno: code }
    if (code === this.n.HTTP_PROBE_CLOSED_EARLY) return { kind: 'closed-early' }
    if (code === this.n.HTTP_PROBE_HEADER_TOO_LONG) return { kind: 'header-too-long' }
    return { kind: 'not-http' }
  }

  private collect(): void {
    const count = sys(() => this.n.httpProbeCollect(this.set.fd(), this.out))
    const out = this.out
    // every finished check is forgotten (its reply taken, its socket closed) before any callback
    // runs: a callback may start a check that gets one of these fd numbers
    const dones: Array<(o: HttpOutcome) => void> = []
    const outcomes: HttpOutcome[] = []
    for (let i = 0; i < count; i++) {
      const fd = out[4 * i] as number
      const reply = out[4 * i + 3] === 1 ? this.n.httpProbeTake(fd) : undefined
      const done = this.dones[fd]
      if (done === undefined) continue
      this.dones[fd] = undefined
      this.set.removed()
      dones.push(done)
      outcomes.push(this.outcome(out[4 * i + 1] as number, out[4 * i + 2] as number, reply))
    }
    deliverAll(dones, outcomes, this.onError)
  }
}

let shared: HttpProbes | undefined

/** The calling thread's shared HTTP prober (one epoll set per thread). */
export function httpProbes(): HttpProbes {
  shared ??= new HttpProbes()
  return shared
}
