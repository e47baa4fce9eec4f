// The demo's topology and its VRRP half on this host's kernel (no IPVS needed): the seed's DR real
// servers set up by `lvsd realserver up`, then the scenario with `--here` semantics: two lvsd elect lb01, lb01 is frozen
// and cut, lb02 takes over within the RFC floor, its GARPs reach the client, which then resolves
// the VIP to lb02; every namespace of the run is gone afterwards.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { summarize } from '../../lab/demo/analysis.js'
import { NODES, nodeNamed } from '../../lab/demo/plan.js'
import { runScenario } from '../../lab/demo/scenario.js'
import { DemoTopology } from '../../lab/demo/topology.js'
import { repoRoot } from '../helpers/paths.js'

const netnsList = () => spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout

test.serial('without root the demo stops at once with the reason and exit status 2', (t) => {
  const cli = join(repoRoot, 'dist/lab/demo/cli.js')
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, cli], {
    encoding: 'utf8',
    timeout: 30_000,
  })
  t.is(r.status, 2)
  t.regex(r.stderr, /^demo: cannot run here: the demo needs root/)
})

test.serial(
  "lvsd realserver up gives the topology's real servers the VIP on lo with ARP suppression, and teardown removes exactly its namespaces",
  (t) => {
    const lab = new DemoTopology()
    const records = mkdtempSync(join(tmpdir(), 'lvsd-demo-rs-'))
    try {
      lab.build(NODES)
      t.deepEqual(
        lab.namespaces.map((n) => n.slice(lab.prefix.length)),
        ['sw', 'lb01', 'lb02', 'web01', 'web02', 'client'],
      )
      const lo = () => lab.exec('web01', 'ip', ['-4', '-o', 'addr', 'show', 'dev', 'lo'])
      t.notRegex(lo(), /10\.0\.0\.3/, 'the topology itself sets up nothing of a real server')
      lab.realServersUp(NODES, repoRoot, records)
      t.regex(lo(), /inet 10\.0\.0\.3\/32 /)
      for (const key of ['all', 'eth0']) {
        t.is(lab.exec('web02', 'sysctl', ['-n', `net.ipv4.conf.${key}.arp_ignore`]).trim(), '1')
        t.is(lab.exec('web02', 'sysctl', ['-n', `net.ipv4.conf.${key}.arp_announce`]).trim(), '2')
      }
      t.deepEqual(readdirSync(records).sort(), ['web01-realserver.json', 'web02-realserver.json'])
      // what an operator would run next: the check is clean on both
      for (const rs of ['web01', 'web02'])
        lab.exec(rs, process.execPath, [
          join(repoRoot, 'bin/lvsd.js'),
          'realserver',
          'check',
          '-c',
          join(repoRoot, 'conf/realserver/realserver.yaml'),
        ])
      t.regex(lab.exec('lb02', 'ip', ['-o', 'link', 'show', 'eth0']), /link\/ether 02:c0:00:00:00:02/)
      t.notRegex(lab.exec('lb01', 'ip', ['-4', '-o', 'addr']), /10\.0\.0\.3/)
      // the client reaches a real server across the bridge
      lab.exec('client', 'busybox', ['ping', '-c', '1', '-W', '2', '10.0.0.7'])
    } finally {
      lab.dispose()
      rmSync(records, { recursive: true, force: true })
    }
    t.false(netnsList().includes(lab.prefix))
  },
)

test.serial(
  'VRRP half of the demo: lb01 elected, frozen and cut; lb02 takes over within the RFC floor and the client follows its GARP',
  async (t) => {
    t.timeout(120_000)
    const lines: string[] = []
    const r = await runScenario({
      repoRoot,
      where: 'host',
      probeIntervalMs: 20,
      probeTimeoutMs: 900,
      stepTimeoutMs: 30_000,
      takeoverTimeoutMs: 20_000,
      ipvs: false,
      progress: (l) => lines.push(l),
    })
    t.log(lines.join('\n'))
    t.is(r.failure, null)
    const s = summarize(r)
    t.is(r.master, 'lb01')
    t.is(r.backup, 'lb02')
    t.is(s.kill?.node, 'lb01')
    t.is(s.takeover?.node, 'lb02')
    const floor = s.floorMs as number
    // lb02's timer restarts at each advert: from the last one it is the floor itself (timer slack
    // ≤ 50 ms natively, docs/vrrp-runtime.md); from the freeze at most the floor
    t.true((s.takeover?.afterLastAdvertMs ?? 0) >= floor - 5, `${s.takeover?.afterLastAdvertMs} ms`)
    t.true((s.takeover?.afterLastAdvertMs ?? Infinity) <= floor + 150, `${s.takeover?.afterLastAdvertMs} ms`)
    t.true((s.takeover?.afterKillMs ?? Infinity) <= floor + 150)
    t.true(s.garpsAfterKill.length >= 1)
    t.true(s.garpsAfterKill.every((f) => f.from === 'lb02'))
    t.is(r.vipNeighbour.mac, nodeNamed('lb02').mac)
    t.false(netnsList().includes(r.prefix), netnsList())
  },
)
