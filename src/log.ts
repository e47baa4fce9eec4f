// pino loggers: JSON lines by default, human-readable lines (pino-pretty) when writing to a terminal.
import { type Logger, type LoggerOptions, pino } from 'pino'
import type PinoPretty from 'pino-pretty'

export type { Logger }

export type LogFormat = 'json' | 'pretty' | 'auto'

export interface LogOptions {
  level?: string
  /** 'json' always JSON, 'pretty' always human, 'auto' human only when the destination is a TTY. */
  format?: LogFormat
  destination?: NodeJS.WritableStream
  /** Fields on every line (e.g. { node: 'lb01' }). */
  base?: Record<string, unknown>
}

// pino-pretty (and the stream library under it) is loaded only when a human format is wanted: a
// daemon logging JSON to journald never needs it, and loading it costs ~0.6 MiB of RSS.
let pretty: typeof PinoPretty | undefined

function wantsPretty(opts: LogOptions): boolean {
  const format = opts.format ?? 'auto'
  const tty = ((opts.destination ?? process.stderr) as NodeJS.WriteStream).isTTY === true
  return format === 'pretty' || (format === 'auto' && tty)
}

/** createLogger, after loading pino-pretty if the format asks for it. */
export async function openLogger(opts: LogOptions = {}): Promise<Logger> {
  if (wantsPretty(opts) && !pretty) pretty = (await import('pino-pretty')).default
  return createLogger(opts)
}

/** A logger now; a human format needs pino-pretty loaded first (openLogger). */
export function createLogger(opts: LogOptions = {}): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? process.env.LVSD_LOG_LEVEL ?? 'info',
    base: { pid: process.pid, ...opts.base },
    timestamp: pino.stdTimeFunctions.isoTime,
  }
  const dest = opts.destination ?? process.stderr
  const tty = (dest as NodeJS.WriteStream).isTTY === true
  if (wantsPretty(opts)) {
    if (!pretty) throw new Error('a human log format needs pino-pretty: create the logger with openLogger()')
    // a stream in this thread, not a transport worker: lines stay ordered with the process's own output
    const stream = pretty({ colorize: tty, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', destination: dest })
    return pino(options, stream)
  }
  return pino(options, dest as pino.DestinationStream)
}
