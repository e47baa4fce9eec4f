// Health checks against hostile real servers (issue 19): an exec check whose script leaves a child
// behind keeps its cadence (it froze forever), and a DNS server that answers with compression bombs,
// under wrong ids or its own, never stalls the checker's thread (it cost 0.5 s and 146 MiB per reply).
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { Lab, sh, waitFor } from '../helpers/netns.js'
import { runAgent, startAgent } from './agents/addon-harness.js'

const lab = new Lab('hh')
const dir = mkdtempSync(join(tmpdir(), 'lvsd-health-hostile-'))
const RS = '10.64.0.2'
const TAG = `lvsd-hostile-child-${process.pid}`

test.before(() => {
  lab.addPair({ name: 'p', ipv4: '10.64.0.1/24' }, { name: 's', ipv4: `${RS}/24` })
})
test.after.always(() => {
  lab.dispose()
  try {
    sh('pkill', ['-f', TAG])
  } catch {}
  rmSync(dir, { recursive: true, force: true })
})

test.serial('an exec check whose script leaves a child behind completes at its exit, every interval', async (t) => {
  const mode = join(dir, 'exec-mode')
  writeFileSync(mode, '0')
  const script = join(dir, 'leaves-child.sh')
  // the child inherits stdout/stderr: a checker that waits for the pipes to close waits 30 s
  writeFileSync(script, `#!/bin/bash\nexec -a ${TAG} sleep 30 &\nexit $(cat ${mode})\n`)
  chmodSync(script, 0o755)
  const servers = [
    {
      id: 'web/rs',
      target: { addr: RS, port: 80 },
      checks: [{ id: 'exec', kind: 'exec', opts: { argv: [script] }, intervalMs: 300, timeoutMs: 2000 }],
      policy: {
        rise: 1,
        fall: 2,
        retry: 0,
        retryDelayMs: 100,
        initial: 'up',
        weight: 1,
        slowStartMs: 0,
        inhibitOnFailure: false,
      },
    },
  ]
  const w = startAgent(lab, 'p', 'health-probe', ['watch', JSON.stringify(servers)])
  const results = () => w.events.filter((e) => e.event === 'result')
  await waitFor(() => results().length >= 3, 10_000)
  for (const r of results().slice(0, 3)) {
    t.true(r.ok, String(r.detail))
    t.true(Number(r.ms) < 1500, `check took ${r.ms} ms`)
  }
  writeFileSync(mode, '1')
  // fall 2: two failing runs after the change, each a fresh run of the script
  await waitFor(() => w.events.find((e) => e.event === 'transition' && e.kind === 'down'), 10_000)
  const failed = results().filter((r) => !r.ok)
  t.true(failed.length >= 2)
  t.is(failed[0]?.code, 'exit')
})

async function dnsServer(mode: string): Promise<() => void> {
  const file = join(dir, 'dns-mode')
  writeFileSync(file, mode)
  const agent = startAgent(lab, 's', 'health-dns-server', ['0.0.0.0', '53', file])
  const { pid } = await agent.next('ready')
  return () => process.kill(Number(pid), 'SIGKILL')
}

const dnsA = { kind: 'dns', opts: { type: 'A', name: 'www.example.test', answer: '10.62.0.53' } }

test.serial('DNS: 20 compression bombs under wrong ids before the real reply cost the checker nothing', async (t) => {
  const kill = await dnsServer('flood')
  try {
    const [r] = runAgent(lab, 'p', 'health-probe', [
      'once',
      JSON.stringify(dnsA),
      JSON.stringify({ addr: RS, port: 53 }),
      '3000',
    ])
    t.true(r?.ok, String(r?.detail))
    t.true(Number(r?.maxLagMs) < 100, `event loop stalled ${r?.maxLagMs} ms`)
    t.true(Number(r?.rssMiB) < 150, `RSS ${r?.rssMiB} MiB`)
  } finally {
    kill()
  }
})

test.serial('DNS: a compression bomb under our id fails the check at once as a protocol error', async (t) => {
  const kill = await dnsServer('bomb')
  try {
    const [r] = runAgent(lab, 'p', 'health-probe', [
      'once',
      JSON.stringify(dnsA),
      JSON.stringify({ addr: RS, port: 53 }),
      '3000',
    ])
    t.is(r?.code, 'protocol')
    t.regex(String(r?.detail), /malformed DNS reply/)
    t.true(Number(r?.ms) < 1000, `took ${r?.ms} ms`)
    t.true(Number(r?.maxLagMs) < 100, `event loop stalled ${r?.maxLagMs} ms`)
  } finally {
    kill()
  }
})

const hostileChecks: Array<[string, object, number, string[]]> = [
  ['an HTTP header of 1 MB', { kind: 'http', opts: { path: '/' } }, 8081, ['protocol', 'error']],
  ['an HTTP body that never ends', { kind: 'http', opts: { path: '/', bodyRegex: 'ok' } }, 8082, ['body']],
  ['an HTTP reply dripped a byte a second', { kind: 'http', opts: { path: '/' } }, 8083, ['timeout']],
  ['an SMTP banner that never ends', { kind: 'smtp', opts: {} }, 8084, ['protocol']],
  ['a TLS server that never finishes the handshake', { kind: 'http', opts: { tls: true } }, 8085, ['timeout']],
]

test.serial(
  'hostile real servers: each check ends by its timeout with a clear reason and bounded memory',
  async (t) => {
    const agent = startAgent(lab, 's', 'health-hostile-server', ['0.0.0.0'])
    const { pid } = await agent.next('ready')
    try {
      for (const [what, check, port, codes] of hostileChecks) {
        const [r] = runAgent(lab, 'p', 'health-probe', [
          'once',
          JSON.stringify(check),
          JSON.stringify({ addr: RS, port }),
          '1500',
        ])
        t.log(`${what}: ${r?.code} after ${r?.ms} ms (${r?.detail})`)
        t.false(r?.ok, what)
        t.true(codes.includes(String(r?.code)), `${what}: ${r?.code} ${r?.detail}`)
        t.true(Number(r?.ms) <= 1600, `${what}: ended after ${r?.ms} ms`)
        t.true(Number(r?.maxLagMs) < 100, `${what}: event loop stalled ${r?.maxLagMs} ms`)
        t.true(Number(r?.rssMiB) < 150, `${what}: RSS ${r?.rssMiB} MiB`)
      }
    } finally {
      process.kill(Number(pid), 'SIGKILL')
    }
  },
)
