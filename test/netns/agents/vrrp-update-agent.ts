// A VRRP-only process for the reload tests: a VrrpRuntime from an lvsd config file, its transitions
// and logs as JSON lines shaped like `lvsd run`'s, and on SIGHUP the file read again and handed to
// VrrpRuntime.update (the director's diff-only reload path) with the report logged, and tracked
// scripts/files run by a Tracker replaced at each reload, as the director does. SIGTERM stops.
// Run: node vrrp-update-agent.js CONFIG (inside a lab namespace).
import { formatIssue, loadConfigFile } from '../../../src/config/load.js'
import type { Config } from '../../../src/config/types.js'
import { runtimeInstance, trackInputs } from '../../../src/director/vrrp-instances.js'
import { VrrpRuntime } from '../../../src/vrrp/main/runtime.js'
import { Tracker } from '../../../src/vrrp/main/track.js'

const file = process.argv[2]
if (!file) throw new Error('usage: vrrp-update-agent CONFIG')
const line = (o: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ level: 30, ...o })}\n`)

async function load(): Promise<Config> {
  const r = await loadConfigFile(file as string)
  if (!r.ok) throw new Error(r.errors.map(formatIssue).join('\n'))
  return r.config
}
const desired = (c: Config) => ({
  instances: c.vrrp.instances.map(runtimeInstance),
  syncGroups: c.vrrp.sync_groups.map((g) => ({ name: g.name, members: g.members })),
})

const config = await load()
const first = desired(config)
const runtime = new VrrpRuntime(first.instances, { rtPriority: 0, syncGroups: first.syncGroups })
/** Tracked scripts and files as the director runs them: a new Tracker after each reload. */
const startTracker = (c: Config) => {
  const t = trackInputs(c)
  const tracker = new Tracker(t.scripts, t.scriptUses, t.fileUses, runtime, (level, msg, fields) =>
    line({ level: level === 'error' ? 50 : level === 'warn' ? 40 : 30, ...fields, msg }),
  )
  tracker.start()
  return tracker
}
let tracker = startTracker(config)
runtime.on('transition', (t) =>
  line({ vrrp: t.instance, from: t.from, to: t.to, why: t.why, priority: t.priority, at: t.at, msg: 'transition' }),
)
runtime.on('log', (m) => line({ ...m.fields, msg: m.msg }))
runtime.on('error', (e) => {
  line({ level: 50, msg: 'VRRP worker failed', err: e.message })
  process.exit(1)
})

let reloads = Promise.resolve()
process.on('SIGHUP', () => {
  reloads = reloads.then(async () => {
    try {
      const c = await load()
      const next = desired(c)
      const report = await runtime.update(next.instances, next.syncGroups)
      tracker.stop()
      tracker = startTracker(c)
      line({ msg: 'updated', report })
    } catch (err) {
      line({ level: 50, msg: 'update failed', err: String(err) })
    }
  })
})
process.on('SIGTERM', () => {
  void reloads.then(async () => {
    tracker.stop()
    const counters = await runtime.stop()
    for (const [name, c] of Object.entries(counters ?? {})) line({ vrrp: name, counters: c, msg: 'counters' })
    process.exit(0)
  })
})
line({ msg: 'agent started' })
