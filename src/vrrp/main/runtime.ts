// The main thread's handle on the VRRP worker: starts the thread, sends it the instances, turns its
// messages into events (transition, log, counters) and stops it cleanly (priority 0, VIPs removed).
import { EventEmitter } from 'node:events'
import { existsSync } from 'node:fs'
import { Worker } from 'node:worker_threads'
import { fromWireError, LvsdError } from '../../errors.js'
import { closeEnd, streamPair } from '../../sys/socket-pair.js'
import { InboxWriter } from '../inbox.js'
import type { Counters, Down, RuntimeInstance, SyncGroup, Up } from '../messages.js'
import type { TrackedSource, UpdateReport } from '../reload.js'
import { applyAcceptMode, NFT, noAcceptAddrs } from './accept.js'

export type { UpdateReport } from '../reload.js'

export type TransitionEvent = Extract<Up, { type: 'transition' }>
export type LogEvent = Extract<Up, { type: 'log' }>
export type ReadyEvent = Extract<Up, { type: 'ready' }>

export interface RuntimeEvents {
  transition: [TransitionEvent]
  log: [LogEvent]
  drop: [Extract<Up, { type: 'drop' }>]
  late: [Extract<Up, { type: 'late' }>]
  priority: [Extract<Up, { type: 'priority' }>]
  ready: [ReadyEvent]
  counters: [Record<string, Counters>]
  error: [Error]
  exit: [number]
}

const STOP_TIMEOUT_MS = 5000
/** How long a worker that said 'stopped' gets to end by itself (it takes ~10 ms; TCG is slower). */
const STOPPED_GRACE_MS = 1000

/** The worker thread as the runtime uses it (node:worker_threads Worker; the unit tier runs VrrpWorkerCore in-process). */
export interface WorkerPort {
  postMessage(m: Down): void
  on(event: 'message', fn: (m: Up) => void): unknown
  on(event: 'error', fn: (e: Error) => void): unknown
  on(event: 'exit', fn: (code: number) => void): unknown
  once(event: 'exit', fn: (code: number) => void): unknown
  terminate(): Promise<number>
}

export class VrrpRuntime extends EventEmitter<RuntimeEvents> {
  private readonly worker: WorkerPort
  /** Where messages to the worker go: its inbox stream (inbox.ts), or a test's worker itself. */
  private readonly down: Pick<WorkerPort, 'postMessage'>
  private stopping: Promise<Record<string, Counters> | undefined> | undefined
  private lastCounters: Record<string, Counters> | undefined
  private exited = false
  private acceptMode: Promise<void> | undefined
  private acceptInstalled = false
  private readonly nft: string
  private updates = 0
  private readonly pending = new Map<number, { resolve: (r: UpdateReport) => void; reject: (e: Error) => void }>()

  constructor(
    instances: RuntimeInstance[],
    opts: {
      rtPriority: number
      syncGroups?: SyncGroup[]
      /** for tests */
      nft?: string
      /** for tests: the worker, instead of a thread running worker.js */
      worker?: () => WorkerPort
    },
  ) {
    super()
    this.nft = opts.nft ?? NFT
    if (opts.worker) {
      this.worker = opts.worker()
      this.down = this.worker
    } else {
      const [mine, theirs] = streamPair()
      let inbox: InboxWriter | undefined
      try {
        inbox = new InboxWriter(mine)
        this.worker = new Worker(new URL('../worker/worker.js', import.meta.url), { workerData: { inboxFd: theirs } })
      } catch (e) {
        if (inbox) inbox.close()
        else closeEnd(mine)
        closeEnd(theirs)
        throw e
      }
      const down = inbox
      this.worker.once('exit', () => down.close())
      this.down = down
    }
    this.worker.on('message', (m: Up) => this.onMessage(m))
    this.worker.on('error', (e) => this.emit('error', e))
    this.worker.on('exit', (code) => {
      this.exited = true
      for (const p of this.pending.values()) p.reject(new LvsdError('LVSD_VRRP_STOPPED', 'the VRRP worker exited'))
      this.pending.clear()
      this.emit('exit', code)
    })
    const start: Down = { type: 'start', instances, rtPriority: opts.rtPriority, syncGroups: opts.syncGroups ?? [] }
    this.acceptMode = this.applyAccept(instances)
    // with accept: false the rules go in before any VIP can (a few ms of nft); otherwise no wait
    const { v4, v6 } = noAcceptAddrs(instances)
    if (v4.length + v6.length > 0) void this.acceptMode.then(() => this.send(start))
    else this.send(start)
  }

