// Starts lvsd's operations surface for a running director, as the configuration asks: the control
// socket, the metrics (always counted; served over TCP only when enabled) and the event log.
import type { Config } from '../config/types.js'
import type { Logger } from '../log.js'
import { formatAddr } from '../net/addr.js'
import { logEvents } from './event-log.js'
import { LvsdMetrics } from './metrics.js'
import { MetricsServer } from './metrics-server.js'
import { ControlServer, readOnlyPath } from './server.js'
import type { Director } from './types.js'

export interface ApiSettings {
  /** Without `read_only`, no read-only socket. */
  control: Omit<Config['control'], 'read_only'> & { read_only?: Config['control']['read_only'] }
  /** Without `allow`, any client that can reach the address. */
  metrics: Omit<Config['metrics'], 'allow'> & { allow?: Config['metrics']['allow'] }
}

export interface ApiOptions {
  log?: Logger
  /** Wall-clock ms of the process start, for process_start_time_seconds. */
  startedAt?: number
  groupFile?: string
}

export interface Api {
  readonly control: ControlServer
  /** The read-only socket, unless disabled. */
  readonly readOnly: ControlServer | undefined
  readonly metrics: LvsdMetrics
  /** Absent unless metrics.enabled. */
  readonly metricsServer: MetricsServer | undefined
  close(): Promise<void>
}

export async function startApi(director: Director, s: ApiSettings, opts: ApiOptions = {}): Promise<Api> {
  // the director has run (and published) its start-up before the API exists: replay those events
  const unlog = opts.log ? logEvents(director.events, opts.log, { replay: true }) : () => {}
  const metrics = new LvsdMetrics(director, {
    replay: true,
    ...(opts.startedAt === undefined ? {} : { startedAt: opts.startedAt }),
  })
  let control: ControlServer | undefined
  let readOnly: ControlServer | undefined
  let metricsServer: MetricsServer | undefined
  try {
    control = await ControlServer.start(director, {
      path: s.control.socket,
      mode: s.control.mode,
      ...(s.control.group === undefined ? {} : { group: s.control.group }),
      ...(opts.groupFile === undefined ? {} : { groupFile: opts.groupFile }),
    })
    const ro = s.control.read_only
    if (ro?.enabled) {
      readOnly = await ControlServer.start(director, {
        path: ro.socket ?? readOnlyPath(s.control.socket),
        mode: ro.mode,
        level: 'read',
        ...(ro.group === undefined ? {} : { group: ro.group }),
        ...(opts.groupFile === undefined ? {} : { groupFile: opts.groupFile }),
      })
    }
    if (s.metrics.enabled) {
      metricsServer = await MetricsServer.start(
        async () => {
          await director.refresh?.()
          return metrics.slices()
        },
        {
          host: formatAddr(s.metrics.address),
          port: s.metrics.port,
          ...(s.metrics.allow ? { allow: s.metrics.allow } : {}),
          onRefused: () => metrics.metricsRefused.inc(),
        },
      )
    }
  } catch (e) {
    await Promise.all([control?.close(), readOnly?.close()])
    metrics.close()
    unlog()
    throw e
  }
  const ctl = control
  opts.log?.info(
    {
      socket: ctl.path,
      readOnly: readOnly?.path ?? 'off',
      metrics: metricsServer ? `${formatAddr(s.metrics.address)}:${metricsServer.port}` : 'off',
    },
    'control API listening',
  )
  return {
    control: ctl,
    readOnly,
    metrics,
    metricsServer,
    async close() {
      await Promise.all([ctl.close(), readOnly?.close(), metricsServer?.close()])
      metrics.close()
      unlog()
    },
  }
}
