// VrrpRuntime.update in real namespaces: two VRRP processes (the update agent: a VrrpRuntime from an
// lvsd config, reloaded on SIGHUP) on a bridge, instances web and db. A reload with the same
// instances changes nothing on the wire or in the kernel; a priority change goes on the wire at
// once without a transition anywhere; a removed instance resigns and the peer takes its VIP.
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import test from 'ava'
import { Lab, waitFor } from '../helpers/netns.js'
import { distRoot } from '../helpers/paths.js'
import { addrs, ConfigDir, Director, type LogLine, MAC, sleep } from './agents/vrrp-harness.js'

const lab = new Lab('vu')
const cfg = new ConfigDir()
const AGENT = join(distRoot, 'test/netns/agents/vrrp-update-agent.js')
const WEB = '10.79.0.100'
const DB = '10.79.0.101'

function conf(node: string, prio: { web: number; db?: number }): string {
  const inst = (name: string, vrid: number, priority: number, vip: string) =>
    `    - name: ${name}\n      interface: eth0\n      vrid: ${vrid}\n      priority: ${priority}\n      vips: [${vip}/24]\n`
  return cfg.write(
    `${node}.yaml`,
    `node: ${node}\nvrrp:\n  version: 3\n  advert_interval: 100ms\n  instances:\n` +
      inst('web', 51, prio.web, WEB) +
      (prio.db === undefined ? '' : inst('db', 52, prio.db, DB)),
  )
}

const has = (node: string, vip: string) => addrs(lab, node).includes(`${vip}/24`)
const transitionsSince = (d: Director, from: number) => d.lines.slice(from).filter((l) => l.to !== undefined)

/** VRRP adverts seen in d2's namespace: time (ms), source, vrid, priority. */
class Capture {
  readonly adverts: Array<{ at: number; src: string; vrid: number; prio: number }> = []
  private readonly proc = spawn(
    'ip',
    ['netns', 'exec', lab.ns('d2'), 'tcpdump', '-l', '-n', '-tt', '-i', 'eth0', 'ip proto 112'],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  )
  private buf = ''
  constructor() {
    this.proc.stdout.on('data', (b: Buffer) => {
      this.buf += b.toString()
      const lines = this.buf.split('\n')
      this.buf = lines.pop() ?? ''
      for (const l of lines) {
        const m = /^(\d+\.\d+) IP (\S+) > 224\.0\.0\.18: VRRPv3, Advertisement, vrid (\d+), prio (\d+)/.exec(l)
        if (m)
          this.adverts.push({ at: Number(m[1]) * 1000, src: m[2] as string, vrid: Number(m[3]), prio: Number(m[4]) })
      }
    })
  }
  from(src: string, vrid: number, after = 0) {
    return this.adverts.filter((a) => a.src === src && a.vrid === vrid && a.at >= after)
  }
  stop(): void {
    this.proc.kill('SIGTERM')
  }
}

let d1: Director
let d2: Director
let cap: Capture

async function reload(d: Director, node: string, prio: { web: number; db?: number }): Promise<LogLine> {
  conf(node, prio)
  const mark = d.mark()
  d.kill('SIGHUP')
  return d.waitLine((l) => l.msg === 'updated' || l.msg === 'update failed', 10_000, mark)
}

test.before(async () => {
  lab.addSwitch()
  lab.addNode({ name: 'd1', ipv4: '10.79.0.1/24', mac: MAC(1) })
  lab.addNode({ name: 'd2', ipv4: '10.79.0.2/24', mac: MAC(2) })
  cap = new Capture()
  // d1 first: a Node start-up takes ~0.5 s, longer than Master_Down at 100 ms adverts
  d1 = new Director(lab, 'd1', '', [AGENT, conf('d1', { web: 150, db: 150 })])
  await d1.waitState('MASTER', 20_000, 0, 'web')
  await d1.waitState('MASTER', 20_000, 0, 'db')
  d2 = new Director(lab, 'd2', '', [AGENT, conf('d2', { web: 100, db: 100 })])
  await d2.waitSettled('BACKUP', 20_000, 1000, 'web')
  await d2.waitSettled('BACKUP', 20_000, 1000, 'db')
})
test.after.always(() => {
  cap?.stop()
  lab.dispose()
  cfg.dispose()
})

