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

function labelText(names: readonly string[], values: readonly string[], extra = ''): string {
  const parts = names.map((n, i) => `${n}="${escapeLabel(values[i] ?? '')}"`)
  if (extra) parts.push(extra)
  return parts.length ? `{${parts.join(',')}}` : ''
}

abstract class Metric<S> {
  protected readonly series = new Map<string, { values: string[]; state: S }>()
  abstract readonly type: MetricType

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

  protected entry(labels: Labels, init: () => S): { values: string[]; state: S } {
    const values = this.labelNames.map((n) => {
      const v = labels[n]
      if (v === undefined) throw new RangeError(`${this.name}: label ${n} missing`)
      return v
    })
    const key = JSON.stringify(values)
    let e = this.series.get(key)
    if (!e) {
      e = { values, state: init() }
      this.series.set(key, e)
    }
    return e
  }

  /** Forgets every series (collector-fed metrics are rebuilt on each scrape, so gone servers vanish). */
  reset(): void {
    this.series.clear()
  }

  protected abstract lines(values: string[], state: S): string[]

  render(): string {
    const out = [`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`]
    for (const { values, state } of this.series.values()) out.push(...this.lines(values, state))
    return out.join('\n')
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
    return this.series.get(JSON.stringify(this.labelNames.map((n) => labels[n])))?.state.v ?? 0
  }

  protected lines(values: string[], s: { v: number }): string[] {
    return [`${this.name}${labelText(this.labelNames, values)} ${formatValue(s.v)}`]
  }
}

export class Gauge extends Metric<{ v: number }> {
  readonly type = 'gauge'

  set(labels: Labels, v: number): void {
    this.entry(labels, () => ({ v: 0 })).state.v = v
  }

  protected lines(values: string[], s: { v: number }): string[] {
    return [`${this.name}${labelText(this.labelNames, values)} ${formatValue(s.v)}`]
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

  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]) {
    super(name, help, labelNames)
    const sorted = [...buckets].sort((a, b) => a - b)
    if (sorted.some((b, i) => i > 0 && b === sorted[i - 1]) || sorted.some((b) => !Number.isFinite(b))) {
      throw new RangeError(`${name}: buckets must be distinct finite numbers`)
    }
    this.buckets = sorted
  }

  observe(labels: Labels, v: number): void {
    const s = this.entry(labels, () => ({ counts: this.buckets.map(() => 0), sum: 0, count: 0 })).state
    const i = this.buckets.findIndex((b) => v <= b)
    if (i >= 0) s.counts[i] = (s.counts[i] ?? 0) + 1
    s.sum += v
    s.count++
  }

  protected lines(values: string[], s: HistState): string[] {
    const out: string[] = []
    let cum = 0
    this.buckets.forEach((b, i) => {
      cum += s.counts[i] ?? 0
      out.push(`${this.name}_bucket${labelText(this.labelNames, values, `le="${formatValue(b)}"`)} ${cum}`)
    })
    out.push(`${this.name}_bucket${labelText(this.labelNames, values, 'le="+Inf"')} ${s.count}`)
    out.push(`${this.name}_sum${labelText(this.labelNames, values)} ${formatValue(s.sum)}`)
    out.push(`${this.name}_count${labelText(this.labelNames, values)} ${s.count}`)
    return out
  }
}

type AnyMetric = Counter | Gauge | Histogram

export class Registry {
  private readonly metrics = new Map<string, AnyMetric>()
  private readonly collectors: (() => void)[] = []

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

  /** Runs before every render, to copy in values kept elsewhere. */
  onCollect(fn: () => void): void {
    this.collectors.push(fn)
  }

  /** The exposition: collectors run first; a throwing collector fails the scrape (no half-true page). */
  render(): string {
    for (const c of this.collectors) c()
    return `${[...this.metrics.values()].map((m) => m.render()).join('\n')}\n`
  }
}

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'
