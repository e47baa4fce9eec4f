// Health checks across namespaces: a prober namespace checks real responders in a server namespace.
// Server death, dropped packets, slow and wrong answers, flapping, a hanging exec, ICMP, interface binding,
// DNS, TLS with a self-signed certificate and an SMTP banner.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { Lab, waitFor } from '../helpers/netns.js'
import { type AgentEvent, type RunningAgent, runAgent, startAgent } from './agents/addon-harness.js'

const lab = new Lab('hc')
const dir = mkdtempSync(join(tmpdir(), 'lvsd-health-netns-'))
const RS = '10.62.0.2'
const RS6 = 'fd00:62::2'
// by path: under npx, node_modules/.bin/nft (@vercel/nft, a file tracer) shadows nftables' nft
const NFT = '/usr/sbin/nft'

test.before(() => {
  lab.addPair(
    { name: 'p', ipv4: '10.62.0.1/24', ipv6: 'fd00:62::1/64' },
    { name: 's', ipv4: `${RS}/24`, ipv6: `${RS6}/64` },
  )
})
test.after.always(() => {
  lab.dispose()
  rmSync(dir, { recursive: true, force: true })
})

/** An HTTP responder in the server namespace, steered by its mode file. */
async function httpServer(
  port: number,
  mode = 'ok',
): Promise<{ agent: RunningAgent; setMode: (m: string) => void; kill: () => void }> {
  const file = join(dir, `mode-${port}`)
  writeFileSync(file, mode)
  const agent = startAgent(lab, 's', 'health-server', ['::', String(port), file])
  const { pid } = await agent.next('ready')
  return { agent, setMode: (m) => writeFileSync(file, m), kill: () => process.kill(Number(pid), 'SIGKILL') }
}

function once(check: object, target: object, timeoutMs: number): AgentEvent {
  const [r] = runAgent(lab, 'p', 'health-probe', [
    'once',
    JSON.stringify(check),
    JSON.stringify(target),
    String(timeoutMs),
  ])
  if (!r) throw new Error('no result from the probe agent')
  return r
}

const policy = (p: object = {}) => ({
  rise: 2,
  fall: 3,
  retry: 0,
  retryDelayMs: 100,
  initial: 'down',
  weight: 10,
  slowStartMs: 0,
  ...p,
})
const httpSpec = (p: object = {}) => ({
  id: 'http',
  kind: 'http',
  opts: { path: '/' },
  intervalMs: 200,
  timeoutMs: 150,
  ...p,
})

function watch(servers: object[]): RunningAgent {
  return startAgent(lab, 'p', 'health-probe', ['watch', JSON.stringify(servers)])
}

/** The server's results and transitions, in the order the reducer saw them. */
function timeline(a: RunningAgent, server: string): AgentEvent[] {
  return a.events.filter((e) => (e.event === 'result' || e.event === 'transition') && e.server === server)
}

async function waitTransition(
  a: RunningAgent,
  server: string,
  kind: string,
  after = 0,
  ms = 10_000,
): Promise<AgentEvent> {
  try {
    return (await waitFor(
      () =>
        timeline(a, server)
          .slice(after)
          .find((e) => e.event === 'transition' && e.kind === kind),
      ms,
    )) as AgentEvent
  } catch (e) {
    throw new Error(`no ${kind} of ${server} after #${after}: ${JSON.stringify(timeline(a, server))} ${a.stderr()}`, {
      cause: e,
    })
  }
}

test.serial(
  'a killed server goes down after exactly `fall` failed checks, and came up after exactly `rise`',
  async (t) => {
    const srv = await httpServer(80)
    const w = watch([
      { id: 'web', target: { addr: RS, port: 80 }, checks: [httpSpec()], policy: policy({ rise: 2, fall: 3 }) },
    ])
    await waitTransition(w, 'web', 'up')
    const start = timeline(w, 'web')
    t.deepEqual(
      start.slice(0, 4).map((e) => (e.event === 'result' ? e.ok : e.kind)),
      ['down', true, true, 'up'],
      'initial down (alpha), then up on the second pass',
    )
    srv.kill()
    await waitTransition(w, 'web', 'down', 4)
    const tl = timeline(w, 'web')
    const downAt = tl.findIndex((e, i) => i >= 4 && e.event === 'transition' && e.kind === 'down')
    const before = tl
      .slice(0, downAt)
      .filter((e) => e.event === 'result')
      .slice(-4)
    t.deepEqual(
      before.map((e) => e.ok),
      [true, false, false, false],
      'three failures, preceded by a pass',
    )
    t.true(
      before.slice(1).every((e) => e.code === 'refused'),
      JSON.stringify(before),
    )
  },
)

