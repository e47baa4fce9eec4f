// --pair: two directors' converted configs should differ only where a VRRP pair must (node, priority,
// initial state, unicast source and peers, which must mirror each other); everything else is listed.

type Obj = Record<string, unknown>

/** Paths a pair may differ in (list entries are named by their `name`). */
const ALLOWED = [
  /^node$/,
  /^vrrp\.instances\[[^\]]+\]\.(priority|initial_state|address_owner|preempt|preempt_delay)$/,
  /^vrrp\.instances\[[^\]]+\]\.unicast\.(source|peers)/,
]

function keyed(list: unknown[]): Map<string, unknown> {
  const m = new Map<string, unknown>()
  list.forEach((v, i) => {
    const name = v && typeof v === 'object' && 'name' in v ? String((v as Obj).name) : String(i)
    m.set(name, v)
  })
  return m
}

function diff(a: unknown, b: unknown, path: string, out: string[]): void {
  if (ALLOWED.some((re) => re.test(path))) return
  if (Array.isArray(a) && Array.isArray(b) && [...a, ...b].every((x) => x && typeof x === 'object' && 'name' in x)) {
    const ma = keyed(a)
    const mb = keyed(b)
    for (const k of new Set([...ma.keys(), ...mb.keys()])) {
      if (!ma.has(k)) out.push(`${path}[${k}]: only in the second file`)
      else if (!mb.has(k)) out.push(`${path}[${k}]: only in the first file`)
      else diff(ma.get(k), mb.get(k), `${path}[${k}]`, out)
    }
    return
  }
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)]))
      diff((a as Obj)[k], (b as Obj)[k], path === '' ? k : `${path}.${k}`, out)
    return
  }
  if (JSON.stringify(a) !== JSON.stringify(b))
    out.push(`${path}: ${JSON.stringify(a) ?? '(absent)'} vs ${JSON.stringify(b) ?? '(absent)'}`)
}

function instances(doc: Obj): Obj[] {
  return (((doc.vrrp as Obj | undefined)?.instances as Obj[] | undefined) ?? []).filter(
    (i) => i && typeof i === 'object',
  )
}

export function comparePair(a: Obj, b: Obj): string[] {
  const out: string[] = []
  diff(a, b, '', out)
  const ib = new Map(instances(b).map((i) => [i.name, i]))
  for (const ia of instances(a)) {
    const other = ib.get(ia.name)
    if (!other) continue
    const n = `vrrp.instances[${String(ia.name)}]`
    if (ia.priority === other.priority)
      out.push(`${n}.priority: both ${String(ia.priority)} (the election then falls to the higher address)`)
    if (ia.initial_state === 'master' && other.initial_state === 'master') out.push(`${n}.initial_state: both master`)
    const ua = ia.unicast as Obj | undefined
    const ub = other.unicast as Obj | undefined
    if (!!ua !== !!ub) out.push(`${n}.unicast: only one side sends unicast adverts`)
    if (ua && ub) {
      const pa = (ua.peers as string[] | undefined) ?? []
      const pb = (ub.peers as string[] | undefined) ?? []
      if (ua.source !== undefined && !pb.includes(ua.source as string))
        out.push(`${n}.unicast: the first file's source ${String(ua.source)} is not a peer of the second`)
      if (ub.source !== undefined && !pa.includes(ub.source as string))
        out.push(`${n}.unicast: the second file's source ${String(ub.source)} is not a peer of the first`)
      if (ua.source !== undefined && ua.source === ub.source) out.push(`${n}.unicast.source: both ${String(ua.source)}`)
    }
  }
  if (a.node === b.node) out.push(`node: both ${String(a.node)} (set router_id on each director)`)
  return out
}
