// The keepalived.conf corpus (test/import/keepalived/NN-name/): each case's import must give exactly
// its expected.txt (status, then the errors or the notes) and expected.yaml, and every produced YAML
// must load with the code `lvsd check` uses. LVSD_UPDATE_GOLDEN=1 rewrites the goldens (review them!).
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { diskFs } from '../../src/cli/import.js'
import { formatIssue, loadConfigText } from '../../src/config/load.js'
import { importKeepalived } from '../../src/import/keepalived.js'
import { configId, corpusCases, corpusDir as dir } from '../helpers/import-corpus.js'

const cases = corpusCases()
const update = process.env.LVSD_UPDATE_GOLDEN === '1'

test('the corpus has at least 40 keepalived.conf cases, converted and refused ones', (t) => {
  t.true(cases.length >= 40, `only ${cases.length} cases`)
  const statuses = cases.map((c) => readFileSync(join(dir, c, 'expected.txt'), 'utf8').split('\n')[0])
  t.true(statuses.filter((s) => s === 'status 2').length >= 10, 'at least 10 refused files')
  t.true(statuses.filter((s) => s === 'status 0').length >= 10, 'at least 10 clean conversions')
  t.true(statuses.filter((s) => s === 'status 1').length >= 10, 'at least 10 conversions with notes')
})

for (const c of cases) {
  test(`${c}: import gives the expected status, messages and YAML, and lvsd check accepts it`, (t) => {
    const r = importKeepalived(join(dir, c, 'keepalived.conf'), { configId: configId(c), fs: diskFs })
    const txt = [`status ${r.status}`, ...(r.status === 2 ? r.errors : r.notes)].join('\n') + '\n'
    const yamlFile = join(dir, c, 'expected.yaml')
    if (update) {
      writeFileSync(join(dir, c, 'expected.txt'), txt)
      if (r.yaml !== undefined) writeFileSync(yamlFile, r.yaml)
    }
    t.is(txt, readFileSync(join(dir, c, 'expected.txt'), 'utf8'))
    if (r.status === 2) {
      t.is(r.yaml, undefined)
      t.false(existsSync(yamlFile), 'a refused file has no expected.yaml')
      for (const e of r.errors) t.regex(e, /^[^:]+:\d+:\d+: \S/)
      return
    }
    t.is(r.yaml, readFileSync(yamlFile, 'utf8'))
    const loaded = loadConfigText(r.yaml as string, `${c}/expected.yaml`)
    t.true(loaded.ok, loaded.ok ? '' : loaded.errors.map(formatIssue).join('\n'))
    t.is(r.status, r.notes.length > 0 ? 1 : 0)
    for (const n of r.notes) t.regex(n, /^[^:]+:\d+: [^:]+: \S/)
    // every note also stands in the output, so nothing is dropped silently
    for (const n of r.notes) t.true((r.yaml as string).includes(n), `note missing from the YAML: ${n}`)
  })
}
