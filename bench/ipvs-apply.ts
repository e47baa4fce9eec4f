// IPVS apply bench (inside the lab VM, root): 2,284 services with 37,298 real servers (the size at which
// keepalived's reload crashed, issue #2318) programmed by lvsd's reconciler and by `ipvsadm --restore`,
// each in a fresh network namespace; then one weight change (lvsd: the diff must be exactly one op) and the
// teardown. Prints both times, their ratio and lvsd's memory for that table.
//   host: node dist/bench/ipvs-apply-vm.js          (boots the VM and runs `all`)
//   VM:   node dist/bench/ipvs-apply.js all [windows=1,64] [rounds=1]
//         node dist/bench/ipvs-apply.js lvsd WINDOW   (in a prepared namespace; prints one JSON line)
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { readTable } from '../src/ipvs/apply.js'
import { CMD } from '../src/ipvs/attrs.js'
import { describeDest, describeKey, IpvsClient } from '../src/ipvs/client.js'
import { encode, ipvsMessage } from '../src/ipvs/codec.js'
import { diff } from '../src/ipvs/diff.js'
import { serviceKeyToWire } from '../src/ipvs/domain.js'
import { defaultDest, defaultService, type ServiceState } from '../src/ipvs/model.js'
import { modprobe } from '../src/ipvs/modprobe.js'
import { Reconciler } from '../src/ipvs/reconciler.js'
import { parseAddr } from '../src/net/addr.js'
import { openNetlink } from '../src/net/netlink-transport.js'
import { NLM_F_DUMP } from '../src/net/nlmsg.js'
import { NETLINK_GENERIC } from '../src/sys/constants.js'

export const SERVICES = 2284
export const REAL_SERVERS = 37_298
const CHANGED = { service: 1000, dest: 5 }

const vip = (s: number) => `10.0.${s >> 8}.${s & 255}`
// real servers 172.16.0.2 … in a /16 the namespace routes through a dummy link (DR needs them routable)
const rip = (i: number) => `172.16.${(i + 2) >> 8}.${(i + 2) & 255}`

/** 16 or 17 real servers per service, 37,298 in all, weights 1–3. */
export function table(): ServiceState[] {
  const out: ServiceState[] = []
  let next = 0
  const extra = REAL_SERVERS - 16 * SERVICES // services that get a 17th
  for (let s = 0; s < SERVICES; s++) {
    const n = s < extra ? 17 : 16
    const dests = Array.from({ length: n }, (_, j) =>
      defaultDest(parseAddr(rip(next + j)), 80, 'droute', { weight: 1 + ((next + j) % 3) }),
    )
    next += n
    out.push({ service: defaultService({ protocol: 'tcp', addr: parseAddr(vip(s)), port: 80 }, 'wrr'), dests })
  }
  return out
}

/** The same table as `ipvsadm --restore` input. */
export function restoreText(t: readonly ServiceState[]): string {
  const lines: string[] = []
  for (const { service, dests } of t) {
    const k = describeKey(service.key).split(' ')[1]
    lines.push(`-A -t ${k} -s ${service.scheduler}`)
    for (const d of dests) lines.push(`-a -t ${k} -r ${describeDest(d)} -g -w ${d.weight}`)
  }
  return `${lines.join('\n')}\n`
}

function withChangedWeight(t: ServiceState[]): ServiceState[] {
  return t.map((s, i) =>
    i !== CHANGED.service
      ? s
      : { ...s, dests: s.dests.map((d, j) => (j === CHANGED.dest ? { ...d, weight: d.weight + 10 } : d)) },
  )
}

/**
 * The kernel's share of a drift pass: the service list and the 2,284 GET_DEST dumps on a socket of their own,
 * framed into netlink messages but not decoded (no IPVS attribute read, no diff). Returns ms and bytes.
 */
async function rawDump(familyId: number, services: readonly ServiceState[]): Promise<{ ms: number; bytes: number }> {
  const nl = openNetlink(NETLINK_GENERIC)
  try {
    let bytes = 0
    const t0 = performance.now()
    const list = await nl.request({ type: familyId, flags: NLM_F_DUMP, payload: encode(ipvsMessage(CMD.GET_SERVICE)) })
    for (const p of list) bytes += p.payload.length
    for (const { service } of services) {
      const payload = encode(ipvsMessage(CMD.GET_DEST, { service: serviceKeyToWire(service.key) }))
      for (const p of await nl.request({ type: familyId, flags: NLM_F_DUMP, payload })) bytes += p.payload.length
    }
    return { ms: performance.now() - t0, bytes }
  } finally {
    nl.close()
  }
}

