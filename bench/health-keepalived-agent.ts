// VM guest agent (root, real IPVS): keepalived's TCP_CHECK (or HTTP_GET) and lvsd's prober check the
// same N real servers every second, one after the other in the same boot; each checker's CPU is read
// from /proc/<pid>/stat over the same window, and the SYNs the servers received are counted by
// nftables, so both are measured the same way. In http mode the servers are the C responder
// (bench/health-http-responder.c, built by the host side) and both check GET / for status 200.
//   node dist/bench/health-keepalived-agent.js <servers> <windowSec> [tcp|http] [responder path]
// Prints one report (lab/vm/guest.ts) with both results.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { report } from '../lab/vm/guest.js'
import { onLines } from '../test/helpers/lines.js'

const [servers = 300, windowSec = 20] = process.argv.slice(2, 4).map(Number)
const kind = process.argv[4] === 'http' ? 'http' : 'tcp'
const responder = process.argv[5]
// keepalived adds every destination to IPVS before checking; Node compiles its code: both need time in TCG
const WARM_MS = 15_000
const NFT = '/usr/sbin/nft'
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url))
const rsAddr = (i: number) => `10.21.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`
const sh = (cmd: string, args: string[], input?: string) =>
  execFileSync(cmd, args, { encoding: 'utf8', ...(input ? { input } : {}) })
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const TICK = Number(sh('getconf', ['CLK_TCK']).trim())

/** utime + stime of a process and its threads, in seconds (fields 14 and 15 of /proc/pid/stat). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(f[11]) + Number(f[12])) / TICK
}

function synCount(): number {
  const out = sh('ip', ['netns', 'exec', 'hk-s', NFT, '-j', 'list', 'counter', 'inet', 'hk', 'syn'])
  const j = JSON.parse(out) as { nftables: Array<{ counter?: { packets: number } }> }
  return j.nftables.find((x) => x.counter)?.counter?.packets ?? 0
}

/** CPU share of the given processes and SYNs/s at the servers over the window. */
async function measure(pids: () => number[]): Promise<{ cpuShare: number; checksPerSec: number; pids: number }> {
  const p = pids()
  const c0 = p.reduce((a, x) => a + cpuSeconds(x), 0)
  const s0 = synCount()
  const t0 = performance.now()
  await sleep(windowSec * 1000)
  const c1 = p.reduce((a, x) => a + cpuSeconds(x), 0)
  const s1 = synCount()
  const sec = (performance.now() - t0) / 1000
  return { cpuShare: (c1 - c0) / sec, checksPerSec: (s1 - s0) / sec, pids: p.length }
}

