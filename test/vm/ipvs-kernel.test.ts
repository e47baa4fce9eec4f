// IPVS against the real kernel (Debian's, in the lab VM): lvsd's client in one network namespace and
// ipvsadm in another must produce the same tables; the diff converges and repairs; schedulers, DR/NAT/TUN,
// fwmark, IPv6, persistence, mh order, sync daemon and kernel errors. One boot runs every check.
import test from 'ava'
import { parseReport } from '../../lab/vm/guest.js'
import { runInVm, type VmRunResult } from '../../lab/vm/runner.js'
import { repoRoot } from '../helpers/paths.js'

// Both namespaces get a dummy link with the real servers' subnets: the kernel refuses (EINVAL) a DR or
// tunnel destination whose address is not unicast-routable from the namespace.
// Kernel module auto-loading is switched off while lvsd resolves the family (nlctrl would otherwise load
// ip_vs by its genl alias), so the client's own loader path runs; the agent switches it back on.
const SCRIPT = `
set -e
pre=$(test -e /proc/net/ip_vs && echo preloaded || echo absent)
for ns in lvsd ref; do
  ip netns add $ns
  ip netns exec $ns sh -c 'ip link set lo up; ip link add d0 type dummy; ip link set d0 up;
    ip addr add 10.0.0.1/24 dev d0; ip addr add 2001:db8::1/64 dev d0 nodad'
done
helper=$(cat /proc/sys/kernel/modprobe)
echo /bin/true > /proc/sys/kernel/modprobe
ip netns exec lvsd node dist/test/vm/agents/ipvs-agent.js $pre "$helper"
`

interface Step<T> {
  ok: boolean
  value: T
  error?: unknown
  ms: number
}
// biome-ignore lint/suspicious/noExplicitAny: the agent's JSON, asserted field by field below
type Report = Record<string, any>

const boot: Promise<{ r: Report; run: VmRunResult }> = runInVm({
  command: SCRIPT,
  cwd: repoRoot,
  timeoutMs: 300_000,
}).then((run) => {
  const r = parseReport<Report>(run.stdout)
  if (!r)
    throw new Error(
      `agent reported nothing (exit ${run.status})\n${run.stderr.slice(-3000)}\n${run.console.slice(-3000)}`,
    )
  return { r, run }
})
boot.catch(() => {})

async function stepOf<T>(t: { timeout: (ms: number) => void }, name: string): Promise<Step<T>> {
  t.timeout(360_000)
  const { r } = await boot
  if (r.fatal) throw new Error(`agent failed: ${JSON.stringify(r.fatal)}`)
  const s = r[name] as Step<T>
  if (!s?.ok) throw new Error(`${name} failed in the guest: ${JSON.stringify(s?.error)}`)
  return s
}

/** `ipvsadm -Ln` with service blocks sorted (the hash order of services differs between namespaces). */
function blocks(list: string): string[] {
  const lines = list.split('\n').filter((l) => /^(TCP|UDP|SCTP|FWM)|^ {2}->/.test(l) && !l.includes('RemoteAddress'))
  const out: string[] = []
  for (const l of lines) {
    if (l.startsWith('  ->')) out[out.length - 1] += `\n${l.trimEnd()}`
    else out.push(l.trimEnd())
  }
  return out.sort()
}

test('with ip_vs not loaded and auto-loading off, the client loads the module once and resolves IPVS', async (t) => {
  t.timeout(360_000)
  const { r } = await boot
  t.false(r.module.preloaded)
  t.is(r.module.loads, 1)
  t.is(r.info?.version, '1.2.1')
  t.log(`info ${JSON.stringify(r.info)}; extended ACK texts seen: ${JSON.stringify(r.errors?.value)}`)
})

test('the seed table programmed by lvsd equals the one ipvsadm builds, timeouts included', async (t) => {
  const s = await stepOf<Report>(t, 'seed')
  t.deepEqual(s.value.ops, [
    'add-service tcp/10.0.0.3/80',
    'add-dest tcp/10.0.0.3/80 10.0.0.7:80',
    'add-dest tcp/10.0.0.3/80 10.0.0.8:80',
  ])
  t.deepEqual(s.value.statuses, ['ok', 'ok', 'ok'])
  t.deepEqual(s.value.refStatus, [0, 0, 0, 0])
  t.regex(s.value.lvsdList, /TCP {2}10\.0\.0\.3:80 wrr/)
  t.is(s.value.lvsdList, s.value.refList)
  t.is(s.value.lvsdTimeout, s.value.refTimeout)
  t.regex(s.value.lvsdTimeout, /Timeout \(tcp tcpfin udp\): 30 5 60/)
  t.deepEqual(s.value.timeouts, { tcp: 30, tcpFin: 5, udp: 60 })
})

test('the kernel lists destinations newest first (it inserts at the head of the list)', async (t) => {
  const s = await stepOf<Report>(t, 'seed')
  t.deepEqual(s.value.dumpOrder, ['10.0.0.8', '10.0.0.7'])
  // /proc/net/ip_vs walks the same list; ipvsadm -Ln sorts destinations for display and cannot show it
  t.deepEqual(s.value.procOrder, ['0A000008:0050', '0A000007:0050'])
  t.deepEqual(s.value.refProcOrder, s.value.procOrder)
})

test('all 13 schedulers are accepted', async (t) => {
  const s = await stepOf<Report>(t, 'schedulers')
  const names = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh']
  t.deepEqual(s.value.res, Object.fromEntries(names.map((n) => [n, 'ok'])))
  t.deepEqual(s.value.listed, [...names].sort())
})

