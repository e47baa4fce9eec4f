// `lvsd run -c FILE`: load the configuration (invalid → every error printed, exit 2), start the
// director (VRRP worker, health checks, IPVS reconciler, sync daemon) and its API (control socket,
// optional metrics), then serve until SIGTERM/SIGINT. SIGHUP reloads: an invalid file is refused and
// the running configuration keeps serving.
import { basename, dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { startApi } from '../api/start.js'
import { SystemdNotifier } from '../api/systemd.js'
import { configReader } from '../director/config-source.js'
import { LvsDirector } from '../director/director.js'
import { heldVipsFile } from '../director/held-vips.js'
import { type Code, isLvsdError } from '../errors.js'
import { openLogger, stderrIsJournal } from '../log.js'
import { EXIT } from './exit-codes.js'
import { type DropReport, dropHeldVips } from './held-vips-drop.js'
import { profileAdvice } from './node-profile.js'
import { packageVersion } from './version.js'

const FORMATS = ['json', 'pretty', 'journal', 'auto'] as const
type Format = (typeof FORMATS)[number]

export const RUN_HELP = `Usage: lvsd run -c FILE [--log-format json|pretty|journal|auto] [--log-level LEVEL]

Runs the director in the foreground. Signals: SIGHUP reloads the configuration (only the difference
is applied; an invalid file changes nothing), SIGTERM/SIGINT stop (masters resign with priority 0).
Log formats: json (one object per line), pretty (for a terminal), journal (one readable line per
record with its syslog priority prefix, <3> error to <7> debug, for journald), auto (the default:
journal when stderr is the journal, pretty on a terminal, else json).
`

// Start failures a restart cannot cure: systemd must not retry them (RestartPreventExitStatus=).
const PERMANENT: ReadonlySet<Code> = new Set<Code>(['LVSD_GENL_FAMILY_ABSENT', 'LVSD_NATIVE_MISSING'])

/** The exit status for an error that stopped the start. */
export function startFailureExit(code: Code): number {
  return PERMANENT.has(code) ? EXIT.unavailable : EXIT.failure
}

// Before the logger exists, errors go to stderr; under systemd they carry the error priority so
// `journalctl -p err` shows them (file:line:col lines of a refused config included).
function errorLines(lines: readonly string[]): void {
  const prefix = stderrIsJournal() ? '<3>' : ''
  for (const line of lines) process.stderr.write(`${prefix}${line}\n`)
}

function statusLine(d: LvsDirector): string {
  const s = d.getStatus()
  const states = s.instances.map((i) => `${i.name} ${i.state}`).join(', ') || 'no VRRP'
  const up = s.services.reduce((n, svc) => n + svc.servers.filter((r) => r.health !== 'down').length, 0)
  const all = s.services.reduce((n, svc) => n + svc.servers.length, 0)
  return `${states}; ${s.services.length} service(s), ${up}/${all} real servers up`
}

/** `dropped`: what the caller already removed of a crashed run's VIPs (lvsd.ts does it before loading this). */
export async function runCommand(argv: string[], dropped?: DropReport): Promise<number> {
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
  // before anything else: a crashed run's VIPs must leave the wire now, not after start-up
  const heldFile = heldVipsFile(values.config)
  const drop = dropped ?? (await dropHeldVips(values.config, heldFile))
  const load = configReader(values.config)
  const first = await load()
  if (!first.ok) {
    const n = first.errors.length
    errorLines([
      ...(first.text ?? first.errors.map((e) => e.message)),
      `${values.config}: ${n} error${n === 1 ? '' : 's'}, configuration rejected`,
    ])
    return EXIT.invalidConfig
  }
  const config = first.loaded.config
  const log = (
    await openLogger({
      level: values['log-level'] ?? config.logging.level,
      format: (format as Format | undefined) ?? config.logging.format,
    })
  ).child({ node: config.node })
  for (const w of first.warnings) log.warn({ config: true }, w)
  for (const v of drop.removed)
    log.info({ vrrp: v.instance, vip: `${v.address}/${v.len}`, dev: v.dev }, 'removed a VIP held by a crashed run')
  if (drop.skipped) log.warn({ file: heldFile }, `VIPs of an earlier run left alone: ${drop.skipped}`)
  for (const e of drop.errors) log.error({ file: heldFile }, `cannot remove a VIP held by a crashed run: ${e}`)
  const advice = profileAdvice(config, process.execArgv)
  if (advice) log[advice.level]({ execArgv: process.execArgv }, advice.msg)
  // Type=notify: READY once everything runs, STATUS on every state change, watchdog pings from the
  // main loop, RELOADING/STOPPING around those. Without NOTIFY_SOCKET every call is a no-op.
  const systemd = new SystemdNotifier()
  if (systemd.lastError) log.warn({ reason: systemd.lastError }, 'systemd notifications are off')

  let director: LvsDirector
  try {
    director = await LvsDirector.start(first.loaded, {
      log,
      version: packageVersion(),
      load,
      // imported on first use: a VRRP-only daemon never loads the IPVS client
      connectIpvs: async () => {
        const [{ IpvsClient }, { modprobe }] = await Promise.all([
          import('../ipvs/client.js'),
          import('../ipvs/modprobe.js'),
        ])
        return IpvsClient.connect({ loadModule: modprobe() })
      },
      // beside the control socket (/run/lvsd by default): gone with the boot, as the kernel's table
      heldVipsFile: heldFile,
      ownedFile: join(
        dirname(config.control.socket),
        `${basename(config.control.socket, '.sock')}.owned-services.json`,
      ),
    })
  } catch (e) {
    if (!isLvsdError(e)) throw e
    const exit = startFailureExit(e.code)
    log.error({ code: e.code, err: e.message, exit }, 'lvsd cannot start')
    if (!stderrIsJournal()) process.stderr.write(`lvsd: ${e.message}\n`)
    systemd.close()
    return exit
  }
  let api: Awaited<ReturnType<typeof startApi>>
  try {
    api = await startApi(director, { control: config.control, metrics: config.metrics }, { log })
  } catch (e) {
    await director.stop('control API failed')
    if (!isLvsdError(e)) throw e
    log.error({ code: e.code, err: e.message }, 'lvsd cannot start its API')
    if (!stderrIsJournal()) process.stderr.write(`lvsd: ${e.message}\n`)
    systemd.close()
    return EXIT.failure
  }

  let exitCode: number = EXIT.ok
  let resolveDone: () => void = () => {}
  const done = new Promise<void>((r) => {
    resolveDone = r
  })
  let stopping = false
  const stop = (reason: string, code: number = EXIT.ok) => {
    if (stopping) return
    stopping = true
    exitCode = code
    systemd.stopping(reason)
    void (async () => {
      // the director first: its stop-time events (masters resigning) still reach the log and the stream
      await director.stop(reason)
      await api.close()
      resolveDone()
    })()
  }
  director.onFatal = (reason) => stop(reason, EXIT.failure)
  const onSignal = (sig: NodeJS.Signals) => stop(sig)
  const onHup = () => {
    systemd.reloading('reloading configuration')
    void director.reload().then(
      (r) => systemd.ready(r.ok ? statusLine(director) : `reload refused; ${statusLine(director)}`),
      (e) => log.error({ err: String(e) }, 'reload failed'),
    )
  }
  const unsubscribe = director.events.subscribe('vrrp.transition', () => systemd.status(statusLine(director)))
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  process.on('SIGHUP', onHup)
  director.events.publish('daemon.state', { state: 'ready' })
  systemd.ready(statusLine(director))
  systemd.startWatchdog()
  log.info({ pid: process.pid }, 'lvsd ready')
  try {
    await done
    return exitCode
  } finally {
    unsubscribe()
    process.off('SIGTERM', onSignal)
    process.off('SIGINT', onSignal)
    process.off('SIGHUP', onHup)
    systemd.close()
  }
}
