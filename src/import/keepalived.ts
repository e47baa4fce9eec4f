// `lvsd import keepalived`: keepalived.conf (with its includes) → lvsd.yaml text, the errors that stop
// the conversion (file:line:col) and the notes on what lvsd cannot carry over (file:line: keyword: why).
import { basename, dirname, relative } from 'node:path'
import { loadConfigText } from '../config/load.js'
import { Conv } from './kc-context.js'
import { convert } from './kc-convert.js'
import { parse } from './kc-parse.js'
import { readKeepalived } from './kc-source.js'
import type { KcIssue, Loc, SourceFs } from './kc-types.js'
import { emitYaml } from './yaml-out.js'

export interface ImportResult {
  /** 0 converted cleanly, 1 converted with notes, 2 not converted (errors). */
  status: 0 | 1 | 2
  yaml?: string
  errors: string[]
  notes: string[]
  /** The converted document (for --pair comparison). */
  doc?: Record<string, unknown>
}

export interface KeepalivedOptions {
  configId: string
  fs: SourceFs
}

export function formatError(i: KcIssue): string {
  return `${i.loc.file}:${i.loc.line}:${i.loc.col}: ${i.message}`
}

export function formatNote(i: KcIssue): string {
  return `${i.loc.file}:${i.loc.line}: ${i.message}`
}

function byPosition(a: KcIssue, b: KcIssue): number {
  return a.loc.file.localeCompare(b.loc.file) || a.loc.line - b.loc.line || a.loc.col - b.loc.col
}

export function importKeepalived(path: string, opts: KeepalivedOptions): ImportResult {
  const base = dirname(path)
  const display = (f: string) => {
    const r = relative(base, f)
    return f === path ? basename(path) : r.startsWith('..') ? f : r
  }
  const src = readKeepalived(path, opts)
  const c = new Conv(display)
  const relocate = (i: KcIssue): KcIssue => ({ ...i, loc: { ...i.loc, file: display(i.loc.file) } })
  const parseErrors: KcIssue[] = []
  const tree = parse(src.lines, parseErrors)
  const { doc, node } = convert(c, tree)
  const errors = [...src.errors, ...parseErrors].map(relocate).concat(c.errors).sort(byPosition)
  const notes = [...src.notes.map(relocate), ...c.notes].sort(byPosition)
  if (errors.length > 0) return { status: 2, errors: errors.map(formatError), notes: notes.map(formatNote) }
  if (!doc.vrrp && !doc.virtual_services)
    return { status: 2, errors: [`${basename(path)}:1:1: no vrrp_instance and no virtual_server to import`], notes: [] }
  const header = [
    `Imported by \`lvsd import keepalived\` from ${basename(path)} (config-id ${opts.configId}).`,
    'Each block names its keepalived.conf source; NOTE lines are what lvsd could not carry over.',
  ]
  if (node === undefined)
    notes.push({
      loc: { file: basename(path), line: 1, col: 1 },
      message: 'router_id: not set; node: lvsd (set node to this director’s name)',
    })
  const footer = notes.length === 0 ? [] : ['Not carried over (file:line: keyword: why):', ...notes.map(formatNote)]
  const yaml = emitYaml(doc, c.ann, header, footer)
  // lvsd's own checks (duplicate VRIDs or services, families, programs on disk, …) on the result,
  // each placed at the keepalived block it came from: the import never hands over a refused file.
  const loaded = loadConfigText(yaml, 'lvsd.yaml')
  if (!loaded.ok) {
    const placed = loaded.errors.map((i) => ({
      loc: sourceOf(doc, i.path, c.srcs) ?? { file: basename(path), line: 1, col: 1 },
      message: `${i.path}: ${i.message.replace(/ \((first )?at line \d+\)| \(line \d+\)/g, '')}`,
    }))
    return { status: 2, errors: [...new Set(placed.sort(byPosition).map(formatError))], notes: notes.map(formatNote) }
  }
  return { status: notes.length > 0 ? 1 : 0, yaml, errors: [], notes: notes.map(formatNote), doc }
}

/** The source of the deepest block on an lvsd path such as `vrrp.instances[1].vips[0]`. */
function sourceOf(doc: Record<string, unknown>, path: string, srcs: WeakMap<object, Loc>): Loc | undefined {
  let cur: unknown = doc
  let found: Loc | undefined
  for (const part of path.split(/\.|(?=\[)/)) {
    const idx = /^\[(\d+)\]$/.exec(part)
    cur = cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[idx ? Number(idx[1]) : part] : undefined
    if (cur && typeof cur === 'object') found = srcs.get(cur) ?? found
  }
  return found
}
