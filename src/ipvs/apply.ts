// Reads the kernel's IPVS table and applies diff.ts's operations with the IPVS client, one command per
// operation, reporting each result (for logs and metrics). Kernel list order per ip_vs_ctl.c (head insertion).
import { isLvsdError, type LvsdError } from '../errors.js'
import { sliceTimer, turn } from '../loop-turns.js'
import type { IpvsClient } from './client.js'
import { diff, type Op } from './diff.js'
import { type ServiceState, serviceId } from './model.js'

export interface OpResult {
  readonly op: Op
  /** 'skipped': an earlier failure made this op pointless (its service could not be added). */
  readonly status: 'ok' | 'failed' | 'skipped'
  readonly error?: LvsdError
  readonly ms: number
}

export interface ApplyOptions {
  /** Called after each op, in order. */
  onResult?: (r: OpResult) => void
  /** Monotonic milliseconds, for the per-op duration (injected; default performance.now). */
  now?: () => number
  /**
   * How many commands go out at once (default 1: send, await the ACK, send the next): with a batching client
   * one datagram. The kernel handles a socket's messages in order, so a window keeps the order and saves the
   * round trips; an op whose service could not be added is then reported 'skipped' even if it was already sent.
   */
  window?: number
  /**
   * With a batching client: 'each' (default) asks the kernel to ACK every command, as ipvsadm does; 'last'
   * only each datagram's last one (failures are answered anyway), one answer to read per window instead of
   * per command. The commands' payloads are the same; only NLM_F_ACK differs.
   */
  ack?: 'each' | 'last'
}

/** The subset of IpvsClient that apply and readTable use (a test may pass a stand-in). */
export type IpvsOps = Pick<
  IpvsClient,
  'addService' | 'editService' | 'delService' | 'addDest' | 'editDest' | 'delDest' | 'listServices' | 'listDests'
> &
  Partial<Pick<IpvsClient, 'batch'>>

function run(c: IpvsOps, op: Op): Promise<void> {
  switch (op.op) {
    case 'add-service':
      return c.addService(op.service)
    case 'edit-service':
      return c.editService(op.service)
    case 'del-service':
      return c.delService(op.key)
    case 'add-dest':
      return c.addDest(op.key, op.dest)
    case 'edit-dest':
      return c.editDest(op.key, op.dest)
    case 'del-dest':
      return c.delDest(op.key, op.dest)
  }
}

const keyOf = (op: Op) => serviceId(op.op === 'add-service' || op.op === 'edit-service' ? op.service.key : op.key)

/**
 * Applies the ops in order and never throws for a kernel refusal: each op's result says what
 * happened. Errors other than LvsdError (bugs) are re-thrown.
 */
export async function applyOps(c: IpvsOps, ops: readonly Op[], opts: ApplyOptions = {}): Promise<OpResult[]> {
  const now = opts.now ?? (() => performance.now())
  const window = Math.max(1, Math.floor(opts.window ?? 1))
  const failedAdds = new Set<string>()
  const out: OpResult[] = []
  const settle = (r: OpResult) => {
    // a command sent before its service's NEW_SERVICE failed is a consequence (ESRCH), not a failure of its own
    const final =
      r.op.op !== 'add-service' && failedAdds.has(keyOf(r.op)) ? { op: r.op, status: 'skipped' as const, ms: 0 } : r
    out.push(final)
    opts.onResult?.(final)
  }
  const start = (op: Op): Promise<OpResult> | OpResult => {
    if (op.op !== 'add-service' && failedAdds.has(keyOf(op))) return { op, status: 'skipped', ms: 0 }
    const t0 = now()
    return run(c, op).then(
      (): OpResult => ({ op, status: 'ok', ms: now() - t0 }),
      (e: unknown): OpResult => {
        if (!isLvsdError(e)) throw e
        if (op.op === 'add-service') failedAdds.add(keyOf(op))
        return { op, status: 'failed', error: e, ms: now() - t0 }
      },
    )
  }
  // a window's commands go out together (one datagram when the client batches) and are settled in order
  for (let i = 0; i < ops.length; i += window) {
    const chunk = ops.slice(i, i + window)
    const issue = () => chunk.map(start)
    const started = c.batch ? c.batch(issue, { ack: opts.ack ?? 'each' }) : issue()
    for (const r of await Promise.all(started)) settle(r)
  }
  return out
}

const NO_STATS = { stats: false } as const

/**
 * The kernel's table as diff() expects it: every service with its destinations oldest first (the
 * GET_DEST dump lists newest first). A service that vanishes between the two dumps is left out.
 */
export async function readTable(c: Pick<IpvsOps, 'listServices' | 'listDests'>): Promise<ServiceState[]> {
  // one dump at a time: a netlink socket runs a single dump, a second request while one is unfinished
  // gets EBUSY (measured on 6.1 with pipelined GET_DEST dumps)
  const out: ServiceState[] = []
  const due = sliceTimer()
  // no counters: the diff compares settings only, and decoding them was most of the read's cost
  for (const service of await c.listServices(NO_STATS)) {
    try {
      const dests = await c.listDests(service.key, NO_STATS)
      out.push({ service, dests: [...dests].reverse() })
      if (due()) await turn()
    } catch (e) {
      if (isLvsdError(e, 'LVSD_NL_KERNEL') && e.details.code === 'ESRCH') continue
      throw e
    }
  }
  return out
}

export interface ReconcileResult {
  readonly ops: readonly Op[]
  readonly results: readonly OpResult[]
}

/** One pass: read the kernel's table, diff it against `desired`, apply. */
export async function reconcile(
  c: IpvsOps,
  desired: readonly ServiceState[],
  owned: Iterable<string> = [],
  opts: ApplyOptions = {},
): Promise<ReconcileResult> {
  const ops = diff(desired, await readTable(c), owned)
  return { ops, results: await applyOps(c, ops, opts) }
}