test.serial('packets dropped by nftables fail as timeouts at the check timeout', async (t) => {
  await httpServer(81)
  const w = watch([
    {
      id: 'drop',
      target: { addr: RS, port: 81 },
      checks: [httpSpec({ timeoutMs: 150 })],
      policy: policy({ rise: 1, fall: 2 }),
    },
  ])
  await waitTransition(w, 'drop', 'up')
  lab.exec('s', NFT, ['add', 'table', 'inet', 'hc'])
  lab.exec('s', NFT, ['add', 'chain', 'inet', 'hc', 'c', '{ type filter hook input priority 0; }'])
  lab.exec('s', NFT, ['add', 'rule', 'inet', 'hc', 'c', 'tcp', 'dport', '81', 'drop'])
  try {
    const downAfter = timeline(w, 'drop').length
    await waitTransition(w, 'drop', 'down', downAfter)
    const tl = timeline(w, 'drop')
    const downAt = tl.findIndex((e, i) => i >= downAfter && e.event === 'transition' && e.kind === 'down')
    const fails = tl.slice(downAt - 2, downAt)
    t.deepEqual(
      fails.map((e) => [e.ok, e.code]),
      [
        [false, 'timeout'],
        [false, 'timeout'],
      ],
    )
    for (const f of fails) t.true(Number(f.ms) >= 145 && Number(f.ms) < 400, `ms ${f.ms}`)
  } finally {
    lab.exec('s', NFT, ['delete', 'table', 'inet', 'hc'])
  }
})

test.serial('flapping answers: rise and fall are counted exactly', async (t) => {
  // o = 200, x = 503; rise 2, fall 2, starting up:
  // results 1..12 = o o x o x x o x x x o o → down after #6, up after #12
  await httpServer(82, 'pattern:ooxoxxoxxxoo')
  const w = watch([
    {
      id: 'flap',
      target: { addr: RS, port: 82 },
      checks: [httpSpec({ intervalMs: 150, timeoutMs: 120 })],
      policy: policy({ rise: 2, fall: 2, initial: 'up' }),
    },
  ])
  await waitFor(() => timeline(w, 'flap').filter((e) => e.event === 'result').length >= 14, 15_000)
  let n = 0
  const marks: string[] = []
  for (const e of timeline(w, 'flap')) {
    if (e.event === 'result') n++
    else marks.push(`${e.kind}@${n}`)
  }
  t.deepEqual(marks.slice(0, 3), ['up@0', 'down@6', 'up@12'])
})

test.serial('slow answers past the timeout, a wrong status and a wrong body fail with their codes', async (t) => {
  const srv = await httpServer(83, 'slow')
  const target = { addr: RS, port: 83 }
  const slow = once({ kind: 'http', opts: {} }, target, 300)
  t.is(slow.code, 'timeout')
  t.true(Number(slow.ms) >= 295 && Number(slow.ms) < 1000, `ms ${slow.ms}`)
  srv.setMode('503')
  t.is(once({ kind: 'http', opts: {} }, target, 1000).code, 'status')
  srv.setMode('badbody')
  t.is(once({ kind: 'http', opts: { bodyRegex: '^healthy$' } }, target, 1000).code, 'body')
  srv.setMode('ok')
  t.true(once({ kind: 'http', opts: { bodyRegex: '^healthy$' } }, target, 1000).ok)
})

test.serial('a hanging exec check is killed at its timeout, with the processes it started', async (t) => {
  const pidFile = join(dir, 'exec.pid')
  const r = once(
    { kind: 'exec', opts: { argv: ['/bin/sh', '-c', `sleep 60 & echo $! > ${pidFile}; wait`] } },
    { addr: RS, port: 80 },
    400,
  )
  t.is(r.code, 'timeout')
  t.true(Number(r.ms) < 1500, `ms ${r.ms}`)
  const pid = Number(readFileSync(pidFile, 'utf8'))
  const gone = () => {
    try {
      return /\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
    } catch {
      return true
    }
  }
  t.true(await waitFor(gone, 3000), `sleep ${pid} is gone`)
})

