// `lvsd run -c FILE`: load the configuration (invalid → every error printed, exit 2) and run the
// daemon in the foreground until SIGTERM/SIGINT.
import { parseArgs } from 'node:util'
import { SystemdNotifier } from '../api/systemd.js'
import { formatIssue, loadConfigFile } from '../config/load.js'
import { startDaemon } from '../director/daemon.js'
import { isLvsdError } from '../errors.js'
import { createLogger } from '../log.js'
import { EXIT } from './exit-codes.js'

const FORMATS = ['json', 'pretty', 'auto'] as const
type Format = (typeof FORMATS)[number]

export const RUN_HELP = `Usage: lvsd run -c FILE [--log-format json|pretty|auto] [--log-level LEVEL]
`

export async function runCommand(argv: string[]): Promise<number> {
  let values: { config?: string; 'log-format'?: string; 'log-level'?: string; help?: boolean }
  try {
    values = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        'log-format': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values
  } catch (e) {
    process.stderr.write(`lvsd run: ${(e as Error).message}\n${RUN_HELP}`)
    return EXIT.usage
  }
  if (values.help) {
    process.stdout.write(RUN_HELP)
    return EXIT.ok
  }
  const format = values['log-format']
  if (!values.config || (format !== undefined && !FORMATS.includes(format as Format))) {
    process.stderr.write(`lvsd run: ${values.config ? 'bad --log-format' : '-c FILE is required'}\n${RUN_HELP}`)
    return EXIT.usage
  }
  let result: Awaited<ReturnType<typeof loadConfigFile>>
  try {
    result = await loadConfigFile(values.config)
  } catch (e) {
    if (!isLvsdError(e, 'LVSD_CONFIG_UNREADABLE')) throw e
    process.stderr.write(`${e.message}\n`)
    return EXIT.invalidConfig
  }
  if (!result.ok) {
    for (const issue of result.errors) process.stderr.write(`${formatIssue(issue)}\n`)
    const n = result.errors.length
    process.stderr.write(`${values.config}: ${n} error${n === 1 ? '' : 's'}, configuration rejected\n`)
    return EXIT.invalidConfig
  }
  const config = result.config
  const log = createLogger({
    level: values['log-level'] ?? config.logging.level,
    format: (format as Format | undefined) ?? config.logging.format,
  }).child({ node: config.node })
  for (const w of result.warnings) log.warn({ config: true }, formatIssue(w))
  // Type=notify: READY once the VRRP worker runs, watchdog pings from the main loop, STOPPING on
  // the way out. Without NOTIFY_SOCKET every call is a no-op.
  const systemd = new SystemdNotifier()
  if (systemd.lastError) log.warn({ reason: systemd.lastError }, 'systemd notifications are off')
  const daemon = startDaemon(config, log)
  daemon.runtime.once('ready', () => {
    systemd.ready(`${config.vrrp.instances.length} VRRP instance(s)`)
    systemd.startWatchdog()
  })
  const onStop = () => systemd.stopping()
  process.prependOnceListener('SIGTERM', onStop)
  process.prependOnceListener('SIGINT', onStop)
  try {
    return await daemon.done
  } finally {
    process.off('SIGTERM', onStop)
    process.off('SIGINT', onStop)
    systemd.close()
  }
}