function waitLine(p: ChildProcess, re: RegExp, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${re} within ${ms} ms`)), ms)
    let buf = ''
    p.stdout?.setEncoding('utf8').on('data', (d: string) => {
      buf += d
      if (re.test(buf)) {
        clearTimeout(timer)
        resolve()
      }
    })
  })
}

function keepalivedConf(): string {
  const rs = Array.from(
    { length: servers },
    (_, i) =>
      `  real_server ${rsAddr(i)} 80 {\n    weight 1\n    ${
        kind === 'http' ? 'HTTP_GET {\n      url {\n        path /\n        status_code 200\n      }' : 'TCP_CHECK {'
      }\n      connect_timeout 1\n    }\n  }`,
  )
  return `global_defs {\n  router_id hk\n}\nvirtual_server 10.30.0.1 80 {\n  delay_loop 1\n  lb_algo rr\n  lb_kind DR\n  protocol TCP\n${rs.join('\n')}\n}\n`
}

const result: Record<string, unknown> = { servers, windowSec, kind, kernel: sh('uname', ['-r']).trim() }
try {
  sh('ip', ['netns', 'add', 'hk-d'])
  sh('ip', ['netns', 'add', 'hk-s'])
  sh('ip', ['link', 'add', 'hkd', 'netns', 'hk-d', 'type', 'veth', 'peer', 'name', 'hks', 'netns', 'hk-s'])
  const batch = [
    'link set lo up',
    'link set hks up',
    'addr add 10.20.0.254/24 dev hks',
    ...Array.from({ length: servers }, (_, i) => `addr add ${rsAddr(i)}/32 dev lo`),
  ]
  sh('ip', ['-n', 'hk-s', '-batch', '-'], `${batch.join('\n')}\n`)
  sh(
    'ip',
    ['-n', 'hk-d', '-batch', '-'],
    'link set lo up\nlink set hkd up\naddr add 10.20.0.1/24 dev hkd\nroute add 10.21.0.0/16 via 10.20.0.254\n',
  )
  sh(
    'ip',
    ['netns', 'exec', 'hk-s', NFT, '-f', '-'],
    'table inet hk {\n counter syn { }\n chain in {\n  type filter hook input priority 0;\n  tcp dport 80 tcp flags & (syn | ack) == syn counter name syn\n }\n}\n',
  )
  if (kind === 'http' && !responder) throw new Error('http mode needs the responder binary')
  const server = spawn(
    'ip',
    kind === 'http'
      ? ['netns', 'exec', 'hk-s', responder as string, String(servers), '80']
      : ['netns', 'exec', 'hk-s', process.execPath, here('./health-scale-server.js'), String(servers), '80', 'tcp'],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  await waitLine(server, /"ready"/, 120_000)

  // keepalived: checker process only (-C), in the foreground (-n), its own pid files
  mkdirSync('/tmp/hk', { recursive: true })
  writeFileSync('/tmp/hk/keepalived.conf', keepalivedConf())
  const ka = spawn(
    'ip',
    [
      'netns',
      'exec',
      'hk-d',
      'keepalived',
      '-n',
      '-C',
      '-f',
      '/tmp/hk/keepalived.conf',
      '-p',
      '/tmp/hk/ka.pid',
      '-c',
      '/tmp/hk/checkers.pid',
      '-r',
      '/tmp/hk/vrrp.pid',
    ],
    {
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  )
  await sleep(WARM_MS)
  const kaPids = () => [
    Number(readFileSync('/tmp/hk/ka.pid', 'utf8')),
    Number(readFileSync('/tmp/hk/checkers.pid', 'utf8')),
  ]
  const dests = sh('ip', ['netns', 'exec', 'hk-d', 'ipvsadm', '-Ln'])
    .split('\n')
    .filter((l) => l.includes('->') && !l.includes('RemoteAddress')).length
  const measured = await measure(kaPids)
  const destsAfter = sh('ip', ['netns', 'exec', 'hk-d', 'ipvsadm', '-Ln'])
    .split('\n')
    .filter((l) => l.includes('->') && !l.includes('RemoteAddress')).length
  // keepalived prints its version on stderr
  const version = spawnSync('keepalived', ['--version'], { encoding: 'utf8' }).stderr.split('\n')[0]
  result.keepalived = { ...measured, ipvsDestsBefore: dests, ipvsDestsAfter: destsAfter, version }
  ka.kill('SIGTERM')
  await new Promise((r) => ka.once('exit', r))

  // lvsd's prober: the same servers, through the real Scheduler (TCP checks, 1 s, timeout 500 ms)
  const lvsd = spawn(
    'ip',
    [
      'netns',
      'exec',
      'hk-d',
      process.execPath,
      here('./health-scale-probe.js'),
      String(servers),
      '1000',
      '500',
      '2',
      '256',
      kind === 'http' ? 'http-status' : 'tcp',
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  const samples: Array<Record<string, number>> = []
  onLines(lvsd.stdout, (line) => {
    if (line.includes('"sample"')) samples.push(JSON.parse(line))
  })
  await sleep(WARM_MS)
  const m = await measure(() => [lvsd.pid as number])
  const last = samples[samples.length - 1]
  result.lvsd = {
    ...m,
    rssMiB: (last?.rss ?? 0) / 2 ** 20,
    late: last?.late,
    missed: last?.missed,
    timeouts: last?.timeouts,
  }
  lvsd.kill('SIGTERM')
  server.kill('SIGTERM')
} catch (e) {
  result.fatal = String((e as Error).stack ?? e)
}
report(result)
process.exit(0)
