// The pure difference desired × actual IPVS table → the minimal ordered list of IPVS commands
// (<linux/ip_vs.h> semantics; kernel list order from ip_vs_ctl.c: a new destination goes to the head).
// Only services lvsd owns are touched; destinations are added in canonical order so both directors
// build the same order-dependent scheduler tables (mh, sh, dh).
import type { Destination, Service, ServiceKey } from './domain.js'
import {
  compareDests,
  compareServiceKeys,
  destId,
  ORDER_SENSITIVE_SCHEDULERS,
  type ServiceState,
  sameDestSettings,
  sameServiceSettings,
  serviceId,
} from './model.js'

export type Op =
  | { readonly op: 'add-service'; readonly service: Service }
  | { readonly op: 'edit-service'; readonly service: Service; readonly was: Service }
  | { readonly op: 'del-service'; readonly key: ServiceKey }
  | { readonly op: 'add-dest'; readonly key: ServiceKey; readonly dest: Destination; readonly reorder?: true }
  | { readonly op: 'edit-dest'; readonly key: ServiceKey; readonly dest: Destination; readonly was: Destination }
  | { readonly op: 'del-dest'; readonly key: ServiceKey; readonly dest: Destination; readonly reorder?: true }

/**
 * desired: the table lvsd wants (destinations in any order; they are sorted canonically here).
 * actual: what the kernel holds, each service's destinations oldest first (the reverse of the
 * GET_DEST dump). owned: ids (serviceId) of services lvsd is responsible for besides those in
 * `desired` (e.g. ones it created that the configuration no longer lists). Any other service is
 * never edited or deleted.
 *
 * Order of the result: deletions of services, then per service in canonical key order: its
 * add or edit, destination deletions, edits, then additions in canonical order.
 */
export function diff(
  desired: readonly ServiceState[],
  actual: readonly ServiceState[],
  owned: Iterable<string> = [],
): Op[] {
  const want = new Map(desired.map((s) => [serviceId(s.service.key), s]))
  const have = new Map(actual.map((s) => [serviceId(s.service.key), s]))
  const mine = new Set([...owned, ...want.keys()])
  const ops: Op[] = []

  const gone = [...have.values()]
    .filter((s) => mine.has(serviceId(s.service.key)) && !want.has(serviceId(s.service.key)))
    .sort((a, b) => compareServiceKeys(a.service.key, b.service.key))
  for (const s of gone) ops.push({ op: 'del-service', key: s.service.key })

  const wanted = [...want.values()].sort((a, b) => compareServiceKeys(a.service.key, b.service.key))
  for (const w of wanted) {
    const h = have.get(serviceId(w.service.key))
    const dests = [...w.dests].sort(compareDests)
    if (!h) {
      ops.push({ op: 'add-service', service: w.service })
      for (const d of dests) ops.push({ op: 'add-dest', key: w.service.key, dest: d })
      continue
    }
    if (!sameServiceSettings(w.service, h.service)) ops.push({ op: 'edit-service', service: w.service, was: h.service })
    ops.push(...destOps(w.service, dests, h.dests))
  }
  return ops
}

/** Destination commands for one service present on both sides; `want` is in canonical order. */
function destOps(svc: Service, want: readonly Destination[], have: readonly Destination[]): Op[] {
  const key = svc.key
  const wantById = new Map(want.map((d) => [destId(d), d]))
  const haveById = new Map(have.map((d) => [destId(d), d]))
  const dels: Op[] = []
  const edits: Op[] = []
  const adds: Op[] = []

  for (const h of have) if (!wantById.has(destId(h))) dels.push({ op: 'del-dest', key, dest: h })

  // Kept destinations stay where they are and new ones go behind them, so the list ends up in
  // canonical order only if the kept ones form a canonical prefix. For an order-sensitive scheduler,
  // keep the longest prefix of `want` that appears in order among the kept destinations (greedy
  // subsequence match); the other kept ones are deleted and re-added in order.
  const reorderFrom = new Set<string>()
  if (ORDER_SENSITIVE_SCHEDULERS.has(svc.scheduler)) {
    let j = 0
    for (const h of have) {
      const id = destId(h)
      if (!wantById.has(id)) continue
      if (j < want.length && destId(want[j] as Destination) === id) j++
      else reorderFrom.add(id)
    }
  }

  for (const h of have) {
    const id = destId(h)
    if (wantById.has(id) && reorderFrom.has(id)) dels.push({ op: 'del-dest', key, dest: h, reorder: true })
  }
  for (const w of want) {
    const id = destId(w)
    const h = haveById.get(id)
    if (h && !reorderFrom.has(id)) {
      if (!sameDestSettings(w, h)) edits.push({ op: 'edit-dest', key, dest: w, was: h })
    } else if (h) adds.push({ op: 'add-dest', key, dest: w, reorder: true })
    else adds.push({ op: 'add-dest', key, dest: w })
  }
  return [...dels, ...edits, ...adds]
}
