// The VRRP-only daemon behind `lvsd run` (like `keepalived -P`): starts the VRRP worker with the
// configured instances, logs every transition as one JSON line, and on SIGTERM/SIGINT resigns
// (priority 0), removes the VIPs and exits 0. Later issues add IPVS, health and the API here.
import type { Config } from '../config/types.js'
import type { Logger } from '../log.js'
import { Notifier } from '../vrrp/notify.js'
import { VrrpRuntime } from '../vrrp/runtime.js'
import { Tracker } from '../vrrp/track.js'
import { notifySpecs, runtimeInstance, trackInputs, unsupported } from './vrrp-instances.js'

export interface Daemon {
  readonly runtime: VrrpRuntime
  /** Resolves with the exit status once the daemon has stopped. */
  readonly done: Promise<number>
  stop(reason: string): Promise<number>
}

export function startDaemon(config: Config, log: Logger): Daemon {
  for (const line of unsupported(config)) log.warn({ unsupported: true }, line)
  const instances = config.vrrp.instances.map(runtimeInstance)
  const syncGroups = config.vrrp.sync_groups.map((g) => ({ name: g.name, members: g.members }))
  const runtime = new VrrpRuntime(instances, { rtPriority: config.vrrp.rt_priority, syncGroups })
  let resolveDone: (code: number) => void = () => {}
  const done = new Promise<number>((r) => {
    resolveDone = r
  })
  let stopping: Promise<number> | undefined
  const logAt = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>) =>
    log[level](fields, msg)
  const notifier = new Notifier(notifySpecs(config), logAt)
  const tracked = trackInputs(config)
  const tracker = new Tracker(tracked.scripts, tracked.scriptUses, tracked.fileUses, runtime, logAt)
  tracker.start()

  runtime.on('ready', (m) => {
    if (m.realtime.ok) log.info({ tid: m.realtime.tid, rtPriority: m.realtime.priority }, 'VRRP worker runs SCHED_RR')
    else if (config.vrrp.rt_priority > 0) {
      log.warn({ tid: m.realtime.tid, reason: m.realtime.reason }, 'VRRP worker runs without real-time scheduling')
    }
  })
  runtime.on('transition', (t) => {
    log.info(
      {
        vrrp: t.instance,
        from: t.from,
        to: t.to,
        why: t.why,
        priority: t.priority,
        at: Math.round(t.at * 1000) / 1000,
      },
      `${t.instance}: ${t.from} -> ${t.to} (${t.why})`,
    )
    notifier.transition(t.instance, t.to, t.priority)
  })
  runtime.on('log', (m) => log[m.level](m.fields, m.msg))
  runtime.on('error', (e) => {
    log.error({ err: e.message }, 'VRRP worker failed')
    void stop('worker error', 1)
  })
  runtime.on('exit', (code) => {
    if (!stopping) {
      log.error({ code }, 'VRRP worker exited unexpectedly')
      resolveDone(1)
    }
  })

  const stop = (reason: string, code = 0): Promise<number> => {
    stopping ??= (async () => {
      log.info({ reason }, 'stopping: masters resign with priority 0 and remove their VIPs')
      tracker.stop()
      const counters = await runtime.stop()
      await notifier.idle()
      if (counters) for (const [name, c] of Object.entries(counters)) log.info({ vrrp: name, counters: c }, 'counters')
      log.info('stopped')
      resolveDone(code)
      return code
    })()
    return stopping
  }

  const onSignal = (sig: NodeJS.Signals) => void stop(sig)
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
  void done.then(() => {
    process.off('SIGTERM', onSignal)
    process.off('SIGINT', onSignal)
  })
  log.info({ instances: instances.map((i) => i.name) }, 'lvsd started (VRRP only)')
  return { runtime, done, stop: (reason) => stop(reason) }
}