  /**
   * accept: false (accept.ts): the nftables drop rules follow the instance list. Without any such
   * instance, a table left by a crashed earlier run is removed if nft exists, quietly.
   */
  private applyAccept(instances: readonly RuntimeInstance[]): Promise<void> {
    const prev = this.acceptMode ?? Promise.resolve()
    return prev.then(async () => {
      const needed = noAcceptAddrs(instances)
      const wanted = needed.v4.length + needed.v6.length > 0
      if (!wanted && !this.acceptInstalled && !existsSync(this.nft)) return
      const err = await applyAcceptMode(instances, this.nft)
      if (err && wanted) {
        this.emit('log', {
          type: 'log',
          level: 'error',
          msg: 'accept: false is not enforced: the nftables rules could not be installed',
          fields: { err, nft: this.nft },
        })
      }
      this.acceptInstalled = wanted && !err
    })
  }

  /** A tracked object the main thread watches (script, file) changed an instance's priority. */
  setPriorityDelta(instance: string, source: string, delta: number): void {
    this.send({ type: 'priority', instance, source, delta })
  }

  setFault(instance: string, source: string, on: boolean): void {
    this.send({ type: 'fault', instance, source, on })
  }

  /** preempt_on_quorum: the instance may not (on) or may again (off) preempt a lower-priority master. */
  setPreemptHold(instance: string, on: boolean): void {
    this.send({ type: 'preemptHold', instance, on })
  }

  /** A Tracker starting (at start-up or a reload) declares what it feeds; see reload.ts staleTracking. */
  trackedSources(sources: TrackedSource[]): void {
    this.send({ type: 'tracked', sources })
  }

  /**
   * A reload: the full new instance list and sync groups. Unchanged instances (deep-equal) keep
   * their state, timers and sockets; removed ones resign as on shutdown; added ones start as at
   * start-up; changed ones are updated in place, or restarted when their identity changed
   * (reload.ts). Resolves once every change is applied (VIPs confirmed by the kernel).
   */
  update(instances: RuntimeInstance[], syncGroups: SyncGroup[]): Promise<UpdateReport> {
    const id = ++this.updates
    return new Promise((resolve, reject) => {
      if (this.exited || this.stopping) {
        reject(new LvsdError('LVSD_VRRP_STOPPED', 'the VRRP runtime is stopping or stopped'))
        return
      }
      this.pending.set(id, { resolve, reject })
      // the rules first: a VIP that must not accept never does, even for a moment
      this.acceptMode = this.applyAccept(instances)
      void this.acceptMode.then(() => this.send({ type: 'update', id, instances, syncGroups }))
    })
  }

  /** The worker's counters, as of now. */
  counters(): Promise<Record<string, Counters>> {
    return new Promise((resolve) => {
      this.once('counters', resolve)
      this.send({ type: 'counters' })
    })
  }

  /**
   * Every master sends priority 0 and removes its VIPs; resolves with the final counters once the
   * worker has confirmed (or after a timeout, when the thread is terminated).
   */
  stop(): Promise<Record<string, Counters> | undefined> {
    this.stopping ??= new Promise<Record<string, Counters> | undefined>((resolve) => {
      if (this.exited) return resolve(this.lastCounters)
      const timer = setTimeout(() => {
        void this.worker.terminate().then(() => resolve(this.lastCounters))
      }, STOP_TIMEOUT_MS)
      this.worker.once('exit', () => {
        clearTimeout(timer)
        resolve(this.lastCounters)
      })
      this.send({ type: 'shutdown' })
    }).then(async (counters) => {
      // the VIPs are gone: the drop rules go too
      await this.acceptMode
      if (this.acceptInstalled) await applyAcceptMode([], this.nft)
      this.acceptInstalled = false
      return counters
    })
    return this.stopping
  }

  private send(m: Down): void {
    if (!this.exited) this.down.postMessage(m)
  }

  private onMessage(m: Up): void {
    switch (m.type) {
      case 'transition':
        this.emit('transition', m)
        return
      case 'log':
        this.emit('log', m)
        return
      case 'drop':
        this.emit('drop', m)
        return
      case 'late':
        this.emit('late', m)
        return
      case 'priority':
        this.emit('priority', m)
        return
      case 'ready':
        this.emit('ready', m)
        return
      case 'counters':
        this.lastCounters = m.counters
        this.emit('counters', m.counters)
        return
      case 'error':
        this.emit('error', fromWireError(m.error))
        return
      case 'updated': {
        const p = this.pending.get(m.id)
        this.pending.delete(m.id)
        if (!p) return
        if (m.report) p.resolve(m.report)
        else
          p.reject(
            new LvsdError('LVSD_VRRP_STOPPED', `VRRP update failed: ${m.error?.message ?? 'unknown error'}`, {
              ...(m.error ? { cause: m.error } : {}),
            }),
          )
        return
      }
      case 'stopped': {
        // the worker closed every handle and ends by itself; terminate() only what lingers
        const t = setTimeout(() => void this.worker.terminate(), STOPPED_GRACE_MS)
        this.worker.once('exit', () => clearTimeout(t))
        return
      }
    }
  }
}