test('DR, NAT and TUN (ipip, GUE) destinations, fwmark, IPv6 and persistence services are programmed, and a second pass is a no-op', async (t) => {
  const s = await stepOf<Report>(t, 'table')
  t.true(
    s.value.firstStatus.every((x: string) => x === 'ok'),
    s.value.firstStatus.join('\n'),
  )
  t.deepEqual(s.value.second, [])
  const l: string = s.value.list
  t.log(`first pass: ${s.value.first.length} ops; listing:\n${l}`)
  t.regex(l, /-> 10\.0\.0\.7:8080\s+Route\s+1\b/)
  t.regex(l, /-> 10\.0\.0\.8:8081\s+Masq\s+70000\b/)
  t.regex(l, /-> 10\.0\.0\.9:8080\s+Tunnel\s+2\b/)
  t.regex(l, /-> 10\.0\.0\.10:8080\s+Tunnel\s+1\b/)
  t.regex(l, /^FWM {2}7 sh \(sh-fallback,sh-port\)/m)
  t.regex(l, /^TCP {2}\[2001:db8::3\]:443 mh persistent 300 mask 64/m)
  t.regex(l, /-> \[2001:db8::7\]:443\s+Route\s+3\b/)
  t.regex(l, /^TCP {2}10\.0\.0\.3:443 rr persistent 600 mask 255\.255\.255\.0/m)
})

test('a destination deleted with ipvsadm behind lvsd’s back is restored; an unowned service is untouched', async (t) => {
  const s = await stepOf<Report>(t, 'repair')
  t.is(s.value.del, 0)
  t.deepEqual(s.value.add, [0, 0])
  t.deepEqual(s.value.ops, ['add-dest tcp/10.0.0.3/80 10.0.0.8:80'])
  t.regex(s.value.unowned, /TCP {2}10\.0\.0\.4:80 rr[\s\S]*-> 10\.0\.0\.9:80\s+Route/)
  const owned = (x: string) => blocks(x).filter((b) => !b.startsWith('TCP  10.0.0.4:80'))
  t.deepEqual(owned(s.value.after), owned(s.value.before))
})

test('after one read, the reconciler changes a weight on the real kernel with exactly one request (SET_DEST), as ipvsadm -Ln shows', async (t) => {
  const s = await stepOf<Report>(t, 'weightChange')
  t.like(s.value.first, { ops: 0, read: true })
  t.is(s.value.services, 6, 'the five of the table and the unowned one')
  t.is(s.value.first.dumps, 1 + 6, 'GET_SERVICE and one GET_DEST per service of the namespace')
  t.deepEqual(s.value.change, { ops: 1, failed: 0, read: false, requests: 1 })
  t.deepEqual(s.value.changeCalls, ['editDest'])
  t.is(s.value.changeRequests, 1)
  t.regex(s.value.listed, /-> 10\.0\.0\.8:80\s+Route\s+7\b/)
  t.like(s.value.check, { ops: 0, read: true }, 'the drift pass finds the kernel as the view says')
  t.deepEqual(s.value.back, { ops: 1, read: false })
  t.deepEqual(s.value.backCalls, ['editDest'])
  t.regex(s.value.after, /-> 10\.0\.0\.8:80\s+Route\s+1\b/)
})

test('mh: destinations added out of order are re-added so the list matches a director that added them in order', async (t) => {
  const s = await stepOf<Report>(t, 'mhOrder')
  t.log(`ops: ${s.value.ops.join(', ')}; before ${s.value.before}; after ${s.value.mine}; ref ${s.value.ref}`)
  // ipvsadm added .9, .7, .8 here and .7, .8, .9 in "ref": the kernel lists newest first
  t.deepEqual(s.value.before, ['0A000008:0050', '0A000007:0050', '0A000009:0050'])
  t.deepEqual(s.value.ref, ['0A000009:0050', '0A000008:0050', '0A000007:0050'])
  t.deepEqual(s.value.ops, [
    'del-dest tcp/10.0.0.5/80 10.0.0.9:80 reorder',
    'add-dest tcp/10.0.0.5/80 10.0.0.9:80 reorder',
  ])
  t.true(s.value.statuses.every((x: string) => x === 'ok'))
  t.deepEqual(s.value.mine, s.value.ref)
  t.deepEqual(s.value.dump, ['10.0.0.9', '10.0.0.8', '10.0.0.7'])
  t.deepEqual(s.value.again, [])
})

test('a master sync daemon starts, lists as ipvsadm shows it, and stops', async (t) => {
  const s = await stepOf<Report>(t, 'daemon')
  t.like(s.value.listed[0], { state: 'master', ifname: 'd0', syncId: 51 })
  t.regex(s.value.shown, /master sync daemon \(mcast=d0, syncid=51/)
  t.deepEqual(s.value.after, [])
})

test('kernel refusals carry the command and errno name', async (t) => {
  const s = await stepOf<Report>(t, 'errors')
  t.like(s.value.unknownScheduler, { command: 'NEW_SERVICE', code: 'ENOENT' })
  t.like(s.value.duplicateService, { command: 'NEW_SERVICE', code: 'EEXIST' })
  t.like(s.value.destOfMissingService, { command: 'NEW_DEST', code: 'ESRCH' })
  t.like(s.value.delMissingDest, { command: 'DEL_DEST', code: 'ENOENT' })
})
