// pino loggers: JSON lines by default, pino-pretty when writing to a terminal.
import { type Logger, type LoggerOptions, pino } from 'pino'

export type { Logger }

export interface LogOptions {
  level?: string
  /** 'json' always JSON, 'pretty' always human, 'auto' pretty only on a TTY. */
  format?: 'json' | 'pretty' | 'auto'
  destination?: NodeJS.WritableStream
}

export function createLogger(opts: LogOptions = {}): Logger {
  const base: LoggerOptions = { level: opts.level ?? process.env.LVSD_LOG_LEVEL ?? 'info', base: { pid: process.pid } }
  const format = opts.format ?? 'auto'
  const dest = opts.destination ?? process.stderr
  const tty = (dest as NodeJS.WriteStream).isTTY === true
  if (format === 'pretty' || (format === 'auto' && tty)) {
    return pino({
      ...base,
      transport: {
        target: 'pino-pretty',
        options: { colorize: tty, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
      },
    })
  }
  return pino(base, dest as pino.DestinationStream)
}
