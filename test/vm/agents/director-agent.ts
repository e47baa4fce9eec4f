// Guest-side agent of director.test.ts: two `lvsd run` daemons (lb01, lb02) from the conf/ examples drive
// a real LVS-DR lab in the VM (namespaces built by the test's script); reports what the issue asks of the
// director: the seed table programmed, a killed real server out and back, a one-weight reload, a refused
// reload, lvsctl status, /metrics, and a clean SIGTERM. Usage (in the VM, root namespace):
//   node dist/test/vm/agents/director-agent.js
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { report } from '../../../lab/vm/guest.js'

const DIR = '/tmp/lvsd-director'
const PEER = 'dist/test/vm/agents/ipvs-dr-peer.js'
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function sh(ns: string, cmd: string, args: string[]): { status: number | null; out: string } {
  const r = spawnSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8' })
  return { status: r.status, out: (r.stdout ?? '') + (r.stderr ?? '') }
}

async function waitFor<T>(what: () => T | undefined | false, ms: number, every = 100): Promise<T | null> {
  const t0 = Date.now()
  while (Date.now() - t0 < ms) {
    const v = what()
    if (v !== undefined && v !== false) return v
    await sleep(every)
  }
  return null
}

// biome-ignore lint/suspicious/noExplicitAny: log lines are pino JSON objects
type Line = Record<string, any>

