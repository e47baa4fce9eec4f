// YAML text in the style of conf/*.yaml from plain objects: block mappings, flow lists of scalars,
// flow mappings for small all-scalar entries (real servers), comment lines before annotated entries.

/** Comments attached to an object or array: lines before it (e.g. its source file:line) and notes. */
export interface Meta {
  before?: string[]
  trailing?: string
}

export type Annotations = WeakMap<object, Meta>

const PLAIN = /^[A-Za-z_/.][A-Za-z0-9_./@+-]*$/
const RESERVED = /^(true|false|yes|no|on|off|null|~|y|n)$/i

export function scalar(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  const s = String(v)
  // Plain only when YAML 1.2 reads it back as this same string (not a number, bool or null).
  if (PLAIN.test(s) && !RESERVED.test(s) && !/^[.]?\d/.test(s) && Number.isNaN(Number(s))) return s
  if (/^\d+(\.\d+)?(ms|s|m|h)$/.test(s)) return s
  if (/^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(s)) return s
  return JSON.stringify(s)
}

function isScalar(v: unknown): boolean {
  return v === null || typeof v !== 'object'
}

/** Flow style ({ … } / […]) for short entries of scalars: what fits on one readable line. */
function flowable(v: unknown, ann: Annotations): boolean {
  if (isScalar(v)) return true
  if (flow(v).length > 100) return false
  if (Array.isArray(v)) return v.every(isScalar) && !ann.has(v)
  if (v && typeof v === 'object') {
    const vals = Object.values(v)
    return (
      vals.length <= 5 &&
      vals.every((x) => isScalar(x) || (Array.isArray(x) && x.every(isScalar))) &&
      !ann.get(v)?.before
    )
  }
  return true
}

function flow(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(flow).join(', ')}]`
  if (v && typeof v === 'object')
    return `{ ${Object.entries(v)
      .filter(([, x]) => x !== undefined)
      .map(([k, x]) => `${k}: ${flow(x)}`)
      .join(', ')} }`
  return scalar(v)
}

function trailing(v: unknown, ann: Annotations): string {
  const t = v && typeof v === 'object' ? ann.get(v)?.trailing : undefined
  return t ? ` # ${t}` : ''
}

function before(v: unknown, ann: Annotations, pad: string): string[] {
  const b = v && typeof v === 'object' ? ann.get(v)?.before : undefined
  return (b ?? []).map((c) => `${pad}# ${c}`)
}

function emitMap(obj: Record<string, unknown>, ann: Annotations, indent: number, out: string[], first?: string): void {
  const pad = ' '.repeat(indent)
  let lead = first
  for (const [k, v] of Object.entries(obj)) {
    if (v === undefined) continue
    const p = lead ?? pad
    lead = undefined
    if (isScalar(v) || flowable(v, ann)) {
      if (!isScalar(v)) out.push(...before(v, ann, pad))
      out.push(`${p}${k}: ${flow(v)}${trailing(v, ann)}`)
    } else {
      out.push(...before(v, ann, pad))
      out.push(`${p}${k}:${trailing(v, ann)}`)
      if (Array.isArray(v)) emitSeq(v, ann, indent + 2, out)
      else emitMap(v as Record<string, unknown>, ann, indent + 2, out)
    }
  }
}

function emitSeq(arr: unknown[], ann: Annotations, indent: number, out: string[]): void {
  const pad = ' '.repeat(indent)
  for (const item of arr) {
    out.push(...before(item, ann, pad))
    if (isScalar(item) || flowable(item, ann)) out.push(`${pad}- ${flow(item)}${trailing(item, ann)}`)
    else if (Array.isArray(item)) {
      out.push(`${pad}-`)
      emitSeq(item, ann, indent + 2, out)
    } else emitMap(item as Record<string, unknown>, ann, indent + 2, out, `${pad}- `)
  }
}

/** The document: header comment lines, then top-level sections separated by blank lines. */
export function emitYaml(doc: Record<string, unknown>, ann: Annotations, header: string[], footer: string[]): string {
  const out: string[] = header.map((h) => (h === '' ? '#' : `# ${h}`))
  for (const [k, v] of Object.entries(doc)) {
    if (v === undefined) continue
    if (out.length > 0) out.push('')
    emitMap({ [k]: v }, ann, 0, out)
  }
  if (footer.length > 0) out.push('', ...footer.map((f) => (f === '' ? '#' : `# ${f}`)))
  return `${out.join('\n')}\n`
}
