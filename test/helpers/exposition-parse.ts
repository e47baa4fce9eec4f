// Reads Prometheus text exposition (0.0.4) back into samples, strictly: every sample must follow its
// family's HELP and TYPE lines. For tests and drills that scrape lvsd; not a general-purpose parser.

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

export interface Family {
  name: string
  help: string
  type: string
  samples: Sample[]
}

function unescapeLabel(s: string): string {
  return s.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))
}

function parseLabels(text: string, line: number): Record<string, string> {
  const out: Record<string, string> = {}
  const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y
  let pos = 0
  while (pos < text.length) {
    re.lastIndex = pos
    const m = re.exec(text)
    if (!m) throw new SyntaxError(`line ${line}: bad labels {${text}}`)
    const name = m[1] as string
    if (name in out) throw new SyntaxError(`line ${line}: label ${name} repeated`)
    out[name] = unescapeLabel(m[2] as string)
    pos = re.lastIndex
  }
  return out
}

function parseValue(s: string, line: number): number {
  if (s === '+Inf') return Number.POSITIVE_INFINITY
  if (s === '-Inf') return Number.NEGATIVE_INFINITY
  if (s === 'NaN') return Number.NaN
  const v = Number(s)
  if (s === '' || Number.isNaN(v)) throw new SyntaxError(`line ${line}: bad value ${s}`)
  return v
}

/** The family a sample name belongs to: histogram samples carry _bucket, _sum and _count suffixes. */
function familyOf(name: string, families: Map<string, Family>): Family | undefined {
  const f = families.get(name)
  if (f) return f
  const m = /^(.*)_(bucket|sum|count)$/.exec(name)
  const h = m ? families.get(m[1] as string) : undefined
  return h && (h.type === 'histogram' || h.type === 'summary') ? h : undefined
}

export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>()
  if (text !== '' && !text.endsWith('\n')) throw new SyntaxError('exposition must end with a newline')
  text.split('\n').forEach((raw, i) => {
    const n = i + 1
    if (raw === '') return
    const meta = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(raw)
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string]
      let f = families.get(name)
      if (kind === 'HELP') {
        if (f) throw new SyntaxError(`line ${n}: second HELP for ${name}`)
        f = { name, help: rest.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c)), type: '', samples: [] }
        families.set(name, f)
      } else {
        if (!f || f.type) throw new SyntaxError(`line ${n}: TYPE for ${name} without its HELP first, or twice`)
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest)) {
          throw new SyntaxError(`line ${n}: unknown type ${rest}`)
        }
        f.type = rest
      }
      return
    }
    if (raw.startsWith('#')) return
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(raw)
    if (!m) throw new SyntaxError(`line ${n}: not a sample: ${raw}`)
    const name = m[1] as string
    const f = familyOf(name, families)
    if (!f?.type) throw new SyntaxError(`line ${n}: sample ${name} before its HELP and TYPE`)
    f.samples.push({ name, labels: parseLabels(m[2] ?? '', n), value: parseValue(m[3] as string, n) })
  })
  return families
}

/** The value of the one sample with this name and exactly these labels, or undefined. */
export function sampleValue(
  families: Map<string, Family>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const f = familyOf(name, families)
  const want = JSON.stringify(Object.entries(labels).sort())
  const hits = (f?.samples ?? []).filter(
    (s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want,
  )
  if (hits.length > 1) throw new Error(`${name} ${want}: ${hits.length} samples`)
  return hits[0]?.value
}
