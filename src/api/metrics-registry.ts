// A small metrics registry (counters, gauges, histograms with labels) and its Prometheus text exposition,
// format version 0.0.4: HELP/TYPE lines, escaped label values, cumulative histogram buckets.

export type Labels = Readonly<Record<string, string>>
export type MetricType = 'counter' | 'gauge' | 'histogram'

/** HELP text: backslash and newline escaped. */
export function escapeHelp(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

/** A label value: backslash, double quote and newline escaped. */
export function escapeLabel(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

/** Go's float text as Prometheus parses it: +Inf, -Inf, NaN, else the shortest round-tripping decimal. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN'
  if (v === Number.POSITIVE_INFINITY) return '+Inf'
  if (v === Number.NEGATIVE_INFINITY) return '-Inf'
  return String(v)
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/

/** The inside of a label set's braces, `a="x",b="y"`: built once per series, not per scrape. */
function labelInner(names: readonly string[], values: readonly string[]): string {
  let out = ''
  for (let i = 0; i < names.length; i++) out += `${i ? ',' : ''}${names[i]}="${escapeLabel(values[i] ?? '')}"`
  return out
}

interface Series<S> {
  /** The label values, in the order of the label names. */
  values: readonly string[]
  /** `{a="x"}`, or '' without labels. */
  labels: string
  /** The label text without braces, for the histogram's `le`. */
  inner: string
  state: S
  /** The collection it was last set in (collector-fed metrics drop series not set in the latest). */
  gen: number
}

/**
 * Series found by their label values one level at a time (a Map per label): looking up
 * {service, server} reuses the hashes the two strings already carry, where a joined key was a new
 * string to hash on every set (40 % of a 10,000-server scrape).
 */
type Index<S> = Map<string, Index<S> | Series<S>>

abstract class Metric<S> {
  /** Every series in the order it was made: the order of the exposition. */
  protected readonly series = new Set<Series<S>>()
  private readonly index: Index<S> = new Map()
  abstract readonly type: MetricType
  /** The collection now being set (reset() starts the next). */
  private gen = 0
  /** Series last set before this collection are stale: the last finished collection did not set them. */
  private keepFrom = 0

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {
    if (!NAME.test(name)) throw new RangeError(`invalid metric name ${name}`)
    for (const l of labelNames) {
      if (!LABEL.test(l) || l.startsWith('__') || l === 'le') throw new RangeError(`invalid label name ${l}`)
    }
  }

  protected find(labels: Labels): Series<S> | undefined {
    const names = this.labelNames
    if (names.length === 0) return this.index.get('') as Series<S> | undefined
    let node: Index<S> | Series<S> | undefined = this.index
    for (let i = 0; i < names.length && node !== undefined; i++) {
      const v = labels[names[i] as string]
      if (v === undefined) return undefined
      node = (node as Index<S>).get(v)
    }
    return node as Series<S> | undefined
  }

  protected entry(labels: Labels, init: () => S): Series<S> {
    let e = this.find(labels)
    if (!e) {
      const values = this.labelNames.map((n) => {
        const v = labels[n]
        if (v === undefined) throw new RangeError(`${this.name}: label ${n} missing`)
        return v
      })
      const inner = labelInner(this.labelNames, values)
      e = { values, labels: inner ? `{${inner}}` : '', inner, state: init(), gen: this.gen }
      this.place(e)
    }
    e.gen = this.gen
    return e
  }

  private place(e: Series<S>): void {
    this.series.add(e)
    if (e.values.length === 0) {
      this.index.set('', e)
      return
    }
    let m = this.index
    for (let i = 0; i < e.values.length - 1; i++) {
      const v = e.values[i] as string
      let next = m.get(v) as Index<S> | undefined
      if (!next) {
        next = new Map()
        m.set(v, next)
      }
      m = next
    }
    m.set(e.values[e.values.length - 1] as string, e)
  }

  private drop(e: Series<S>): void {
    this.series.delete(e)
    if (e.values.length === 0) {
      this.index.delete('')
      return
    }
    const path: Index<S>[] = [this.index]
    for (let i = 0; i < e.values.length - 1; i++) {
      const next = (path[i] as Index<S>).get(e.values[i] as string) as Index<S> | undefined
      if (!next) return
      path.push(next)
    }
    // the leaf, then every level left empty
    for (let i = e.values.length - 1; i >= 0; i--) {
      const m = path[i] as Index<S>
      m.delete(e.values[i] as string)
      if (m.size > 0) break
    }
  }

  /**
   * Starts a collection: the series not set again before it is settled are forgotten (collector-fed
   * metrics are rebuilt on each scrape, so gone servers vanish). A series set again keeps its label
   * text: at 10,000 servers escaping and joining labels anew each scrape was a third of the scrape.
   */
  reset(): void {
    this.gen++
  }

  /**
   * The collection started by reset() is complete. Only now are the series it did not set stale: a
   * render that runs while a later collection is half done still shows every series of this one.
   */
  settle(): void {
    this.keepFrom = this.gen
  }

  protected abstract text(name: string, e: Series<S>): string

  /** The family's text in pieces of about `sliceBytes` characters (the last may be shorter). */
  *pieces(sliceBytes: number): Generator<string> {
    let out = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`
    for (const e of this.series) {
      if (e.gen < this.keepFrom) {
        this.drop(e)
        continue
      }
      out += this.text(this.name, e)
      if (out.length >= sliceBytes) {
        yield out
        out = ''
      }
    }
    if (out) yield out
  }
}

export class Counter extends Metric<{ v: number }> {
  readonly type = 'counter'

  inc(labels: Labels = {}, by = 1): void {
    if (!(by >= 0)) throw new RangeError(`${this.name}: a counter only goes up`)
    this.entry(labels, () => ({ v: 0 })).state.v += by
  }

  /** For counters kept elsewhere (the kernel's, the VRRP worker's) and copied in at scrape time. */
  set(labels: Labels, v: number): void {
    this.entry(labels, () => ({ v: 0 })).state.v = v
  }

  get(labels: Labels = {}): number {
    return this.find(labels)?.state.v ?? 0
  }

  protected text(name: string, e: Series<{ v: number }>): string {
    return `${name}${e.labels} ${formatValue(e.state.v)}\n`
  }
}

export class Gauge extends Metric<{ v: number }> {
  readonly type = 'gauge'

  set(labels: Labels, v: number): void {
    this.entry(labels, () => ({ v: 0 })).state.v = v
  }

  protected text(name: string, e: Series<{ v: number }>): string {
    return `${name}${e.labels} ${formatValue(e.state.v)}\n`
  }
}

interface HistState {
  counts: number[]
  sum: number
  count: number
}

export class Histogram extends Metric<HistState> {
  readonly type = 'histogram'
  readonly buckets: readonly number[]
  /** `le="0.005"` for each bucket, spelled once. */
  private readonly le: readonly string[]

  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]) {
    super(name, help, labelNames)
    const sorted = [...buckets].sort((a, b) => a - b)
    if (sorted.some((b, i) => i > 0 && b === sorted[i - 1]) || sorted.some((b) => !Number.isFinite(b))) {
      throw new RangeError(`${name}: buckets must be distinct finite numbers`)
    }
    this.buckets = sorted
    this.le = [...sorted.map((b) => `le="${formatValue(b)}"`), 'le="+Inf"']
  }

  observe(labels: Labels, v: number): void {
    const s = this.entry(labels, () => ({ counts: this.buckets.map(() => 0), sum: 0, count: 0 })).state
    const i = this.buckets.findIndex((b) => v <= b)
    if (i >= 0) s.counts[i] = (s.counts[i] ?? 0) + 1
    s.sum += v
    s.count++
  }

  protected text(name: string, e: Series<HistState>): string {
    const s = e.state
    const pre = e.inner ? `${name}_bucket{${e.inner},` : `${name}_bucket{`
    let out = ''
    let cum = 0
    for (let i = 0; i < this.buckets.length; i++) {
      cum += s.counts[i] ?? 0
      out += `${pre}${this.le[i]}} ${cum}\n`
    }
    out += `${pre}${this.le[this.buckets.length]}} ${s.count}\n`
    out += `${name}_sum${e.labels} ${formatValue(s.sum)}\n${name}_count${e.labels} ${s.count}\n`
    return out
  }
}

type AnyMetric = Counter | Gauge | Histogram

/** Copies values in before a render; a generator yields where the event loop may run. */
export type Collector = () => void | Iterable<unknown>

export class Registry {
  private readonly metrics = new Map<string, AnyMetric>()
  private readonly collectors: Collector[] = []
  /**
   * A scrape's collectors are between two of their yields. A consumer of slices() must take every
   * empty slice up to the first text (MetricsServer does), or the next scrape waits forever.
   */
  private collecting = false

  private add<M extends AnyMetric>(m: M): M {
    if (this.metrics.has(m.name)) throw new RangeError(`metric ${m.name} registered twice`)
    this.metrics.set(m.name, m)
    return m
  }

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(new Counter(name, help, labelNames))
  }

  gauge(name: string, help: string, labelNames: readonly string[] = []): Gauge {
    return this.add(new Gauge(name, help, labelNames))
  }

  histogram(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, labelNames, buckets))
  }

  /**
   * Runs before every render, to copy in values kept elsewhere. A collector of thousands of series
   * is a generator: each of its yields is a point where the scrape may let the event loop go.
   */
  onCollect(fn: Collector): void {
    this.collectors.push(fn)
  }

  /** The exposition: collectors run first; a throwing collector fails the scrape (no half-true page). */
  render(): string {
    // synchronous: it would wait forever for a scrape's collection that needs the event loop to end
    if (this.collecting) throw new Error('render() while a scrape is collecting: use slices()')
    let out = ''
    for (const piece of this.slices()) out += piece
    return out
  }

  /**
   * The exposition in slices of about `sliceBytes` characters, for a server that yields to the event
   * loop between them (10,000 real servers are tens of MB of text). The collectors run first, and
   * each yield of a generator collector is an empty slice: a turn for the event loop, with nothing
   * to send yet. So a server that sends nothing before the first non-empty slice still fails a
   * scrape whose collector throws before anything is sent. The values are read as each slice is
   * made: an event between two slices may show in the later one, as it would in a scrape a moment
   * later.
   */
  *slices(sliceBytes = 256 * 1024): Generator<string> {
    // one collection at a time: another's reset() halfway through this one would leave each
    // collection with only part of the series set in its generation
    while (this.collecting) yield ''
    this.collecting = true
    try {
      for (const c of this.collectors) {
        const parts = c()
        if (parts) for (const _ of parts) yield ''
      }
      for (const family of this.metrics.values()) family.settle()
    } finally {
      this.collecting = false
    }
    for (const family of this.metrics.values()) yield* family.pieces(sliceBytes)
  }
}

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'
