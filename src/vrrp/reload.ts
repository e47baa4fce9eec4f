// The pure decision of a VRRP reload: which instances are added, removed, left alone, changed in
// place (tunables: the election goes on without leaving its state) or restarted (identity: what the
// peers and the kernel know the instance by). No I/O; the worker (worker.ts) carries the plan out.
import { isDeepStrictEqual } from 'node:util'
import type { RuntimeInstance, TrackedSource, UpdateReport } from './messages.js'

export type { TrackedSource, UpdateReport } from './messages.js'

export type ChangeMode = 'in_place' | 'restart'

export interface UpdatePlan extends UpdateReport {
  /** Every changed instance and how it is changed. */
  modes: Record<string, ChangeMode>
}

/**
 * Keys whose change makes it another virtual router for the peers or the kernel: the socket, the
 * VRID and version on the wire, the address family, the unicast peers and source, the virtual
 * MAC interface, and address ownership (an owner never touches its VIPs and starts as MASTER).
 */
const IDENTITY: ReadonlyArray<keyof RuntimeInstance> = [
  'interface',
  'vrid',
  'version',
  'family',
  'unicast',
  'virtualMac',
]

/** Why a changed instance must be restarted, or undefined when its changes can be applied in place. */
export function restartReason(before: RuntimeInstance, after: RuntimeInstance): string | undefined {
  for (const k of IDENTITY) {
    if (!isDeepStrictEqual(before[k], after[k])) return k
  }
  if ((before.priority === 255) !== (after.priority === 255)) return 'address owner'
  return undefined
}

/** Compares the running instances with the new list, by name; the order of the lists is the new order. */
export function planUpdate(current: readonly RuntimeInstance[], next: readonly RuntimeInstance[]): UpdatePlan {
  const old = new Map(current.map((i) => [i.name, i]))
  const names = new Set(next.map((i) => i.name))
  const plan: UpdatePlan = { added: [], removed: [], changed: [], unchanged: [], modes: {} }
  for (const i of current) if (!names.has(i.name)) plan.removed.push(i.name)
  for (const i of next) {
    const before = old.get(i.name)
    if (!before) plan.added.push(i.name)
    else if (isDeepStrictEqual(before, i)) plan.unchanged.push(i.name)
    else {
      plan.changed.push(i.name)
      plan.modes[i.name] = restartReason(before, i) === undefined ? 'in_place' : 'restart'
    }
  }
  return plan
}

/**
 * The tracker inputs the worker still holds that a new Tracker (started at a reload) no longer
 * feeds: a script or file no longer tracked, or one whose weight moved between 0 (FAULT) and
 * non-zero (delta). They must be cleared or they would hold their last value for ever. Other
 * sources (the director's own, e.g. an operator's release) are not the Tracker's: left alone.
 */
export function staleTracking(
  held: ReadonlyMap<string, { deltas: ReadonlyMap<string, number>; faults: ReadonlyMap<string, boolean> }>,
  declared: readonly TrackedSource[],
): TrackedSource[] {
  const want = new Set(declared.map((d) => `${d.instance}\0${d.kind}\0${d.source}`))
  const ours = (source: string) => source.startsWith('script:') || source.startsWith('file:')
  const out: TrackedSource[] = []
  for (const [instance, e] of held) {
    for (const [kind, map] of [
      ['delta', e.deltas],
      ['fault', e.faults],
    ] as const) {
      for (const source of map.keys())
        if (ours(source) && !want.has(`${instance}\0${kind}\0${source}`)) out.push({ instance, source, kind })
    }
  }
  return out
}