/** Two rounds of: raw dumps, readTable (dumps + decode), diff alone, a drift pass, `ipvsadm -Ln`, all on one table. */
async function readSplit(c: IpvsClient, r: Reconciler, t: ServiceState[]) {
  const rounds: Record<string, number>[] = []
  for (let i = 0; i < 2; i++) {
    const raw = await rawDump(c.familyId, t)
    let t0 = performance.now()
    const read = await readTable(c)
    const readMs = performance.now() - t0
    t0 = performance.now()
    const ops = diff(t, read, r.owned).length
    const diffMs = performance.now() - t0
    t0 = performance.now()
    const check = await r.check()
    const checkMs = performance.now() - t0
    const ln = sh('ipvsadm', ['-Ln'])
    rounds.push({
      rawMs: raw.ms,
      rawBytes: raw.bytes,
      readMs,
      diffMs,
      diffOps: ops,
      checkMs,
      checkOps: check.ops,
      ipvsadmLnMs: ln.ms,
      ipvsadmLnLines: ln.out.split('\n').length,
    })
  }
  return rounds
}

const mb = (n: number) => Math.round((n / 1048576) * 10) / 10

/** In the namespace: apply, change one weight, tear down; one JSON line. */
async function lvsd(window: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc
  gc?.()
  const base = process.memoryUsage()
  const c = await IpvsClient.connect({ loadModule: modprobe() })
  const t = table()
  const r = new Reconciler(c, { intervalMs: 0, window })
  let t0 = performance.now()
  const first = await r.apply(t)
  const applyMs = performance.now() - t0
  gc?.()
  const mem = process.memoryUsage()
  const listed = (await c.listServices()).length
  t0 = performance.now()
  const read = await readTable(c)
  const readMs = performance.now() - t0
  t0 = performance.now()
  const check = await r.check()
  const checkMs = performance.now() - t0
  const split = await readSplit(c, r, t)
  t0 = performance.now()
  const change = await r.apply(withChangedWeight(t))
  const changeMs = performance.now() - t0
  t0 = performance.now()
  const down = await r.apply([])
  const teardownMs = performance.now() - t0
  const left = (await c.listServices()).length
  c.close()
  const out = {
    window,
    applyMs,
    applyOps: first.ops,
    applyFailed: first.failed,
    readMs,
    readServices: read.length,
    readErrors: [first, check, change, down].flatMap((p) => (p.readError ? [p.readError.message] : [])),
    listed,
    checkMs,
    checkOps: check.ops,
    split,
    changeMs,
    changeOps: change.ops,
    changeRequests: change.requests,
    changeRead: change.read,
    teardownMs,
    teardownOps: down.ops,
    left,
    rssMb: mb(mem.rss),
    heapUsedMb: mb(mem.heapUsed),
    heapForTableMb: mb(mem.heapUsed - base.heapUsed),
  }
  process.stdout.write(`${JSON.stringify(out)}\n`)
}

function sh(cmd: string, args: string[], input?: string) {
  const t0 = performance.now()
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, maxBuffer: 64 << 20 })
  return { ms: performance.now() - t0, status: r.status, out: r.stdout ?? '', err: r.stderr ?? '' }
}

function freshNs(name: string): void {
  sh('ip', ['netns', 'add', name])
  sh('ip', ['-n', name, 'link', 'set', 'lo', 'up'])
  sh('ip', ['-n', name, 'link', 'add', 'd0', 'type', 'dummy'])
  sh('ip', ['-n', name, 'link', 'set', 'd0', 'up'])
  sh('ip', ['-n', name, 'addr', 'add', '172.16.0.1/16', 'dev', 'd0'])
}

/** ipvsadm in a fresh namespace: -R of the whole table, -Ln, one -e, -C. */
function ipvsadmRun(ns: string, text: string, changed: { key: string; dest: string }) {
  freshNs(ns)
  const inNs = (args: string[], input?: string) => sh('ip', ['netns', 'exec', ns, 'ipvsadm', ...args], input)
  const restore = inNs(['-R'], text)
  const list = inNs(['-Ln'])
  const listed = list.out.split('\n').filter((l) => l.startsWith('TCP')).length
  const change = inNs(['-e', '-t', changed.key, '-r', changed.dest, '-g', '-w', '9'])
  const clear = inNs(['-C'])
  return {
    tool: 'ipvsadm',
    lines: text.split('\n').length - 1,
    restoreMs: restore.ms,
    restoreStatus: restore.status,
    restoreErr: restore.err.slice(0, 500),
    listed,
    listMs: list.ms,
    changeMs: change.ms,
    clearMs: clear.ms,
  }
}