test.serial('ICMP echo: answered by a namespace address over IPv4 and IPv6, not by an absent one', (t) => {
  const v4 = once({ kind: 'icmp', opts: {} }, { addr: RS, port: 0 }, 1000)
  t.true(v4.ok, String(v4.detail))
  // on a fresh link the first neighbour solicitation can go unanswered and is retried after the
  // 1 s RetransTimer (RFC 4861 §10), so the first IPv6 probe gets a longer deadline
  const v6 = once({ kind: 'icmp', opts: {} }, { addr: RS6, port: 0 }, 3000)
  t.true(v6.ok, String(v6.detail))
  const absent = once({ kind: 'icmp', opts: {} }, { addr: '10.62.0.99', port: 0 }, 800)
  t.false(absent.ok)
  t.true(absent.code === 'timeout' || absent.code === 'unreachable', String(absent.code))
})

test.serial('UDP to a closed port in the server namespace fails as refused', (t) => {
  const r = once({ kind: 'udp', opts: { payload: [1, 2, 3] } }, { addr: RS, port: 9999 }, 1000)
  t.is(r.code, 'refused')
})

test.serial('interface binding: through eth0 the server answers, through lo it cannot be reached', async (t) => {
  await httpServer(84)
  t.true(once({ kind: 'tcp', opts: {} }, { addr: RS, port: 84, bindInterface: 'eth0' }, 1000).ok)
  t.true(
    once({ kind: 'tcp', opts: {} }, { addr: RS, port: 84, bindInterface: 'eth0', sourceAddr: '10.62.0.1' }, 1000).ok,
  )
  t.true(once({ kind: 'icmp', opts: {} }, { addr: RS, port: 0, bindInterface: 'eth0' }, 1000).ok)
  const viaLo = once({ kind: 'tcp', opts: {} }, { addr: RS, port: 84, bindInterface: 'lo' }, 500)
  t.false(viaLo.ok)
})

test.serial('ICMP through an unprivileged ping socket, once ping_group_range lets the group in', (t) => {
  lab.sysctl('p', 'net.ipv4.ping_group_range', '0 2147483647')
  const v4 = once({ kind: 'icmp', opts: { socket: 'ping' } }, { addr: RS, port: 0 }, 1000)
  t.true(v4.ok, String(v4.detail))
  t.regex(String(v4.detail), /ping socket/)
  const v6 = once({ kind: 'icmp', opts: { socket: 'ping' } }, { addr: RS6, port: 0 }, 3000)
  t.true(v6.ok, String(v6.detail))
  t.false(once({ kind: 'icmp', opts: { socket: 'ping' } }, { addr: '10.62.0.98', port: 0 }, 500).ok)
})

test.serial('IPv6 HTTP, and a UDP reply through a socket bound to eth0', async (t) => {
  await httpServer(85)
  const h = once({ kind: 'http', opts: { bodyRegex: '^healthy$' } }, { addr: RS6, port: 85 }, 3000)
  t.true(h.ok, String(h.detail))
  const u = once(
    { kind: 'udp', opts: { payload: [104, 105], replyRegex: '^PONG hi$' } },
    { addr: RS, port: 85, bindInterface: 'eth0' },
    1000,
  )
  t.true(u.ok, String(u.detail))
  const wrong = once(
    { kind: 'udp', opts: { payload: [104, 105], replyRegex: '^PANG' } },
    { addr: RS, port: 85, bindInterface: 'eth0' },
    1000,
  )
  t.is(wrong.code, 'body')
})

/** A DNS responder on port 53 of the server namespace, steered by its mode file. */
async function dnsServer(mode = 'ok'): Promise<{ setMode: (m: string) => void; kill: () => void }> {
  const file = join(dir, 'mode-dns')
  writeFileSync(file, mode)
  const agent = startAgent(lab, 's', 'health-dns-server', ['::', '53', file])
  const { pid } = await agent.next('ready')
  return { setMode: (m) => writeFileSync(file, m), kill: () => process.kill(Number(pid), 'SIGKILL') }
}

