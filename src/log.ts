// pino loggers: JSON lines, human-readable lines (pino-pretty) on a terminal, or journald lines
// (sd-daemon "<N>" priority prefix, one readable line per record) when stderr is the journal.
import { fstatSync } from 'node:fs'
import { type Logger, type LoggerOptions, pino } from 'pino'
import type PinoPretty from 'pino-pretty'

export type { Logger }

export type LogFormat = 'json' | 'pretty' | 'journal' | 'auto'

export interface LogOptions {
  level?: string
  /**
   * 'json' always JSON, 'pretty' always human, 'journal' "<N>msg key=value" lines for journald,
   * 'auto' journal when stderr is connected to the journal (JOURNAL_STREAM), human on a TTY, else JSON.
   */
  format?: LogFormat
  destination?: NodeJS.WritableStream
  /** Fields on every line (e.g. { node: 'lb01' }). */
  base?: Record<string, unknown>
}

// pino-pretty (and the stream library under it) is loaded only when a human format is wanted: a
// daemon logging to journald never needs it, and loading it costs ~0.6 MiB of RSS.
let pretty: typeof PinoPretty | undefined

/**
 * systemd sets JOURNAL_STREAM=<dev>:<inode> when it connects stdout/stderr to the journal; a child
 * whose stderr was redirected elsewhere inherits the variable, so the inode is compared (sd-daemon(3)).
 */
export function stderrIsJournal(env: NodeJS.ProcessEnv = process.env, fd = 2): boolean {
  const m = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '')
  if (!m) return false
  try {
    const st = fstatSync(fd, { bigint: true })
    return st.dev === BigInt(m[1] as string) && st.ino === BigInt(m[2] as string)
  } catch {
    return false
  }
}

/** The concrete format for a destination: 'auto' resolved. */
export function resolveFormat(opts: LogOptions): Exclude<LogFormat, 'auto'> {
  const format = opts.format ?? 'auto'
  if (format !== 'auto') return format
  if (opts.destination === undefined && stderrIsJournal()) return 'journal'
  const tty = ((opts.destination ?? process.stderr) as NodeJS.WriteStream).isTTY === true
  return tty ? 'pretty' : 'json'
}

/** createLogger, after loading pino-pretty if the format asks for it. */
export async function openLogger(opts: LogOptions = {}): Promise<Logger> {
  if (resolveFormat(opts) === 'pretty' && !pretty) pretty = (await import('pino-pretty')).default
  return createLogger(opts)
}

/** A logger now; a human format needs pino-pretty loaded first (openLogger). */
export function createLogger(opts: LogOptions = {}): Logger {
  const format = resolveFormat(opts)
  const options: LoggerOptions = {
    level: opts.level ?? process.env.LVSD_LOG_LEVEL ?? 'info',
    // journald records the pid and the time itself
    base: format === 'journal' ? { ...opts.base } : { pid: process.pid, ...opts.base },
    timestamp: format === 'journal' ? false : pino.stdTimeFunctions.isoTime,
  }
  const dest = opts.destination ?? process.stderr
  const tty = (dest as NodeJS.WriteStream).isTTY === true
  if (format === 'pretty') {
    if (!pretty) throw new Error('a human log format needs pino-pretty: create the logger with openLogger()')
    // a stream in this thread, not a transport worker: lines stay ordered with the process's own output
    const stream = pretty({ colorize: tty, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', destination: dest })
    return pino(options, stream)
  }
  if (format === 'journal') return pino(options, { write: (line: string) => dest.write(journalLine(line)) })
  return pino(options, dest as pino.DestinationStream)
}

// pino's numeric levels → syslog priorities (sd-daemon(3) prefixes): fatal 2, error 3, warn 4, info 6, debug/trace 7
function priority(level: number): number {
  if (level >= 60) return 2
  if (level >= 50) return 3
  if (level >= 40) return 4
  if (level >= 30) return 6
  return 7
}

function fieldValue(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v)
  return /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s)
}

/**
 * One pino JSON record → `<N>msg key=value ...\n`. journald splits on newlines, so a message that
 * holds several lines becomes several lines with the same priority (each keeps its own prefix).
 */
export function journalLine(json: string): string {
  let rec: Record<string, unknown>
  try {
    rec = JSON.parse(json) as Record<string, unknown>
  } catch {
    return `<6>${json.trimEnd()}\n`
  }
  const { level, msg, hostname: _h, ...fields } = rec
  const prefix = `<${priority(typeof level === 'number' ? level : 30)}>`
  const kv = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${fieldValue(v)}`)
    .join(' ')
  const lines = String(msg ?? '').split('\n')
  if (kv) lines[lines.length - 1] = `${lines[lines.length - 1]} ${kv}`.trimStart()
  return `${lines.map((l) => prefix + l).join('\n')}\n`
}
