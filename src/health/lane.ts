// One lane of the health scheduler: a FIFO of checks waiting for a slot and the count of those holding
// one, up to its own limit. The batched TCP prober and every other kind of check have a lane each, so
// checks that hang until their timeout (a TLS server that never answers, an HTTP reply dripped a byte
// a second) take slots only from their own lane and never hold back the TCP checks.

export interface Queued {
  /** Waiting for a slot since this time; undefined once started or dropped (left in the FIFO). */
  queuedAt: number | undefined
}

export class Lane<J extends Queued> {
  /** Read from `head`: shift() is O(n) at 10,000 jobs. */
  private ready: J[] = []
  private head = 0
  /** Jobs in the FIFO still waiting (a dropped job stays in the array until passed over). */
  queued = 0
  /** Jobs holding a slot of this lane. */
  inFlight = 0

  constructor(readonly max: number) {}

  push(job: J): void {
    this.ready.push(job)
    this.queued++
  }

  /** A waiting job left the FIFO without starting (its entry is passed over later). */
  dropped(): void {
    this.queued--
  }

  /** The next job still waiting, if a slot is free; the caller starts it (and counts it in inFlight). */
  next(): J | undefined {
    while (this.inFlight < this.max && this.head < this.ready.length) {
      const job = this.ready[this.head++] as J
      if (this.head >= 1024 && this.head * 2 >= this.ready.length) {
        this.ready = this.ready.slice(this.head)
        this.head = 0
      }
      if (job.queuedAt === undefined) continue
      this.queued--
      return job
    }
    if (this.head === this.ready.length && this.head > 0) {
      this.ready.length = 0
      this.head = 0
    }
    return undefined
  }
}
