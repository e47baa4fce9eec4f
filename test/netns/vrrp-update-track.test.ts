// A reload that changes tracking: the new Tracker declares what it feeds, and the worker clears
// what it no longer does. A failing weight-0 script holds web in FAULT; a reload without it brings
// web back (it would otherwise stay in FAULT on the old tracker's last word); a reload giving the
// same failing script weight -30 turns the FAULT into a lower priority.
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import test from 'ava'
import { Lab, waitFor } from '../helpers/netns.js'
import { distRoot } from '../helpers/paths.js'
import { ConfigDir, Director, MAC } from './agents/vrrp-harness.js'

const lab = new Lab('vt')
const cfg = new ConfigDir()
const AGENT = join(distRoot, 'test/netns/agents/vrrp-update-agent.js')

function conf(track: string): string {
  return cfg.write(
    'd1.yaml',
    `node: d1
vrrp:
  version: 3
  advert_interval: 100ms
  scripts:
    - { name: down, argv: [/bin/false], interval: 100ms, fall: 1 }
  instances:
    - name: web
      interface: eth0
      vrid: 51
      priority: 100
      vips: [10.83.0.100/24]
${track}`,
  )
}

/** A few of d1's own adverts as tcpdump prints them. */
const adverts = (): string =>
  spawnSync(
    'ip',
    ['netns', 'exec', lab.ns('d1'), 'timeout', '2', 'tcpdump', '-c', '3', '-n', '-i', 'eth0', 'ip proto 112'],
    { encoding: 'utf8' },
  ).stdout

test.before(() => {
  lab.addSwitch()
  lab.addNode({ name: 'd1', ipv4: '10.83.0.1/24', mac: MAC(1) })
})
test.after.always(() => {
  lab.dispose()
  cfg.dispose()
})

test('tracking removed or re-weighted at a reload stops holding the instance', async (t) => {
  const d1 = new Director(lab, 'd1', '', [AGENT, conf('      track: { scripts: [{ name: down, weight: 0 }] }\n')])
  await d1.waitState('FAULT', 20_000)
  const m1 = d1.mark()
  conf('')
  d1.kill('SIGHUP')
  const r = await d1.waitLine((l) => l.msg === 'updated', 10_000, m1)
  t.deepEqual(
    r.report,
    { added: [], removed: [], changed: [], unchanged: ['web'] },
    'scripts are not in RuntimeInstance',
  )
  const back = await d1.waitState('BACKUP', 10_000, m1)
  t.is(back.why, 'fault_cleared')
  await d1.waitState('MASTER', 10_000, m1)

  const m2 = d1.mark()
  conf('      track: { scripts: [{ name: down, weight: 0 }] }\n')
  d1.kill('SIGHUP')
  await d1.waitState('FAULT', 10_000, m2)
  const m3 = d1.mark()
  conf('      track: { scripts: [{ name: down, weight: -30 }] }\n')
  d1.kill('SIGHUP')
  const b = await d1.waitState('BACKUP', 10_000, m3)
  t.is(b.why, 'fault_cleared')
  await d1.waitState('MASTER', 10_000, m3)
  // the new Tracker starts the script up (as keepalived) and its first failure lowers the priority
  await waitFor(() => /prio 70,/.test(adverts()), 10_000)
  t.regex(adverts(), /vrid 51, prio 70,/, 'the failing script now lowers the priority instead')
  d1.kill('SIGTERM')
  t.is((await d1.exited).code, 0)
})
