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
