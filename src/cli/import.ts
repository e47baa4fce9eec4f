// `lvsd import keepalived|ipvsadm|--pair`: the file-system edge of src/import. The produced YAML is
// loaded by the same code as `lvsd check` before it is written: an import never hands over a file
// lvsd would refuse. Exit status 0 converted cleanly, 1 converted with notes, 2 not converted.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { formatIssue, loadConfigText } from '../config/load.js'
import { importIpvsadm } from '../import/ipvsadm.js'
import type { SourceFs } from '../import/kc-types.js'
import { type ImportResult, importKeepalived } from '../import/keepalived.js'
import { comparePair } from '../import/pair.js'
import { EXIT } from './exit-codes.js'

export const IMPORT_HELP = `Usage:
  lvsd import keepalived FILE [--instance ID] [-o OUT.yaml]
  lvsd import ipvsadm [FILE|-] [-o OUT.yaml]
  lvsd import --pair FILE_A FILE_B [--instance-a ID] [--instance-b ID] [-o DIR]

keepalived: reads keepalived.conf as keepalived 2.2 does (includes, $definitions,
@ID conditional lines resolved against --instance like keepalived -i; default:
the host name up to the first dot). ipvsadm: reads ipvsadm -Sn (or -Ln) output
and the ipvsadm -L --timeout line. --pair: converts both directors' files and
reports differences beyond priority, state and unicast addresses.

What lvsd cannot carry over is listed as file:line: keyword: why (and as comments
in the output). Exit status: 0 converted cleanly, 1 converted with notes,
2 not converted (errors as file:line:col), 64 bad command line.
`

export const diskFs: SourceFs = {
  read(path) {
    try {
      return readFileSync(path, 'utf8')
    } catch {
      return undefined
    }
  },
  list(dir) {
    try {
      return readdirSync(dir)
    } catch {
      return []
    }
  },
}

function defaultConfigId(): string {
  return hostname().split('.')[0] ?? ''
}

/** The YAML through lvsd's own loader: an importer bug becomes errors, never a file lvsd refuses. */
function verified(
  r: ImportResult | { status: number; yaml?: string; errors: string[]; notes: string[] },
  label: string,
) {
  if (r.yaml === undefined) return r
  const loaded = loadConfigText(r.yaml, label)
  if (loaded.ok) return r
  return { ...r, status: 2 as const, yaml: undefined, errors: loaded.errors.map((i) => `converted ${formatIssue(i)}`) }
}

function report(r: { status: number; errors: string[]; notes: string[] }, file: string): void {
  for (const e of r.errors) process.stderr.write(`${e}\n`)
  if (r.notes.length > 0) {
    process.stderr.write(`${file}: not carried over:\n`)
    for (const n of r.notes) process.stderr.write(`  ${n}\n`)
  }
  const what = r.status === 2 ? 'not converted' : r.status === 1 ? 'converted with notes' : 'converted'
  process.stderr.write(
    `${file}: ${what}${r.errors.length ? ` (${r.errors.length} error${r.errors.length === 1 ? '' : 's'})` : ''}\n`,
  )
}

function write(yaml: string, out: string | undefined): void {
  if (out === undefined) process.stdout.write(yaml)
  else writeFileSync(out, yaml)
}

export async function importCommand(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseImport>
  try {
    parsed = parseImport(argv)
  } catch (e) {
    process.stderr.write(`lvsd import: ${(e as Error).message}\n\n${IMPORT_HELP}`)
    return EXIT.usage
  }
  const { values: v, positionals: p } = parsed
  if (v.help) {
    process.stdout.write(IMPORT_HELP)
    return EXIT.ok
  }
  if (v.pair) return pair(p, v)
  const [kind, ...files] = p
  if (kind === 'keepalived') {
    if (files.length !== 1) return usage('import keepalived expects one FILE')
    const file = files[0] as string
    const r = verified(
      importKeepalived(resolve(file), { configId: v.instance ?? defaultConfigId(), fs: diskFs }),
      v.output ?? 'lvsd.yaml',
    )
    report(r, file)
    if (r.yaml !== undefined) write(r.yaml, v.output)
    return r.status
  }
  if (kind === 'ipvsadm') {
    if (files.length > 1) return usage('import ipvsadm expects at most one FILE')
    const file = files[0] ?? '-'
    let text: string
    try {
      text = readFileSync(file === '-' ? 0 : file, 'utf8')
    } catch (e) {
      process.stderr.write(`lvsd import: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? e}\n`)
      return 2
    }
    const r = verified(importIpvsadm(text, file === '-' ? '(stdin)' : file), v.output ?? 'lvsd.yaml')
    report(r, file === '-' ? '(stdin)' : file)
    if (r.yaml !== undefined) write(r.yaml, v.output)
    return r.status
  }
  return usage(kind === undefined ? 'what to import: keepalived or ipvsadm' : `unknown source ${JSON.stringify(kind)}`)
}

function usage(msg: string): number {
  process.stderr.write(`lvsd import: ${msg}\n\n${IMPORT_HELP}`)
  return EXIT.usage
}

function pair(p: string[], v: ReturnType<typeof parseImport>['values']): number {
  const files = p[0] === 'keepalived' ? p.slice(1) : p
  if (files.length !== 2) return usage('--pair expects two keepalived.conf files')
  const ids = [v['instance-a'] ?? v.instance ?? defaultConfigId(), v['instance-b'] ?? v.instance ?? defaultConfigId()]
  const results = files.map((f, i) =>
    verified(importKeepalived(resolve(f), { configId: ids[i] as string, fs: diskFs }), `${f}.yaml`),
  )
  for (const [i, r] of results.entries()) report(r, files[i] as string)
  if (results.some((r) => r.status === 2 || !('doc' in r) || !r.doc)) return 2
  const [a, b] = results as [ImportResult, ImportResult]
  const diffs = comparePair(a.doc as Record<string, unknown>, b.doc as Record<string, unknown>)
  for (const d of diffs) process.stderr.write(`pair: ${d}\n`)
  const dir = v.output ?? '.'
  const names = [String(a.doc?.node), String(b.doc?.node)]
  if (names[0] === names[1]) names[1] = `${names[1]}-b`
  results.forEach((r, i) => {
    const out = join(dir, `${names[i]}.yaml`)
    writeFileSync(out, r.yaml as string)
    process.stderr.write(`wrote ${out}\n`)
  })
  process.stderr.write(
    `pair: ${diffs.length === 0 ? 'the two files differ only where a pair should' : `${diffs.length} difference${diffs.length === 1 ? '' : 's'} beyond what a pair should have`}\n`,
  )
  return diffs.length > 0 || results.some((r) => r.status === 1) ? 1 : 0
}

function parseImport(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      output: { type: 'string', short: 'o' },
      instance: { type: 'string', short: 'i' },
      'instance-a': { type: 'string' },
      'instance-b': { type: 'string' },
      pair: { type: 'boolean' },
    },
  })
}