/**
 * ipvsadm and lvsd take turns, `rounds` times, and ipvsadm runs once more at the end: the host's load moves
 * while the bench runs (other VMs share the two cores), so each lvsd apply is compared with the mean of the
 * ipvsadm -R runs just before and just after it.
 */
function all(windows: number[], rounds: number): void {
  sh('modprobe', ['ip_vs'])
  sh('modprobe', ['ip_vs_wrr'])
  const full = table()
  const text = restoreText(full)
  const changedDest = full[CHANGED.service]?.dests[CHANGED.dest] ?? full[0]?.dests[0]
  const changed = { key: `${vip(CHANGED.service)}:80`, dest: changedDest ? describeDest(changedDest) : '' }
  writeFileSync('/tmp/ipvs-restore.txt', text)
  const self = fileURLToPath(import.meta.url)
  const results: Record<string, unknown>[] = []
  const refs: { restoreMs: number }[] = []
  const lvsdRuns: { round: number; window: number; applyMs: number }[] = []
  let n = 0
  for (let round = 0; round < rounds; round++) {
    const ref = ipvsadmRun(`bi${round}`, text, changed)
    results.push({ round, ...ref })
    refs.push(ref)
    for (const w of windows) {
      const ns = `bl${n++}`
      freshNs(ns)
      // LVSD_BENCH_PROF=1: a V8 CPU profile of each lvsd run, returned through $LVSD_VM_OUT (see ipvs-apply-vm.ts)
      const prof =
        process.env.LVSD_BENCH_PROF && process.env.LVSD_VM_OUT
          ? [
              '--cpu-prof',
              `--cpu-prof-dir=${process.env.LVSD_VM_OUT}`,
              `--cpu-prof-name=lvsd-r${round}-w${w}.cpuprofile`,
            ]
          : []
      const r = sh('ip', ['netns', 'exec', ns, process.execPath, '--expose-gc', ...prof, self, 'lvsd', String(w)])
      const line = r.out.trim().split('\n').pop() ?? ''
      const x = {
        tool: 'lvsd',
        round,
        processMs: r.ms,
        ...(line.startsWith('{') ? JSON.parse(line) : { error: r.out + r.err }),
      }
      results.push(x)
      lvsdRuns.push(x)
    }
  }
  const last = ipvsadmRun(`bi${rounds}`, text, changed)
  results.push({ round: rounds, ...last })
  refs.push(last)
  const ratios: number[] = []
  for (const r of lvsdRuns) {
    const around = [refs[r.round], refs[r.round + 1]].map((x) => x?.restoreMs ?? Number.NaN) as [number, number]
    const ref = (around[0] + around[1]) / 2
    ratios.push(r.applyMs / ref)
    process.stdout.write(
      `round ${r.round} lvsd window ${r.window}: apply ${Math.round(r.applyMs)} ms, ipvsadm -R before/after ${around.map(Math.round).join(' / ')} ms, ratio lvsd/ipvsadm ${(r.applyMs / ref).toFixed(2)}\n`,
    )
  }
  const sorted = [...ratios].sort((a, b) => a - b)
  process.stdout.write(
    `ratios ${ratios.map((x) => x.toFixed(2)).join(' ')}; median ${sorted[sorted.length >> 1]?.toFixed(2)}\n`,
  )
  process.stdout.write(`RESULT ${JSON.stringify(results)}\n`)
}

const [mode = 'all', arg, roundsArg] = process.argv.slice(2)
// it makes namespaces and loads ip_vs: only inside the throw-away lab VM (runInVm sets LVSD_VM=1)
if (process.env.LVSD_VM !== '1') {
  process.stderr.write('ipvs-apply: run it in the lab VM: node dist/bench/ipvs-apply-vm.js\n')
  process.exitCode = 64
} else if (mode === 'lvsd') await lvsd(Number(arg ?? 64))
else all((arg ?? '1,64').split(',').map(Number), Number(roundsArg ?? 1))
