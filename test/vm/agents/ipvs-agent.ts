// Guest-side agent of ipvs-kernel.test.ts: drives the real IPVS of the VM's kernel through lvsd's client in
// network namespace "lvsd" (where it runs) and ipvsadm in namespace "ref", and reports what both show.
// Usage (inside the VM, from ipvs-kernel.test.ts's setup script): ip netns exec lvsd node dist/test/vm/agents/ipvs-agent.js
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { report } from '../../../lab/vm/guest.js'
import { applyOps, readTable, reconcile } from '../../../src/ipvs/apply.js'
import { IpvsClient } from '../../../src/ipvs/client.js'
import { diff, type Op } from '../../../src/ipvs/diff.js'
import type { Destination, Service, ServiceKey } from '../../../src/ipvs/domain.js'
import { defaultDest, defaultService, type ServiceState, serviceId } from '../../../src/ipvs/model.js'
import { modprobe } from '../../../src/ipvs/modprobe.js'
import { Reconciler } from '../../../src/ipvs/reconciler.js'
import { formatAddr, parseAddr } from '../../../src/net/addr.js'

export const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh']

function run(cmd: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  return { status: r.status, out: (r.stdout ?? '') + (r.stderr ?? '') + (r.error ? String(r.error) : '') }
}
/**
 * The destinations of one service in the kernel's list order, from /proc/net/ip_vs (per netns;
 * ipvsadm -Ln sorts destinations for display, so it cannot show the order). `head` is like 'TCP  0A000005:0050'.
 */
function procOrder(head: string, ns?: 'ref'): string[] {
  const text = (ns ? run('ip', ['netns', 'exec', ns, 'cat', '/proc/net/ip_vs']) : run('cat', ['/proc/net/ip_vs'])).out
  const lines = text.split('\n')
  const at = lines.findIndex((l) => l.startsWith(`${head} `))
  if (at < 0) return []
  const out: string[] = []
  for (const l of lines.slice(at + 1)) {
    const m = /^ {2}-> (\S+)/.exec(l)
    if (!m) break
    out.push(m[1] as string)
  }
  return out
}

/** ipvsadm in this namespace ('lvsd') or in 'ref'. */
const ipvsadm = (args: string[], ns?: 'ref') =>
  ns ? run('ip', ['netns', 'exec', ns, 'ipvsadm', ...args]) : run('ipvsadm', args)

const tcp = (a: string, port: number): ServiceKey => ({ protocol: 'tcp', addr: parseAddr(a), port })
const dr = (a: string, port = 80, over: Partial<Destination> = {}) => defaultDest(parseAddr(a), port, 'droute', over)
const st = (service: Service, dests: Destination[]): ServiceState => ({ service, dests })

/** Ops as short strings for the report. */
const brief = (ops: readonly Op[]) =>
  ops.map((o) => {
    if (o.op === 'add-service' || o.op === 'edit-service') return `${o.op} ${serviceId(o.service.key)}`
    if (o.op === 'del-service') return `${o.op} ${serviceId(o.key)}`
    return `${o.op} ${serviceId(o.key)} ${formatAddr(o.dest.addr)}:${o.dest.port}${'reorder' in o && o.reorder ? ' reorder' : ''}`
  })

async function step<T>(name: string, out: Record<string, unknown>, f: () => Promise<T>): Promise<void> {
  const t0 = Date.now()
  try {
    out[name] = { ok: true, value: await f(), ms: Date.now() - t0 }
  } catch (e) {
    out[name] = { ok: false, error: (e as { toJSON?: () => unknown }).toJSON?.() ?? String(e), ms: Date.now() - t0 }
  }
}

