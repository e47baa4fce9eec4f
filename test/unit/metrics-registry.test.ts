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

test('slices: together the same page as render, each about the size asked, collectors run once a page', (t) => {
  const r = new Registry()
  const g = r.gauge('g', 'G.', ['service', 'server'])
  const h = r.histogram('h_seconds', 'H.', ['service'], [0.1, 1])
  let collected = 0
  r.onCollect(() => {
    collected++
    g.reset()
    for (let i = 0; i < 2000; i++) g.set({ service: `s${i % 7}`, server: `10.0.0.${i}:80` }, i)
  })
  h.observe({ service: 's1' }, 0.5)
  const page = r.render()
  const pieces = [...r.slices(4096)]
  t.is(collected, 2)
  t.is(pieces.join(''), page)
  t.true(pieces.length > 10, `${pieces.length} pieces`)
  for (const p of pieces.slice(0, -1)) t.true(p.length < 4096 + 200, `a piece of ${p.length}`)
  t.is(sampleValue(parseExposition(page), 'g', { service: 's4', server: '10.0.0.1999:80' }), 1999)
})

test('a reset metric keeps the series set again and drops the others, in any label order', (t) => {
  const r = new Registry()
  const g = r.gauge('g', 'G.', ['a', 'b'])
  g.set({ a: '1', b: 'x' }, 1)
  g.set({ b: 'y', a: '1' }, 2)
  g.set({ a: '2', b: 'x' }, 3)
  g.reset()
  g.set({ b: 'y', a: '1' }, 5)
  t.is(r.render(), '# HELP g G.\n# TYPE g gauge\ng{a="1",b="y"} 5\n')
  g.set({ a: '1', b: 'x' }, 6)
  t.is(
    r.render(),
    '# HELP g G.\n# TYPE g gauge\ng{a="1",b="y"} 5\ng{a="1",b="x"} 6\n',
    'a dropped series comes back when set',
  )
  const c = r.counter('c_total', 'C.', ['a', 'b'])
  c.inc({ a: '1', b: 'x' }, 2)
  t.is(c.get({ b: 'x', a: '1' }), 2)
  t.is(c.get({ a: '1' }), 0, 'a missing label finds nothing')
})

test('a generator collector: each yield is an empty slice before any text, and the page is render’s', (t) => {
  const r = new Registry()
  const g = r.gauge('g', 'G.', ['i'])
  r.onCollect(function* () {
    g.reset()
    for (let i = 0; i < 6; i++) {
      g.set({ i: String(i) }, i)
      if (i % 2 === 1) yield
    }
  })
  const pieces = [...r.slices()]
  t.deepEqual(pieces.slice(0, 3), ['', '', ''])
  t.true(pieces.slice(3).every((p) => p !== ''))
  t.is(pieces.join(''), r.render())
  t.is(sampleValue(parseExposition(r.render()), 'g', { i: '5' }), 5)
})

test('two scrapes at once: the second collects after the first, and a page shows every series of the last finished collection', (t) => {
  const r = new Registry()
  const g = r.gauge('g', 'G.', ['i'])
  let round = 0
  r.onCollect(function* () {
    round++
    g.reset()
    for (let i = 0; i < 4; i++) {
      g.set({ i: String(i) }, round)
      yield
    }
  })
  const a = r.slices()
  const b = r.slices()
  for (let k = 0; k < 4; k++) t.is(a.next().value, '', 'a collects')
  t.is(b.next().value, '', 'b waits while a collects')
  t.is(round, 1, 'b has not started its collection')
  // a's collection ends at its next step, its page begins; b then starts and stops halfway
  const aFirst = a.next()
  t.false(aFirst.done)
  for (let k = 0; k < 3; k++) t.is(b.next().value, '')
  t.is(round, 2)
  const aPage = (aFirst.value as string) + [...a].join('')
  const samples = parseExposition(aPage)
  for (let i = 0; i < 4; i++)
    t.not(sampleValue(samples, 'g', { i: String(i) }), undefined, `series ${i} kept while b is half done`)
  t.throws(() => r.render(), { message: /while a scrape is collecting/ })
  const bPage = [...b].join('')
  t.is(sampleValue(parseExposition(bPage), 'g', { i: '3' }), 2)
  t.is(sampleValue(parseExposition(r.render()), 'g', { i: '0' }), 3)
})
