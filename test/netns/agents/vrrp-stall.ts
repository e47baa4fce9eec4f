// Netns agent: runs the VRRP worker (VrrpRuntime) for one IPv4 VRRPv3 instance, and once it is
// MASTER blocks its own main thread in a busy loop for `stallMs`, then prints the worker's counters.
// Shows that adverts come from the worker, not the main loop. Usage: vrrp-stall.js <vip/len> <stallMs>
import { VrrpRuntime } from '../../../src/vrrp/main/runtime.js'
import { webInstance } from '../../helpers/vrrp-instance.js'

const [vip = '', stallArg = '3000'] = process.argv.slice(2)
const out = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`)
const rt = new VrrpRuntime([webInstance(vip, { priority: 150 })], { rtPriority: 10 })
rt.on('ready', (m) => out({ event: 'ready', realtime: m.realtime.ok }))
rt.on('transition', async (t) => {
  out({ event: 'transition', to: t.to, why: t.why })
  if (t.to !== 'MASTER') return
  await new Promise((r) => setTimeout(r, 500))
  const end = Date.now() + Number(stallArg)
  out({ event: 'stall', ms: Number(stallArg) })
  while (Date.now() < end) {
    // a stalled main loop: GC, a huge reload, thousands of health checks
  }
  out({ event: 'resumed' })
  const counters = await rt.counters()
  out({ event: 'counters', counters: counters.web })
  await rt.stop()
  process.exit(0)
})