test.serial(
  'an update with the same instances: no transition, no extra advert, the master keeps its VIPs',
  async (t) => {
    const m1 = d1.mark()
    const m2 = d2.mark()
    const before = Date.now()
    const r = await reload(d1, 'd1', { web: 150, db: 150 })
    t.deepEqual(r.report, { added: [], removed: [], changed: [], unchanged: ['web', 'db'] })
    await sleep(1500)
    t.deepEqual(transitionsSince(d1, m1), [])
    t.deepEqual(transitionsSince(d2, m2), [])
    t.true(has('d1', WEB) && has('d1', DB))
    t.false(has('d2', WEB) || has('d2', DB))
    // an advert sent by the reload would fall between two scheduled ones, at an arbitrary phase
    for (const vrid of [51, 52]) {
      const seen = cap.from('10.79.0.1', vrid, before - 500)
      t.true(seen.length >= 15, `adverts of vrid ${vrid} kept coming: ${seen.length}`)
      const gaps = seen.slice(1).map((a, i) => a.at - (seen[i]?.at ?? 0))
      t.true(Math.min(...gaps) > 40, `vrid ${vrid}: no advert out of rhythm (gaps ${gaps.map(Math.round).join(' ')})`)
      t.true(
        seen.every((a) => a.prio === 150),
        'same priority',
      )
    }
  },
)

test.serial(
  'an update changing web’s priority: the new priority is on the wire at once, no transition anywhere',
  async (t) => {
    const m1 = d1.mark()
    const m2 = d2.mark()
    const r = await reload(d1, 'd1', { web: 120, db: 150 })
    t.deepEqual(r.report, { added: [], removed: [], changed: ['web'], unchanged: ['db'] })
    const at = Date.now()
    await waitFor(() => cap.from('10.79.0.1', 51).some((a) => a.prio === 120), 5000)
    await sleep(1000)
    t.deepEqual(transitionsSince(d1, m1), [])
    t.deepEqual(transitionsSince(d2, m2), [])
    t.true(
      cap.from('10.79.0.1', 51, at + 300).every((a) => a.prio === 120),
      'web advertises 120 from then on',
    )
    t.true(
      cap.from('10.79.0.1', 52, at - 2000).every((a) => a.prio === 150),
      'db untouched',
    )
    t.true(has('d1', WEB) && has('d1', DB))
  },
)

test.serial(
  'an update lowering web below the peer: d1 stays master and advertises it, d2 preempts (RFC 5798 §6.4.2)',
  async (t) => {
    const m1 = d1.mark()
    const m2 = d2.mark()
    const r = await reload(d1, 'd1', { web: 50, db: 150 })
    t.deepEqual(r.report, { added: [], removed: [], changed: ['web'], unchanged: ['db'] })
    const up = await d2.waitState('MASTER', 10_000, m2, 'web')
    t.is(up.why, 'preempt')
    const down = await d1.waitState('BACKUP', 10_000, m1, 'web')
    t.is(down.why, 'higher_priority')
    await waitFor(() => has('d2', WEB) && !has('d1', WEB), 5000)
    t.deepEqual(
      transitionsSince(d1, m1).filter((l) => l.vrrp === 'db'),
      [],
      'db unchanged',
    )
    t.true(has('d1', DB))
  },
)

test.serial(
  'an update removing db: d1 resigns it (priority 0), its VIP goes, d2 takes db over after the skew',
  async (t) => {
    const m1 = d1.mark()
    const m2 = d2.mark()
    const r = await reload(d1, 'd1', { web: 50 })
    t.deepEqual(r.report, { added: [], removed: ['db'], changed: [], unchanged: ['web'] })
    const stop = await d1.waitState('INIT', 5000, m1, 'db')
    t.is(stop.why, 'shutdown')
    t.false(has('d1', DB), 'the kernel confirmed the deletion before the update resolved')
    const up = await d2.waitState('MASTER', 10_000, m2, 'db')
    t.is(up.why, 'priority_zero')
    await waitFor(() => has('d2', DB), 5000)
    // tcpdump's output may trail the daemons by a few hundred ms on a loaded machine
    await waitFor(() => cap.from('10.79.0.1', 52).some((a) => a.prio === 0), 5000)
    t.deepEqual(
      transitionsSince(d1, m1).filter((l) => l.vrrp === 'web'),
      [],
      'web untouched',
    )
    t.deepEqual(
      transitionsSince(d2, m2).filter((l) => l.vrrp === 'web'),
      [],
    )
    d1.kill('SIGTERM')
    d2.kill('SIGTERM')
    t.is((await d1.exited).code, 0)
    t.is((await d2.exited).code, 0)
  },
)