const dnsA = (o: object = {}) => ({ kind: 'dns', opts: { type: 'A', name: 'www.example.test', ...o } })

test.serial(
  'DNS: the expected rcode and answer pass; a wrong rcode, a wrong answer, silence, a slow reply and no responder fail',
  async (t) => {
    const dns = await dnsServer('ok')
    const target = { addr: RS, port: 53 }
    const ok = once(dnsA({ answer: '10.62.0.53' }), target, 1000)
    t.true(ok.ok, String(ok.detail))
    dns.setMode('servfail')
    t.is(once(dnsA(), target, 1000).code, 'rcode')
    dns.setMode('nxdomain')
    t.is(once(dnsA(), target, 1000).code, 'rcode')
    t.true(once(dnsA({ rcode: 3 }), target, 1000).ok, 'NXDOMAIN passes when it is the expected rcode')
    dns.setMode('wrong')
    t.is(once(dnsA({ answer: '10.62.0.53' }), target, 1000).code, 'answer')
    t.true(once(dnsA(), target, 1000).ok, 'without an expected answer any NOERROR reply passes')
    dns.setMode('silent')
    const silent = once(dnsA(), target, 400)
    t.is(silent.code, 'timeout')
    t.true(Number(silent.ms) >= 395 && Number(silent.ms) < 1000, `ms ${silent.ms}`)
    dns.setMode('slow')
    const slow = once(dnsA({ answer: '10.62.0.53' }), target, 500)
    t.is(slow.code, 'timeout')
    t.true(Number(slow.ms) >= 495 && Number(slow.ms) < 1200, `ms ${slow.ms}`)
    dns.kill()
    // no responder: the kernel answers with ICMP port unreachable, seen on the connected socket
    const none = once(dnsA(), target, 1000)
    t.is(none.code, 'refused')
    t.true(Number(none.ms) < 500, `ms ${none.ms}`)
  },
)

test.serial('DNS flapping between NOERROR and SERVFAIL: rise and fall are counted exactly', async (t) => {
  // o = NOERROR with the answer, x = SERVFAIL; rise 3, fall 2, starting down (alpha):
  // results 1..13 = o o o x o x x o o x o o o → up after #3, down after #7, up after #13
  await dnsServer('pattern:oooxoxxooxooo')
  const w = watch([
    {
      id: 'ns',
      target: { addr: RS, port: 53 },
      checks: [{ id: 'dns', ...dnsA({ answer: '10.62.0.53' }), intervalMs: 150, timeoutMs: 120 }],
      policy: policy({ rise: 3, fall: 2, initial: 'down' }),
    },
  ])
  await waitFor(() => timeline(w, 'ns').filter((e) => e.event === 'result').length >= 15, 15_000)
  let n = 0
  const marks: string[] = []
  for (const e of timeline(w, 'ns')) {
    if (e.event === 'result') n++
    else marks.push(`${e.kind}@${n}`)
  }
  t.deepEqual(marks.slice(0, 4), ['down@0', 'up@3', 'down@7', 'up@13'])
  const codes = timeline(w, 'ns')
    .filter((e) => e.event === 'result' && !e.ok)
    .map((e) => e.code)
  t.true(codes.length >= 4 && codes.every((c) => c === 'rcode'), JSON.stringify(codes))
})

test.serial(
  'HTTPS with a self-signed certificate: passes unverified, fails verified, passes with it as CA',
  async (t) => {
    const key = join(dir, 'tls-key.pem')
    const cert = join(dir, 'tls-cert.pem')
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-keyout',
        key,
        '-out',
        cert,
        '-subj',
        '/CN=rs.example.test',
        '-addext',
        'subjectAltName=DNS:rs.example.test',
      ],
      { stdio: 'ignore' },
    )
    const file = join(dir, 'mode-443')
    writeFileSync(file, 'ok')
    await startAgent(lab, 's', 'health-server', ['::', '443', file, cert, key]).next('ready')
    const target = { addr: RS, port: 443 }
    const https = (o: object) => ({ kind: 'http', opts: { tls: true, bodyRegex: '^healthy$', ...o } })
    const plain = once(https({}), target, 2000)
    t.true(plain.ok, String(plain.detail))
    t.is(once(https({ verify: true, sni: 'rs.example.test' }), target, 2000).code, 'tls')
    const trusted = once(https({ verify: true, sni: 'rs.example.test', caFile: cert }), target, 2000)
    t.true(trusted.ok, String(trusted.detail))
    t.is(once(https({ verify: true, sni: 'other.example.test', caFile: cert }), target, 2000).code, 'tls')
    writeFileSync(file, '503')
    t.is(once(https({}), target, 2000).code, 'status')
    // plain HTTP to the TLS port is not a pass
    t.false(once({ kind: 'http', opts: {} }, target, 1000).ok)
  },
)

