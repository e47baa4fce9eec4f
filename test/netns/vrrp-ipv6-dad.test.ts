// An IPv6 instance started while its interface's link-local address is still tentative (duplicate
// address detection at boot): lvsd waits for the address, without warnings or errors, and only then
// runs the election. It used to elect itself master 0.4 s in, on an address it could not send from
// ("advert send failed" on every advert) until DAD was over.
import { join } from 'node:path'
import test from 'ava'
import { Lab, waitFor } from '../helpers/netns.js'
import { ConfigDir, controlSocket, Director, lvsctlIn, MAC } from './agents/vrrp-harness.js'

const lab = new Lab('v6d')
const cfg = new ConfigDir()
let d1: Director | undefined

test.after.always(async () => {
  if (d1 && d1.proc.exitCode === null && d1.proc.signalCode === null) d1.kill('SIGKILL')
  await d1?.exited
  lab.dispose()
  cfg.dispose()
})

test('lvsd waits for DAD on its link-local address before the election, quietly', async (t) => {
  lab.addSwitch()
  lab.addNode({ name: 'd1', mac: MAC(1) })
  // DAD as at boot: the lab turns it off; here it runs, slowly (6 probes 1 s apart: longer than lvsd's
  // start-up on a loaded machine, so the address is surely still tentative when the worker starts)
  lab.sysctl('d1', 'net.ipv6.conf.eth0.accept_dad', 1)
  lab.sysctl('d1', 'net.ipv6.conf.eth0.dad_transmits', 6)
  lab.sysctl('d1', 'net.ipv6.neigh.eth0.retrans_time_ms', 1000)
  // flap the link so the link-local address is made again, tentative, as at boot
  lab.exec('d1', 'ip', ['link', 'set', 'eth0', 'down'])
  lab.exec('d1', 'ip', ['link', 'set', 'eth0', 'up'])
  t.regex(lab.exec('d1', 'ip', ['-6', 'addr', 'show', 'dev', 'eth0']), /fe80:.*tentative/s)
  // when the address becomes usable, polled from now on (every 20 ms) while lvsd starts
  const usable = waitFor(() => {
    const a = lab.exec('d1', 'ip', ['-6', '-o', 'addr', 'show', 'dev', 'eth0', 'scope', 'link'])
    return a.includes('fe80:') && !a.includes('tentative') ? Date.now() : undefined
  }, 20_000)
  d1 = new Director(
    lab,
    'd1',
    cfg.write(
      'd1.yaml',
      `node: d1
${controlSocket(cfg, 'd1')}vrrp:
  version: 3
  advert_interval: 100ms
  instances:
    - { name: web6, interface: eth0, vrid: 53, priority: 150, vips: ["fd00:d6::100/64"] }
`,
    ),
  )
  const wait = await d1.waitLine((l) => l.msg === 'instance waits for its interface and source address', 20_000)
  t.regex(String(wait.reason), /tentative/)
  const master = await d1.waitState('MASTER', 30_000, 0, 'web6')
  const usableAt = (await usable) as number
  t.true(
    Number(master.at) >= usableAt - 50,
    `MASTER at ${master.at}, address usable at ${usableAt}: the election ran only after DAD`,
  )
  // a few adverts as master
  await waitFor(() => {
    const r = lvsctlIn(lab, 'd1', join(cfg.dir, 'd1.sock'), ['status', '--json'])
    return r.status === 0 && JSON.parse(r.out).instances[0].counters.advertsSent >= 5
  }, 10_000)
  const loud = d1.lines.filter((l) => Number(l.level) >= 40)
  t.deepEqual(
    loud.map((l) => l.msg),
    [],
    'no warning or error: no failed send, no wait warning',
  )
})
