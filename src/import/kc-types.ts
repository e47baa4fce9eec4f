// Shared shapes of the keepalived importer: source positions, issues, the parsed statement tree.

export interface Loc {
  file: string
  line: number
  col: number
}

/** A problem (error) or a thing lvsd cannot carry over (note), at its place in the source. */
export interface KcIssue {
  loc: Loc
  message: string
}

/** What the reader needs from the file system (injected so the reader stays pure and testable). */
export interface SourceFs {
  /** The file's text, or undefined when it cannot be read. */
  read(path: string): string | undefined
  /** Names in a directory (not sorted), or [] when it cannot be listed. */
  list(dir: string): string[]
}

export interface Word {
  text: string
  loc: Loc
}

/** `keyword args… [{ statements }]`. */
export interface Stmt {
  key: Word
  args: Word[]
  block?: Stmt[]
}

// The converters' output: plain objects in the shape of lvsd.yaml.
export type Obj = Record<string, unknown>

export interface TrackFile {
  path?: string
  weight?: number
}

export interface KcVrrpState {
  scripts: Obj[]
  instances: Obj[]
  syncGroups: Obj[]
  trackFiles: Map<string, TrackFile>
  /** Instance name → its address family (for checks) and VIP addresses (for `follow`). */
  vipsOf: Map<string, string[]>
  scriptUser?: string
  version?: number
  /** keepalived 1.x's per-instance `lvs_sync_daemon_interface IF`: the sync daemon follows that instance. */
  legacySync?: { interface: string; follow: string; at: Word }
}
