// pino loggers: JSON lines by default, human-readable lines (pino-pretty) when writing to a terminal.
import { type Logger, type LoggerOptions, pino } from 'pino'
import pretty from 'pino-pretty'

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

export function createLogger(opts: LogOptions = {}): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? process.env.LVSD_LOG_LEVEL ?? 'info',
    base: { pid: process.pid, ...opts.base },
    timestamp: pino.stdTimeFunctions.isoTime,
  }
  const dest = opts.destination ?? process.stderr
  const tty = (dest as NodeJS.WriteStream).isTTY === true
  const format = opts.format ?? 'auto'
  if (format === 'pretty' || (format === 'auto' && tty)) {
    // a stream in this thread, not a transport worker: lines stay ordered with the process's own output
    const stream = pretty({ colorize: tty, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', destination: dest })
    return pino(options, stream)
  }
  return pino(options, dest as pino.DestinationStream)
}
