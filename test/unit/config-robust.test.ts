// The loader on damaged and unusual input: mutated examples never throw, aliases resolve, and
// references into default-filled sections are still checked.
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import test from 'ava'
import { formatIssue, loadConfigText, summarize } from '../../src/config/load.js'
import { prng } from '../helpers/prng.js'

const conf = fileURLToPath(new URL('../../../conf/', import.meta.url))
const sources = readdirSync(conf)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => readFileSync(conf + f, 'utf8'))

function mutate(text: string, r: () => number): string {
  const lines = text.split('\n')
  const i = Math.floor(r() * lines.length)
  const j = Math.floor(r() * lines.length)
  switch (Math.floor(r() * 6)) {
    case 0:
      lines.splice(i, 1)
      break
    case 1:
      lines.splice(i, 0, lines[j] ?? '')
      break
    case 2:
      lines[i] = ` ${lines[i]}`
      break
    case 3: {
      const at = Math.floor(r() * text.length)
      return text.slice(0, at) + text.slice(at + 1 + Math.floor(r() * 8))
    }
    case 4:
      lines[i] = (lines[i] ?? '').replace(/\d+/, String(Math.floor(r() * 100000)))
      break
    default:
      lines[i] = (lines[i] ?? '').replace(/: .*/, ': [')
  }
  return lines.join('\n')
}

test('1000 seeded mutations of the examples give a config or issues, never an exception', (t) => {
  const r = prng(20261126)
  let rejected = 0
  for (let n = 0; n < 1000; n++) {
    const src = sources[n % sources.length]!
    let text = src
    for (let k = 0; k <= n % 3; k++) text = mutate(text, r)
    const res = loadConfigText(text, 'm.yaml')
    if (res.ok) t.notThrows(() => summarize(res.config))
    else {
      rejected++
      for (const e of res.errors) t.true(e.line >= 1 && e.col >= 1, formatIssue(e))
    }
  }
  t.true(rejected > 250, `only ${rejected} mutations were rejected`)
})

test('aliases are resolved, and an error inside one points at the alias', (t) => {
  const ok = loadConfigText(
    'node: n\nvirtual_services:\n  - { name: a, address: 10.0.0.3, port: 80, checks: &c [{ type: tcp, interval: 5s }] }\n  - { name: b, address: 10.0.0.3, port: 81, checks: *c }\n',
    'a.yaml',
  )
  if (!ok.ok) return t.fail(ok.errors.map(formatIssue).join('\n'))
  t.deepEqual(
    ok.config.virtual_services.map((s) => s.checks[0]!.interval),
    [5000, 5000],
  )
  const bad = loadConfigText('node: &n lb01\nlogging: { level: *n }\n', 'b.yaml')
  t.deepEqual(bad.ok ? [] : bad.errors.map(formatIssue), [
    'b.yaml:2:19 logging.level: must be one of trace, debug, info, warn, error, fatal',
  ])
})

test('a reference into an absent, default-filled section is still checked', (t) => {
  // no vrrp: section at all, so its defaults (no instances) are what follow is checked against
  const r = loadConfigText('node: n\nipvs:\n  sync: { interface: eth0, follow: web }\n', 'c.yaml')
  t.deepEqual(r.ok ? [] : r.errors.map(formatIssue), ["c.yaml:3:36 ipvs.sync.follow: unknown VRRP instance 'web'"])
})
