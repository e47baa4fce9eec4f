// Entry point of the config layer: YAML text or file → a typed, defaults-applied Config, or every
// problem of the file as `file:line:col path: message`, sorted by position.
import { readFile, stat } from 'node:fs/promises'
import { isMap, LineCounter, parseDocument, type YAMLMap, type Node as YNode } from 'yaml'
import { LvsdError } from '../errors.js'
import { programDistrust } from '../sys/program-trust.js'
import { checkExposure } from './check-exposure.js'
import { checkIpvs, checkServices } from './check-services.js'
import { checkUser, checkVrrp } from './check-vrrp.js'
import { resolveConfig } from './resolve.js'
import { configSchema } from './schema.js'
import type { ConfigIssue, LoadResult, RawConfig } from './types.js'
import { Ctx, describeNode, type Issue } from './walk.js'

export { summarize } from './summarize.js'
export type { Config, ConfigIssue, LoadResult } from './types.js'

export function formatIssue(i: ConfigIssue): string {
  return `${i.file}:${i.line}:${i.col} ${i.path || '(document)'}: ${i.message}`
}

function toIssues(file: string, list: Issue[]): ConfigIssue[] {
  const sorted = [...list].sort(
    (a, b) => a.offset - b.offset || a.path.localeCompare(b.path) || a.message.localeCompare(b.message),
  )
  const out: ConfigIssue[] = []
  for (const i of sorted) {
    const prev = out[out.length - 1]
    if (prev && prev.line === i.line && prev.col === i.col && prev.path === i.path && prev.message === i.message)
      continue
    out.push({ file, line: i.line, col: i.col, path: i.path, message: i.message })
  }
  return out
}

/** The first line of a yaml library message, without its " at line N, column M:" tail. */
function yamlMessage(m: string): string {
  return (m.split('\n')[0] ?? m).replace(/ at line \d+, column \d+:?$/, '')
}

/** `fileMode`: the file's permission bits, for the warning about a password others can read. */
export function loadConfigText(text: string, file: string, fileMode?: number): LoadResult {
  const lc = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: false, prettyErrors: true, strict: true })
  const ctx = new Ctx(doc, text, lc)
  const problems = [...doc.errors, ...doc.warnings]
  if (problems.length > 0) {
    for (const e of problems) ctx.reportAt(e.pos[0], '(syntax)', yamlMessage(e.message))
    return { ok: false, errors: toIssues(file, ctx.issues) }
  }
  const root = doc.contents
  if (!isMap(root)) {
    ctx.report(root, '', `must be a mapping of lvsd settings, not ${describeNode(root, ctx)}`)
    return { ok: false, errors: toIssues(file, ctx.issues) }
  }
  // Sections that parsed get their semantic checks even when others did not, so one run reports
  // everything; a check that refers into an invalid section or list is skipped, not guessed at.
  const { ok, out } = configSchema.parsePartial(root as YAMLMap<YNode, YNode | null>, ctx, '')
  if (out.vrrp) checkVrrp(ctx, out.vrrp)
  if (out.virtual_services) checkServices(ctx, out.virtual_services, out.vrrp)
  if (out.ipvs) checkIpvs(ctx, out.ipvs, out.virtual_services, out.vrrp)
  if (out.programs) checkUser(ctx, out.programs, out.programs.user)
  checkExposure(ctx, out, fileMode)
  if (!ok || ctx.issues.length > 0) return { ok: false, errors: toIssues(file, ctx.issues) }
  return { ok: true, config: resolveConfig(out as RawConfig), warnings: toIssues(file, ctx.warnings) }
}

/**
 * Refuses a configuration file that someone other than root (or lvsd's user) could change, or that
 * sits in a directory they could change: it names the programs lvsd runs and what it does as root.
 * Its error comes first, at 1:1, with the file's other errors after it.
 */
export function checkConfigFile(path: string, r: LoadResult): LoadResult {
  const why = programDistrust(path)
  if (!why) return r
  const issue: ConfigIssue = {
    file: path,
    line: 1,
    col: 1,
    path: '',
    message: `${why}: whoever can change the configuration controls lvsd (chown root, chmod go-w)`,
  }
  return { ok: false, errors: [issue, ...(r.ok ? [] : r.errors)] }
}

export async function loadConfigFile(path: string): Promise<LoadResult> {
  let text: string
  let mode: number
  try {
    text = await readFile(path, 'utf8')
    mode = (await stat(path)).mode
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    throw new LvsdError(
      'LVSD_CONFIG_UNREADABLE',
      `cannot read ${path}: ${err.code ?? err.message}`,
      { path, errno: err.code },
      { cause: e },
    )
  }
  return checkConfigFile(path, loadConfigText(text, path, mode))
}
