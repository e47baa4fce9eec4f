// Hostile input: corpus files mutated at random (deleted characters, stray braces, quotes, '$', '@',
// ~SEQ(, look-alike spaces, huge numbers, swapped and truncated lines). The importer never throws;
// a refusal is errors with file:line:col; an accepted file always loads with lvsd check's code.
import { join } from 'node:path'
import test from 'ava'
import { diskFs } from '../../src/cli/import.js'
import { formatIssue, loadConfigText } from '../../src/config/load.js'
import type { SourceFs } from '../../src/import/kc-types.js'
import { importKeepalived } from '../../src/import/keepalived.js'
import { configId, corpusCases, corpusDir } from '../helpers/import-corpus.js'
import { prng } from '../helpers/prng.js'

const TOKENS = [
  '{',
  '}',
  '"',
  "'",
  '$X',
  '${',
  '$X=1',
  '@',
  '@^',
  '~SEQ(',
  '~LST(',
  '\\',
  '#',
  '!',
  '\u00a0',
  '\n',
  '0',
  '-1',
  '999999999999',
  '0.001',
  'include *',
  'include ../*',
  '\r',
  ' ',
  'weight',
  'real_server 10.0.0.1 80 {',
  'fwmark',
]

function mutate(text: string, r: () => number): string {
  let s = text
  const n = 1 + Math.floor(r() * 4)
  for (let i = 0; i < n; i++) {
    const at = Math.floor(r() * (s.length + 1))
    const op = Math.floor(r() * 6)
    if (op === 0) s = s.slice(0, at) + s.slice(at + 1)
    else if (op <= 2) s = s.slice(0, at) + TOKENS[Math.floor(r() * TOKENS.length)] + s.slice(at)
    else if (op === 3) s = s.slice(0, at)
    else {
      const lines = s.split('\n')
      const a = Math.floor(r() * lines.length)
      const b = Math.floor(r() * lines.length)
      if (op === 4) [lines[a], lines[b]] = [lines[b] as string, lines[a] as string]
      else lines.splice(a, 0, lines[b] as string)
      s = lines.join('\n')
    }
  }
  return s
}

test('2,000 random mutations of the corpus: never a throw, refusals positioned, acceptances loadable', (t) => {
  t.timeout(120_000)
  const r = prng(16)
  const cases = corpusCases()
  const bad: string[] = []
  let refused = 0
  for (let i = 0; i < 2000; i++) {
    const c = cases[i % cases.length] as string
    const main = join(corpusDir, c, 'keepalived.conf')
    const text = mutate(diskFs.read(main) ?? '', r)
    const fs: SourceFs = { read: (p) => (p === main ? text : diskFs.read(p)), list: diskFs.list }
    let res: ReturnType<typeof importKeepalived>
    try {
      res = importKeepalived(main, { configId: configId(c), fs })
    } catch (e) {
      bad.push(`${c} #${i}: threw ${(e as Error).stack}\n${text}`)
      continue
    }
    if (res.status === 2) {
      refused++
      for (const e of res.errors)
        if (!/^[^:]+:\d+:\d+: \S/.test(e)) bad.push(`${c} #${i}: error without position: ${e}`)
      continue
    }
    const loaded = loadConfigText(res.yaml as string, 'converted.yaml')
    if (!loaded.ok)
      bad.push(`${c} #${i}: accepted but lvsd check refuses it: ${loaded.errors.map(formatIssue).join('; ')}\n${text}`)
  }
  t.deepEqual(bad.slice(0, 5), [])
  t.true(refused > 200, `only ${refused} of the mutated files were refused`)
})
