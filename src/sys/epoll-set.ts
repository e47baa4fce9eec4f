// The epoll set of a batched prober (tcp-probe.ts, http-probe.ts): made at the first probe, watched by
// one Poller that calls `collect` while any probe has an event, and holding the process open only
// while probes are in flight.
import { UV_READABLE } from './constants.js'
import { sys } from './errno.js'
import type { NativeAddon, NativePoller } from './native.js'

/**
 * Runs each finished probe's callback with its outcome. One that throws does not stop the others:
 * the exception goes to `onError`, or (without one) the first is rethrown after all have run.
 */
export function deliverAll<T>(dones: Array<(o: T) => void>, outcomes: T[], onError?: (e: unknown) => void): void {
  let failure: { e: unknown } | undefined
  for (let i = 0; i < dones.length; i++) {
    try {
      ;(dones[i] as (o: T) => void)(outcomes[i] as T)
    } catch (e) {
      if (onError) onError(e)
      else failure ??= { e }
    }
  }
  if (failure) throw failure.e
}

export class EpollSet {
  private epfd = -1
  private poller: NativePoller | undefined
  private inFlight = 0

  constructor(
    private readonly n: NativeAddon & { epollCreate(): number },
    private readonly collect: () => void,
  ) {}

  /** Probes in flight. */
  get size(): number {
    return this.inFlight
  }

  /** The epoll fd, made now if there is none. */
  fd(): number {
    if (this.epfd < 0) this.open()
    return this.epfd
  }

  /** A probe started: the process stays alive for it. */
  added(): void {
    if (++this.inFlight === 1) this.poller?.ref()
  }

  /** A probe finished or was cancelled. */
  removed(): void {
    if (--this.inFlight === 0) this.poller?.unref()
  }

  /** Releases the epoll set (the probes' own sockets are the caller's); it is made again on use. */
  close(): void {
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
}
