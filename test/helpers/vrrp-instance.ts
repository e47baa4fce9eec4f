// One IPv4 VRRPv3 instance `web` (VRID 51, 100 ms, preempt, keepalived's GARP defaults) as the VRRP
// worker takes it, for tests and bench agents that run the runtime without a config file.
import { parsePrefix } from '../../src/net/addr.js'
import type { RuntimeInstance } from '../../src/vrrp/messages.js'

export function webInstance(vip: string, over: Partial<RuntimeInstance> = {}): RuntimeInstance {
  return {
    name: 'web',
    interface: 'eth0',
    vrid: 51,
    version: 3,
    family: 4,
    priority: 100,
    advertMs: 100,
    preempt: true,
    preemptDelayMs: 0,
    accept: true,
    vips: [{ prefix: parsePrefix(vip) }],
    excludedVips: [],
    announce: { repeat: 5, delayMs: 5000, intervalMs: 0, refreshMs: 0, refreshRepeat: 1 },
    trackInterfaces: [],
    ...over,
  }
}
