// The bad-config corpus: each test/configs/bad/NN-name.yaml must fail with exactly the lines of its
// NN-name.expected, positions included, so any drift in a message or a line:col is a failure.
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import test from 'ava'
import { formatIssue, loadConfigText } from '../../src/config/load.js'

const dir = fileURLToPath(new URL('../../../test/configs/bad/', import.meta.url))
const names = readdirSync(dir)
const yamls = names.filter((n) => n.endsWith('.yaml')).sort()

test('the corpus has at least 35 broken configs, each with an expected output', (t) => {
  t.true(yamls.length >= 35, `only ${yamls.length} files`)
  for (const y of yamls) t.true(/^\d\d-[a-z0-9-]+\.yaml$/.test(y), `${y} is not named NN-name.yaml`)
  const expected = names.filter((n) => n.endsWith('.expected')).map((n) => n.replace(/\.expected$/, '.yaml'))
  t.deepEqual(expected.sort(), yamls)
})

for (const y of yamls) {
  test(`${y} is rejected with exactly the expected errors`, (t) => {
    const text = readFileSync(dir + y, 'utf8')
    const want = readFileSync(dir + y.replace(/\.yaml$/, '.expected'), 'utf8')
    const r = loadConfigText(text, y)
    if (r.ok) return t.fail(`accepted; warnings: ${r.warnings.map(formatIssue).join('; ')}`)
    t.true(want.trim().length > 0, 'expected file is empty')
    t.is(`${r.errors.map(formatIssue).join('\n')}\n`, want)
  })
}

test('errors come sorted by position, every line in the file:line:col path: message shape', (t) => {
  for (const y of yamls) {
    const r = loadConfigText(readFileSync(dir + y, 'utf8'), y)
    if (r.ok) return t.fail(`${y} accepted`)
    const pos = r.errors.map((e) => e.line * 10_000 + e.col)
    t.deepEqual(
      pos,
      [...pos].sort((a, b) => a - b),
      y,
    )
    for (const e of r.errors) t.regex(formatIssue(e), /^\d\d-[a-z0-9-]+\.yaml:\d+:\d+ \S+: \S/)
  }
})