async function main(): Promise<void> {
  const out: Record<string, unknown> = {}
  // ip_vs is not loaded and the kernel's module helper is /bin/true (see the test's script): the
  // family lookup must fail, the loader run once, and the lookup then succeed
  const [pre, helper = '/sbin/modprobe'] = process.argv.slice(2)
  let loads = 0
  const load = modprobe()
  const c = await IpvsClient.connect({
    loadModule: () => {
      loads++
      return load()
    },
  })
  writeFileSync('/proc/sys/kernel/modprobe', `${helper}\n`) // schedulers load on demand again
  out.module = { preloaded: pre === 'preloaded', loads }
  out.info = await c.getInfo()

  // 1. the seed: lvsd here, ipvsadm in "ref"; both listings must be equal
  const seedKey = tcp('10.0.0.3', 80)
  const seed = st(defaultService(seedKey, 'wrr'), [dr('10.0.0.8'), dr('10.0.0.7')])
  await step('seed', out, async () => {
    const r = await reconcile(c, [seed])
    await c.setTimeouts({ tcp: 30, tcpFin: 5, udp: 60 })
    const ref = [
      ipvsadm(['-A', '-t', '10.0.0.3:80', '-s', 'wrr'], 'ref'),
      ipvsadm(['-a', '-t', '10.0.0.3:80', '-r', '10.0.0.7:80', '-g', '-w', '1'], 'ref'),
      ipvsadm(['-a', '-t', '10.0.0.3:80', '-r', '10.0.0.8:80', '-g', '-w', '1'], 'ref'),
      ipvsadm(['--set', '30', '5', '60'], 'ref'),
    ]
    return {
      ops: brief(r.ops),
      statuses: r.results.map((x) => x.status),
      refStatus: ref.map((x) => x.status),
      lvsdList: ipvsadm(['-Ln']).out,
      refList: ipvsadm(['-Ln'], 'ref').out,
      lvsdTimeout: ipvsadm(['-L', '--timeout']).out,
      refTimeout: ipvsadm(['-L', '--timeout'], 'ref').out,
      timeouts: await c.getTimeouts(),
      dumpOrder: (await c.listDests(seedKey)).map((d) => formatAddr(d.addr)),
      procOrder: procOrder('TCP  0A000003:0050'),
      refProcOrder: procOrder('TCP  0A000003:0050', 'ref'),
    }
  })

  // 2. every scheduler the kernel ships is accepted (each loads its module on demand)
  await step('schedulers', out, async () => {
    const res: Record<string, string> = {}
    for (const [i, s] of SCHEDULERS.entries()) {
      try {
        await c.addService(defaultService(tcp('10.0.1.1', 1000 + i), s))
        res[s] = 'ok'
      } catch (e) {
        res[s] = String((e as { details?: { code?: string } }).details?.code ?? e)
      }
    }
    const listed = (await c.listServices()).filter((x) => 'addr' in x.key && formatAddr(x.key.addr) === '10.0.1.1')
    for (const x of listed) await c.delService(x.key)
    return { res, listed: listed.map((x) => x.scheduler).sort() }
  })

  // 3. the full desired table: DR/NAT/TUN (ipip, gue) dests, fwmark, IPv6 with persistence, IPv4 netmask
  const gue = { type: 'gue', port: 6080, csum: true, remcsum: false } as const
  const fw: ServiceKey = { fwmark: 7, family: 4 }
  const v6Key = tcp('2001:db8::3', 443)
  const mixKey = tcp('10.0.0.3', 8080)
  const pKey = tcp('10.0.0.3', 443)
  const desired: ServiceState[] = [
    seed,
    st(defaultService(mixKey, 'wlc'), [
      dr('10.0.0.7', 8080),
      defaultDest(parseAddr('10.0.0.8'), 8081, 'masq', { weight: 70000, upperThreshold: 100, lowerThreshold: 10 }),
      defaultDest(parseAddr('10.0.0.9'), 8080, 'tunnel', { weight: 2 }),
      defaultDest(parseAddr('10.0.0.10'), 8080, 'tunnel', { tunnel: gue }),
    ]),
    st(defaultService(fw, 'sh', { schedFlags: 3 }), [dr('10.0.0.7', 0), dr('10.0.0.8', 0, { weight: 0 })]),
    st(defaultService(v6Key, 'mh', { persistent: true, timeout: 300, netmask: 64 }), [
      defaultDest(parseAddr('2001:db8::8'), 443, 'droute'),
      defaultDest(parseAddr('2001:db8::7'), 443, 'droute', { weight: 3 }),
    ]),
    st(defaultService(pKey, 'rr', { persistent: true, timeout: 600, netmask: 24, onePacket: false }), [
      dr('10.0.0.7', 443),
    ]),
  ]
  const owned = desired.map((s) => serviceId(s.service.key))
  await step('table', out, async () => {
    const first = await reconcile(c, desired, owned)
    const second = await reconcile(c, desired, owned)
    return {
      first: brief(first.ops),
      firstStatus: first.results.map((x) => `${x.status}${x.error ? ` ${x.error.message}` : ''}`),
      second: brief(second.ops),
      list: ipvsadm(['-Ln']).out,
    }
  })

  // 4. a destination deleted with ipvsadm behind lvsd's back is restored; an unowned service stays
  await step('repair', out, async () => {
    const before = ipvsadm(['-Ln']).out
    const del = ipvsadm(['-d', '-t', '10.0.0.3:80', '-r', '10.0.0.8:80'])
    const add = [
      ipvsadm(['-A', '-t', '10.0.0.4:80', '-s', 'rr']),
      ipvsadm(['-a', '-t', '10.0.0.4:80', '-r', '10.0.0.9:80', '-g']),
    ]
    const r = await reconcile(c, desired, owned)
    const unowned = run('ipvsadm', ['-Ln', '-t', '10.0.0.4:80']).out
    const after = ipvsadm(['-Ln']).out
    return { del: del.status, add: add.map((x) => x.status), ops: brief(r.ops), unowned, before, after }
  })

  // 4b. the reconciler's view: after one read, a changed weight is one SET_DEST on the real kernel and no
  // dump (every client call is logged here, apart from the reconciler's own count); ipvsadm shows it
  await step('weightChange', out, async () => {
    const calls: string[] = []
    const logged = new Proxy(c, {
      get(target, name, recv) {
        const v = Reflect.get(target, name, recv)
        if (typeof v !== 'function') return v
        return (...a: unknown[]) => {
          if (name !== 'batch') calls.push(String(name))
          return v.apply(target, a)
        }
      },
    })
    const r = new Reconciler(logged, { intervalMs: 0, owned })
    const first = await r.apply(desired)
    const firstCalls = calls.splice(0)
    const heavier = desired.map((s) =>
      s === seed ? { ...s, dests: s.dests.map((d) => (d.addr.bytes[3] === 8 ? { ...d, weight: 7 } : d)) } : s,
    )
    const before = r.counters.requests
    const change = await r.apply(heavier)
    const changeCalls = calls.splice(0)
    const changeRequests = r.counters.requests - before
    const listed = run('ipvsadm', ['-Ln', '-t', '10.0.0.3:80']).out
    const check = await r.check()
    const checkCalls = calls.splice(0)
    const back = await r.apply(desired)
    const backCalls = calls.splice(0)
    return {
      first: { ops: first.ops, read: first.read, dumps: firstCalls.filter((x) => x.startsWith('list')).length },
      services: (await c.listServices()).length,
      change: { ops: change.ops, failed: change.failed, read: change.read, requests: change.requests },
      changeCalls,
      changeRequests,
      listed,
      check: { ops: check.ops, read: check.read, calls: checkCalls.length },
      back: { ops: back.ops, read: back.read },
      backCalls,
      after: run('ipvsadm', ['-Ln', '-t', '10.0.0.3:80']).out,
    }
  })

  // 5. mh order: destinations added out of order by ipvsadm end up in canonical order, as in "ref"
  await step('mhOrder', out, async () => {
    const mhKey = tcp('10.0.0.5', 80)
    for (const ns of [undefined, 'ref'] as const) ipvsadm(['-A', '-t', '10.0.0.5:80', '-s', 'mh'], ns)
    for (const last of [9, 7, 8]) ipvsadm(['-a', '-t', '10.0.0.5:80', '-r', `10.0.0.${last}:80`, '-g'])
    for (const last of [7, 8, 9]) ipvsadm(['-a', '-t', '10.0.0.5:80', '-r', `10.0.0.${last}:80`, '-g'], 'ref')
    const mh = st(defaultService(mhKey, 'mh'), [dr('10.0.0.7'), dr('10.0.0.8'), dr('10.0.0.9')])
    const table = [...desired, mh]
    const head = 'TCP  0A000005:0050'
    const before = procOrder(head)
    const ops = diff(table, await readTable(c), [...owned, serviceId(mhKey)])
    const results = await applyOps(c, ops)
    return {
      ops: brief(ops),
      statuses: results.map((x) => x.status),
      before,
      mine: procOrder(head),
      ref: procOrder(head, 'ref'),
      dump: (await c.listDests(mhKey)).map((d) => formatAddr(d.addr)),
      again: brief(diff(table, await readTable(c), [...owned, serviceId(mhKey)])),
    }
  })

  // 6. sync daemon, kernel errors
  await step('daemon', out, async () => {
    await c.startDaemon({ state: 'master', ifname: 'd0', syncId: 51 })
    const listed = await c.listDaemons()
    const shown = ipvsadm(['-Ln', '--daemon']).out
    await c.stopDaemon('master')
    return {
      listed: listed.map((d) => ({ ...d, group: d.group && formatAddr(d.group) })),
      shown,
      after: await c.listDaemons(),
    }
  })
  await step('errors', out, async () => {
    const codes: Record<string, unknown> = {}
    for (const [name, f] of [
      ['unknownScheduler', () => c.addService(defaultService(tcp('10.0.0.6', 80), 'nosuch'))],
      ['duplicateService', () => c.addService(seed.service)],
      ['destOfMissingService', () => c.addDest(tcp('10.0.0.99', 80), dr('10.0.0.7'))],
      ['delMissingDest', () => c.delDest(seedKey, dr('10.0.0.99'))],
    ] as const) {
      try {
        await f()
        codes[name] = 'ok'
      } catch (e) {
        const d = (e as { details?: Record<string, unknown> }).details ?? {}
        codes[name] = { command: d.command, code: d.code, extAck: d.extAck ?? null }
      }
    }
    return codes
  })
  c.close()
  report(out)
}

main().catch((e) => {
  report({ fatal: (e as { toJSON?: () => unknown }).toJSON?.() ?? String((e as Error).stack) })
})