test.serial('SMTP: a 220 banner and 250 to HELO pass; a 554 banner and a mute server fail', async (t) => {
  const ok = startAgent(lab, 's', 'health-smtp-server', ['::', '25', 'ok'])
  await ok.next('ready')
  const r = once({ kind: 'smtp', opts: { heloName: 'lvsd.test' } }, { addr: RS, port: 25 }, 1000)
  t.true(r.ok, String(r.detail))
  await waitFor(() => ok.events.find((e) => e.event === 'command' && e.line === 'HELO lvsd.test'), 3000)
  await startAgent(lab, 's', 'health-smtp-server', ['::', '26', 'busy']).next('ready')
  t.is(once({ kind: 'smtp', opts: {} }, { addr: RS, port: 26 }, 1000).code, 'protocol')
  await startAgent(lab, 's', 'health-smtp-server', ['::', '27', 'mute']).next('ready')
  const mute = once({ kind: 'smtp', opts: {} }, { addr: RS, port: 27 }, 400)
  t.is(mute.code, 'timeout')
})

test.serial(
  'TCP through the scheduler: nftables drops time out and a killed server is refused, each down after exactly `fall`',
  async (t) => {
    const srv = await httpServer(86)
    const tcpSpec = { id: 'tcp', kind: 'tcp', opts: {}, intervalMs: 150, timeoutMs: 100 }
    const w = watch([
      { id: 'tcp', target: { addr: RS, port: 86 }, checks: [tcpSpec], policy: policy({ rise: 2, fall: 3 }) },
    ])
    await waitTransition(w, 'tcp', 'up')
    const downs = async (after: number) => {
      await waitTransition(w, 'tcp', 'down', after)
      const tl = timeline(w, 'tcp')
      const at = tl.findIndex((e, i) => i >= after && e.event === 'transition' && e.kind === 'down')
      return tl
        .slice(0, at)
        .filter((e) => e.event === 'result')
        .slice(-4)
    }
    lab.exec('s', NFT, ['add', 'table', 'inet', 'hct'])
    lab.exec('s', NFT, ['add', 'chain', 'inet', 'hct', 'c', '{ type filter hook input priority 0; }'])
    lab.exec('s', NFT, ['add', 'rule', 'inet', 'hct', 'c', 'tcp', 'dport', '86', 'drop'])
    let dropped: AgentEvent[]
    try {
      dropped = await downs(timeline(w, 'tcp').length)
    } finally {
      lab.exec('s', NFT, ['delete', 'table', 'inet', 'hct'])
    }
    t.deepEqual(
      dropped.map((e) => [e.ok, e.code]),
      [
        [true, undefined],
        [false, 'timeout'],
        [false, 'timeout'],
        [false, 'timeout'],
      ],
    )
    for (const f of dropped.slice(1)) t.true(Number(f.ms) >= 95 && Number(f.ms) < 300, `ms ${f.ms}`)
    // the probes cancelled at their timeouts left nothing stuck: the check comes back after `rise`
    const upAfter = timeline(w, 'tcp').length
    await waitTransition(w, 'tcp', 'up', upAfter)
    const tl = timeline(w, 'tcp')
    const upAt = tl.findIndex((e, i) => i >= upAfter && e.event === 'transition' && e.kind === 'up')
    t.deepEqual(
      tl
        .slice(0, upAt)
        .filter((e) => e.event === 'result')
        .slice(-3)
        .map((e) => e.ok),
      [false, true, true],
    )
    srv.kill()
    const refused = await downs(timeline(w, 'tcp').length)
    t.deepEqual(
      refused.map((e) => [e.ok, e.code]),
      [
        [true, undefined],
        [false, 'refused'],
        [false, 'refused'],
        [false, 'refused'],
      ],
    )
  },
)