class Daemon {
  readonly lines: Line[] = []
  readonly proc: ChildProcess
  readonly exited: Promise<number | null>
  constructor(
    readonly name: string,
    readonly config: string,
  ) {
    this.proc = spawn(
      'ip',
      ['netns', 'exec', name, 'node', 'bin/lvsd.js', 'run', '-c', config, '--log-format', 'json'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    for (const stream of [this.proc.stdout, this.proc.stderr])
      if (stream)
        createInterface({ input: stream }).on('line', (l) => {
          try {
            this.lines.push(JSON.parse(l) as Line)
          } catch {
            this.lines.push({ msg: l, raw: true })
          }
        })
    this.exited = new Promise((r) => this.proc.once('exit', (code) => r(code)))
  }
  find(pred: (l: Line) => boolean, from = 0): Line | undefined {
    return this.lines.slice(from).find(pred)
  }
  get socket(): string {
    return `${DIR}/${this.name}.sock`
  }
  lvsctl(args: string[]): { status: number | null; out: string } {
    return sh(this.name, 'node', ['bin/lvsctl.js', '-s', this.socket, ...args])
  }
}

/** conf/<name>.yaml (metrics on 127.0.0.1:9478) with the control socket in the lab's directory and `edit` applied. */
function writeConfig(name: string, edit: (text: string) => string = (t) => t): string {
  const text = readFileSync(`conf/${name}.yaml`, 'utf8')
  const path = `${DIR}/${name}.yaml`
  writeFileSync(path, `${edit(text)}\ncontrol: { socket: ${DIR}/${name}.sock }\n`)
  return path
}

function httpGet(ns: string, url: string): string {
  return sh(ns, 'node', [
    '-e',
    `fetch(${JSON.stringify(url)}).then(r=>r.text()).then(t=>process.stdout.write(t),e=>{console.error(e);process.exit(1)})`,
  ]).out
}

/** One GET through the VIP from the client namespace: the answering server's name, or '' on failure. */
function viaVip(): string {
  return sh('client', 'node', [PEER, 'burst', '1']).out
}

function events(d: Daemon, after: number): Line[] {
  const r = d.lvsctl(['events', '--no-follow', '--after', String(after), '--json'])
  return r.out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line)
}

const servers: Record<string, ChildProcess> = {}
function startServer(name: string): void {
  servers[name] = spawn('ip', ['netns', 'exec', name, 'node', PEER, 'server', name], { stdio: 'ignore' })
}

async function main(): Promise<void> {
  mkdirSync(DIR, { recursive: true })
  startServer('web01')
  startServer('web02')
  const lb01 = new Daemon('lb01', writeConfig('lb01'))
  const lb02 = new Daemon('lb02', writeConfig('lb02'))
  const out: Record<string, unknown> = {}
  const t0 = Date.now()
  const master = await waitFor(() => lb01.find((l) => l.vrrp === 'web' && l.to === 'MASTER'), 90_000)
  out.masterAfterMs = master ? Date.now() - t0 : null
  // both servers up (http checks: rise 2 × 2 s)
  const up = await waitFor(
    () => {
      const s = lb01.lvsctl(['status', '--json'])
      if (s.status !== 0) return undefined
      const st = JSON.parse(s.out) as Line
      return st.services[0].servers.every((r: Line) => r.health === 'up') ? st : undefined
    },
    60_000,
    500,
  )
  out.upAfterMs = up ? Date.now() - t0 : null
  out.ipvsadm = { lb01: sh('lb01', 'ipvsadm', ['-Ln']).out, lb02: sh('lb02', 'ipvsadm', ['-Ln']).out }
  out.timeouts = sh('lb01', 'ipvsadm', ['-L', '--timeout']).out
  out.daemons = {
    lb01: sh('lb01', 'ipvsadm', ['-L', '--daemon']).out,
    lb02: sh('lb02', 'ipvsadm', ['-L', '--daemon']).out,
  }
  const answers: Record<string, number> = {}
  for (let i = 0; i < 12; i++) {
    const b = JSON.parse(viaVip() || '{}') as { counts?: Record<string, number> }
    for (const [k, v] of Object.entries(b.counts ?? {})) answers[k] = (answers[k] ?? 0) + v
  }
  out.answers = answers

  // a real server killed: out of rotation within fall × interval (+ timeout), back after rise
  const inTable = (addr: string) => sh('lb01', 'ipvsadm', ['-Ln']).out.includes(addr)
  servers.web02?.kill('SIGKILL')
  const killedAt = Date.now()
  const outMs = await waitFor(() => (!inTable('10.0.0.8:80') ? Date.now() - killedAt : undefined), 30_000, 50)
  startServer('web02')
  const restartedAt = Date.now()
  const backMs = await waitFor(() => (inTable('10.0.0.8:80') ? Date.now() - restartedAt : undefined), 30_000, 50)
  out.health = {
    outMs,
    backMs,
    down: lb01.find((l) => l.service === 'web' && l.server === '10.0.0.8:80' && l.up === false),
    up: lb01.find((l) => l.service === 'web' && l.server === '10.0.0.8:80' && l.up === true && l.reason),
  }

  // settle, then SIGHUP with one changed weight: exactly one operation, no VRRP transition
  await sleep(2000)
  const last = events(lb01, 0).reduce((m, e) => Math.max(m, e.seq as number), 0)
  const linesBefore = lb01.lines.length
  writeConfig('lb01', (t) =>
    t.replace('{ address: 10.0.0.7, port: 80, weight: 1 }', '{ address: 10.0.0.7, port: 80, weight: 3 }'),
  )
  lb01.proc.kill('SIGHUP')
  const reloaded = await waitFor(() => lb01.find((l) => String(l.msg).startsWith('reloaded '), linesBefore), 30_000)
  await sleep(500)
  const after = events(lb01, last)
  out.reload = {
    reloaded,
    events: after.map((e) => ({ name: e.name, data: e.data })),
    pass: lb01.find((l) => l.msg === 'IPVS pass' && l.cause === 'config', linesBefore),
    weight: sh('lb01', 'ipvsadm', ['-Ln']).out,
  }

  // SIGHUP with an invalid file: refused with file:line:col, the old configuration keeps serving
  const hashBefore = (JSON.parse(lb01.lvsctl(['status', '--json']).out) as Line).config.hash
  const linesBefore2 = lb01.lines.length
  writeConfig('lb01', (t) => t.replace('priority: 150', 'priority: 1500'))
  lb01.proc.kill('SIGHUP')
  const refused = await waitFor(() => {
    const lines = lb01.lines.slice(linesBefore2).filter((l) => String(l.msg).startsWith('reload refused'))
    return lines.length > 0 ? lines : undefined
  }, 30_000)
  await sleep(500)
  const st = JSON.parse(lb01.lvsctl(['status', '--json']).out) as Line
  out.refused = {
    lines: refused?.map((l) => l.msg),
    hashBefore,
    hashAfter: st.config.hash,
    state: st.instances[0].state,
    table: sh('lb01', 'ipvsadm', ['-Ln']).out,
    serving: viaVip(),
  }

  // what the README shows
  out.status = lb01.lvsctl(['status']).out
  out.metrics = httpGet('lb01', 'http://127.0.0.1:9478/metrics')

  // SIGTERM → lb02 takes over; lb01's table is kept (on_shutdown: keep)
  const lb02From = lb02.lines.length
  lb01.proc.kill('SIGTERM')
  const code = await Promise.race([lb01.exited, sleep(30_000).then(() => 'timeout')])
  const takeover = await waitFor(() => lb02.find((l) => l.vrrp === 'web' && l.to === 'MASTER', lb02From), 30_000)
  out.stop = {
    code,
    stopped: lb01.find((l) => l.msg === 'stopped') !== undefined,
    kept: sh('lb01', 'ipvsadm', ['-Ln']).out,
    lb02: takeover ? { why: takeover.why } : null,
    syncLb02: sh('lb02', 'ipvsadm', ['-L', '--daemon']).out,
    serving: viaVip(),
  }
  lb02.proc.kill('SIGTERM')
  await Promise.race([lb02.exited, sleep(30_000)])
  for (const p of Object.values(servers)) p.kill('SIGKILL')
  out.logs = {
    lb01: lb01.lines.filter((l) => l.level >= 40).map((l) => l.msg),
    lb02: lb02.lines.filter((l) => l.level >= 40).map((l) => l.msg),
  }
  report(out)
}

main().catch((e) => {
  report({ fatal: String(e?.stack ?? e) })
  process.exitCode = 1
})
