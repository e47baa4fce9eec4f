// The Prometheus text exposition of the registry: HELP/TYPE lines, label escaping, cumulative
// histogram buckets, value spelling, and the checks that keep names and counters valid.
import test from 'ava'
import { escapeLabel, formatValue, Registry } from '../../src/api/metrics-registry.js'
import { parseExposition, sampleValue } from '../helpers/exposition-parse.js'

test('a counter renders HELP, TYPE and one line per label set', (t) => {
  const r = new Registry()
  const c = r.counter('x_total', 'Things.\nAnd a \\ backslash.', ['kind'])
  c.inc({ kind: 'a' })
  c.inc({ kind: 'a' }, 2)
  c.inc({ kind: 'b' })
  t.is(
    r.render(),
    '# HELP x_total Things.\\nAnd a \\\\ backslash.\n# TYPE x_total counter\nx_total{kind="a"} 3\nx_total{kind="b"} 1\n',
  )
})

test('label values escape backslash, double quote and newline, and parse back unchanged', (t) => {
  const nasty = 'a\\b"c\nd'
  t.is(escapeLabel(nasty), 'a\\\\b\\"c\\nd')
  const r = new Registry()
  r.gauge('g', 'G.', ['v']).set({ v: nasty }, 1)
  t.is(sampleValue(parseExposition(r.render()), 'g', { v: nasty }), 1)
})

test('a histogram renders cumulative buckets, +Inf, _sum and _count', (t) => {
  const r = new Registry()
  const h = r.histogram('lat_seconds', 'Latency.', ['s'], [0.5, 0.1, 1])
  for (const v of [0.05, 0.1, 0.3, 2]) h.observe({ s: 'x' }, v)
  const f = parseExposition(r.render())
  const le = (b: string) => sampleValue(f, 'lat_seconds_bucket', { s: 'x', le: b })
  t.deepEqual([le('0.1'), le('0.5'), le('1'), le('+Inf')], [2, 3, 3, 4])
  t.is(sampleValue(f, 'lat_seconds_sum', { s: 'x' }), 2.45)
  t.is(sampleValue(f, 'lat_seconds_count', { s: 'x' }), 4)
})

test('values are spelled as Prometheus reads them', (t) => {
  t.deepEqual([1, 0.25, 1e21, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN].map(formatValue), [
    '1',
    '0.25',
    '1e+21',
    '+Inf',
    '-Inf',
    'NaN',
  ])
})

test('a metric without samples still has its HELP and TYPE; reset drops every series', (t) => {
  const r = new Registry()
  const g = r.gauge('g', 'G.', ['a'])
  g.set({ a: '1' }, 5)
  g.reset()
  t.is(r.render(), '# HELP g G.\n# TYPE g gauge\n')
})

test('collectors run before each render', (t) => {
  const r = new Registry()
  const g = r.gauge('g', 'G.')
  let n = 0
  r.onCollect(() => g.set({}, ++n))
  t.is(sampleValue(parseExposition(r.render()), 'g'), 1)
  t.is(sampleValue(parseExposition(r.render()), 'g'), 2)
})

test('invalid names, reserved labels, missing labels, duplicates and decreasing counters are refused', (t) => {
  const r = new Registry()
  t.throws(() => r.counter('1bad', 'x'), { instanceOf: RangeError })
  t.throws(() => r.counter('ok', 'x', ['__reserved']), { instanceOf: RangeError })
  t.throws(() => r.histogram('h', 'x', ['le'], [1]), { instanceOf: RangeError })
  t.throws(() => r.histogram('h2', 'x', [], [1, 1]), { instanceOf: RangeError })
  const c = r.counter('c_total', 'x', ['a'])
  t.throws(() => r.counter('c_total', 'x'), { instanceOf: RangeError })
  t.throws(() => c.inc({}), { instanceOf: RangeError })
  t.throws(() => c.inc({ a: '1' }, -1), { instanceOf: RangeError })
})

test('the parser refuses a sample before its TYPE and a page without the final newline', (t) => {
  t.throws(() => parseExposition('x 1\n'), { instanceOf: SyntaxError })
  t.throws(() => parseExposition('# HELP x X.\n# TYPE x gauge\nx 1'), { instanceOf: SyntaxError })
  t.throws(() => parseExposition('# HELP x X.\n# TYPE x gauge\nx{a="1} 1\n'), { instanceOf: SyntaxError })
})
