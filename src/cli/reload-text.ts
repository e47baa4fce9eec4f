// What lvsctl prints for a reload, shared with the drill, which reloads through the API with curl on
// TCG directors (a Node start there delayed forwarding) and must print what an operator would see.

import { formatIssue } from '../config/load.js'

export type ReloadChanges = Record<'added' | 'removed' | 'changed', readonly unknown[]>
export type ReloadIssue = { path: string; message: string; line?: number; col?: number }

/** One line for an applied reload: the file, the start of its hash and how many objects changed. */
export function reloadedLine(config: { source?: string; hash?: string }, changes: ReloadChanges): string {
  const n = changes.added.length + changes.removed.length + changes.changed.length
  return `reloaded ${config.source} (sha256 ${config.hash?.slice(0, 12)}): ${n} change(s)`
}

/** A refused reload's lines after the first: every configuration error as `lvsd check` prints it (formatIssue). */
export function issueLines(issues: readonly ReloadIssue[], file: string | undefined): string[] {
  return issues.map((i) =>
    i.line && file
      ? `  ${formatIssue({ file, line: i.line, col: i.col ?? 0, path: i.path, message: i.message })}`
      : `  ${i.line ? `${i.line}:${i.col ?? 0} ` : ''}${i.path}: ${i.message}`,
  )
}
