// `lvsctl ipvs` against the fake IPVS kernel and the real host (which has no IPVS): what it prints, its JSON,
// its exit statuses, and that lvsctl's help lists the command.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { type IpvsSource, ipvsCommand } from '../../src/cli/ipvs-command.js'
import { IpvsClient } from '../../src/ipvs/client.js'
import { defaultDest, defaultService } from '../../src/ipvs/model.js'
import { parseAddr } from '../../src/net/addr.js'
import { fakeIpvs } from '../fixtures/ipvs/fake-ipvs.js'
import { fixturesDir, repoRoot } from '../helpers/paths.js'

const key = { protocol: 'tcp', addr: parseAddr('10.0.0.3'), port: 80 } as const

async function run(args: string[], opts: { present?: boolean; conns?: string } = {}) {
  const { fake, nl } = fakeIpvs({ present: opts.present ?? true })
  const source: IpvsSource = {
    connect: async () => {
      const c = await IpvsClient.open(nl)
      await c.addService(defaultService(key, 'wrr'))
      for (const [last, w] of [
        [8, 2],
        [7, 1],
      ])
        await c.addDest(key, defaultDest(parseAddr(`10.0.0.${last}`), 80, 'droute', { weight: w }))
      await c.setTimeouts({ tcp: 30, tcpFin: 5, udp: 60 })
      return c
    },
    readConnections: () => opts.conns ?? readFileSync(join(fixturesDir, 'ipvs', 'ip_vs_conn.txt'), 'utf8'),
  }
  let out = ''
  let err = ''
  const status = await ipvsCommand(args, source, { out: (s) => (out += s), err: (s) => (err += s) })
  return { status, out, err, fake }
}

test('lvsctl ipvs prints the seed table as ipvsadm -Ln, destinations sorted', async (t) => {
  const r = await run(['-n'])
  t.is(r.status, 0, r.err)
  t.is(
    r.out,
    [
      'IP Virtual Server version 1.2.1 (size=4096)',
      'Prot LocalAddress:Port Scheduler Flags',
      '  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn',
      'TCP  10.0.0.3:80 wrr',
      `  -> ${'10.0.0.7:80'.padEnd(28)} Route   1      2          1         `,
      `  -> ${'10.0.0.8:80'.padEnd(28)} Route   2      2          1         `,
      '',
    ].join('\n'),
  )
})

test('--timeout, --daemon, --stats and -c select what is printed', async (t) => {
  t.is((await run(['--timeout'])).out, 'Timeout (tcp tcpfin udp): 30 5 60\n')
  t.is((await run(['--daemon'])).out, '')
  t.regex((await run(['--stats'])).out, /^Prot LocalAddress:Port {15}Conns {3}InPkts/m)
  t.is((await run(['-c'])).out, readFileSync(join(fixturesDir, 'ipvs', 'ipvsadm-lnc.txt'), 'utf8'))
})

test('--json gives addresses as text and counters as numbers', async (t) => {
  const j = JSON.parse((await run(['--json'])).out)
  t.is(j.info.version, '1.2.1')
  t.is(j.services[0].service.key.addr, '10.0.0.3')
  t.is(j.services[0].service.stats.conns, 5)
  t.is(j.services[0].service.stats.inBytes, 2 ** 40)
  t.deepEqual(j.services[0].dests.map((d: { addr: string }) => d.addr).sort(), ['10.0.0.7', '10.0.0.8'])
  const c = JSON.parse((await run(['-c', '--json'])).out)
  t.is(c.connections[2].client, '10.0.9.100')
  t.deepEqual(JSON.parse((await run(['--timeout', '--json'])).out).timeouts, { tcp: 30, tcpFin: 5, udp: 60 })
})

test('IPVS absent: a clear message and exit 1; bad options: usage and exit 64', async (t) => {
  const r = await run([], { present: false })
  t.is(r.status, 1)
  t.regex(r.err, /IPVS is not available/)
  t.is(r.out, '')
  const u = await run(['--stats', '--rate'])
  t.is(u.status, 64)
  t.regex(u.err, /Usage: lvsctl ipvs/)
  t.is((await run(['--nope'])).status, 64)
})

test('the lvsctl binary lists ipvs in its help and fails cleanly on this host without IPVS', (t) => {
  const bin = join(repoRoot, 'bin', 'lvsctl.js')
  const help = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' })
  t.is(help.status, 0)
  t.regex(help.stdout, /^ {2}ipvs \[--stats\|--rate\].*--connections.*--json/m)
  const h2 = spawnSync(process.execPath, [bin, 'ipvs', '--help'], { encoding: 'utf8' })
  for (const o of ['--stats', '--rate', '--exact', '--timeout', '--daemon', '--connections', '--json']) {
    t.true(h2.stdout.includes(o), o)
  }
  // this machine's kernel has no IPVS (the VM tier covers the real thing)
  if (spawnSync('sh', ['-c', 'test -e /proc/net/ip_vs']).status !== 0) {
    const r = spawnSync(process.execPath, [bin, 'ipvs', '-c'], { encoding: 'utf8' })
    t.is(r.status, 1)
    t.regex(r.stderr, /IPVS is not available/)
  } else t.pass('this kernel has IPVS')
})
