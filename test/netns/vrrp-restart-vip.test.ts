// A master killed with SIGKILL leaves its VIP on the interface; restarted, lvsd takes it off the wire
// before it has even read its configuration (it used to wait for the VRRP worker: 0.3–0.5 s of two
// nodes answering ARP for one address). A second lvsd started beside a live one touches nothing.
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import test from 'ava'
import { heldVipsFile } from '../../src/director/held-vips.js'
import { Lab, waitFor } from '../helpers/netns.js'
import { addrs, ConfigDir, controlSocket, Director, MAC } from './agents/vrrp-harness.js'

const lab = new Lab('rv')
const cfg = new ConfigDir()
const VIP = '10.75.0.100/24'
const conf = cfg.write(
  'd1.yaml',
  `node: d1
${controlSocket(cfg, 'd1')}vrrp:
  version: 3
  advert_interval: 100ms
  instances:
    - { name: web, interface: eth0, vrid: 65, priority: 150, vips: [${VIP}] }
`,
)
const running: Director[] = []

test.before(() => {
  lab.addSwitch()
  lab.addNode({ name: 'd1', ipv4: '10.75.0.1/24', mac: MAC(1) })
})
test.after.always(async () => {
  for (const d of running) if (d.proc.exitCode === null && d.proc.signalCode === null) d.kill('SIGKILL')
  await Promise.all(running.map((d) => d.exited))
  lab.dispose()
  cfg.dispose()
})

function director(): Director {
  const d = new Director(lab, 'd1', conf)
  running.push(d)
  return d
}

/** `ip -ts monitor address` in d1: the wall-clock ms of each deletion of the VIP. */
function watchDeletes(): { deleted: number[]; stop: () => void } {
  const p = lab.spawn('d1', 'ip', ['-ts', 'monitor', 'address'])
  const deleted: number[] = []
  createInterface({ input: p.stdout as NodeJS.ReadableStream }).on('line', (l) => {
    const m = /^\[([^\]]+)\]\s*Deleted .*10\.75\.0\.100\/24/.exec(l)
    if (m) deleted.push(Date.parse(`${(m[1] as string).replace(',', '.').slice(0, 23)}Z`))
  })
  return { deleted, stop: () => p.kill() }
}

test.serial('after a SIGKILL the VIP is removed before the restarted daemon has read its config', async (t) => {
  const first = director()
  await first.waitSettled('MASTER', 20_000)
  first.kill('SIGKILL')
  await first.exited
  t.true(addrs(lab, 'd1').includes(VIP), 'the killed master left its VIP behind')
  const mon = watchDeletes()
  await new Promise((r) => setTimeout(r, 200)) // the monitor subscribes before the restart
  try {
    const second = director()
    const removed = await second.waitLine((l) => l.msg === 'removed a VIP held by a crashed run', 20_000)
    t.like(removed, { vrrp: 'web', vip: VIP, dev: 'eth0' })
    await waitFor(() => mon.deleted.length > 0, 5_000)
    // the logger opens only after the configuration is read: the deletion came before it
    const firstLine = Date.parse(String(second.lines[0]?.time))
    t.true((mon.deleted[0] as number) <= firstLine, `deleted at ${mon.deleted[0]}, first log line at ${firstLine}`)
    await second.waitSettled('MASTER', 20_000)
    t.true(addrs(lab, 'd1').includes(VIP))
    // a second daemon on the same configuration while this one is alive: the live master's VIP stays
    const third = director()
    const left = await third.waitLine((l) => /VIPs of an earlier run left alone/.test(String(l.msg)), 20_000)
    t.truthy(left)
    await third.exited
    t.true(addrs(lab, 'd1').includes(VIP), 'the live master keeps its VIP')
    second.kill('SIGTERM')
    await second.exited
    t.false(addrs(lab, 'd1').includes(VIP), 'a clean stop removes it')
    t.false(existsSync(heldVipsFile(conf)), 'and leaves no record of held VIPs')
  } finally {
    mon.stop()
  }
})
