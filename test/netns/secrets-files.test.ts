// Secrets and files against a running `lvsd run` (issue 14 item 6): the VRRPv2 password never appears in
// the logs, the status, the event stream or the metrics, not even across a reload that changes it; a
// configuration file others can write is refused at reload (the running one stays), with the reason at
// file:1:1; the held-VIPs state file is a regular file written by rename, never through a symlink.
import { chmodSync, lstatSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { Lab, waitFor } from '../helpers/netns.js'
import { ConfigDir, controlSocket, Director, fetchIn, lvsctlIn, MAC } from './agents/vrrp-harness.js'

const lab = new Lab('sf')
const cfg = new ConfigDir()
const SECRET = 'Zq7pW3x'
const SECRET2 = 'Hk4mN8v'
let d1: Director

const conf = (password: string) => `node: d1
${controlSocket(cfg, 'd1')}metrics: { enabled: true, address: 127.0.0.1, port: 9481 }
vrrp:
  version: 2
  advert_interval: 1s
  instances:
    - name: web
      interface: eth0
      vrid: 68
      priority: 150
      vips: [10.79.0.100/24]
      authentication: { type: pass, password: ${password} }
`
const file = join(cfg.dir, 'd1.yaml')
const lvsctl = (args: string[]) => lvsctlIn(lab, 'd1', join(cfg.dir, 'd1.sock'), args)

test.before(async () => {
  lab.addSwitch()
  lab.addNode({ name: 'd1', ipv4: '10.79.0.1/24', mac: MAC(1) })
  writeFileSync(file, conf(SECRET), { mode: 0o600 })
  d1 = new Director(lab, 'd1', file)
  await d1.waitSettled('MASTER', 20_000)
})
test.after.always(() => {
  d1?.kill('SIGKILL')
  lab.dispose()
  cfg.dispose()
})

test.serial('the VRRPv2 password is in no log line, status, event or metric, before or after a reload', async (t) => {
  writeFileSync(file, conf(SECRET2), { mode: 0o600 })
  const r = lvsctl(['reload'])
  t.is(r.status, 0, r.err)
  t.is(lvsctl(['release', 'web']).status, 0)
  t.is(lvsctl(['resume', 'web']).status, 0)
  await d1.waitState('MASTER', 10_000, d1.mark() - 1)
  const outputs = {
    log: d1.raw.join('\n'),
    reload: r.out + r.err,
    status: lvsctl(['status', '--json']).out + lvsctl(['status']).out,
    events: lvsctl(['events', '--no-follow', '--json']).out,
    metrics: fetchIn(lab, 'd1', 'http://127.0.0.1:9481/metrics'),
  }
  t.regex(outputs.metrics, /lvsd_vrrp_state/, 'the metrics were read')
  t.regex(outputs.events, /config\.reload/, 'the events were read')
  for (const [where, text] of Object.entries(outputs)) {
    t.true(text.length > 0, `${where} was read`)
    t.false(text.includes(SECRET), `${where} holds the first password`)
    t.false(text.includes(SECRET2), `${where} holds the second password`)
  }
})

test.serial('a configuration file others can write is refused at reload; the running one stays', async (t) => {
  writeFileSync(file, conf(SECRET2).replace('priority: 150', 'priority: 120'))
  chmodSync(file, 0o666)
  const r = lvsctl(['reload'])
  chmodSync(file, 0o600)
  t.not(r.status, 0)
  t.regex(r.out + r.err, /d1\.yaml:1:1 .*d1\.yaml is writable by every user \(mode 0666\)/)
  const st = JSON.parse(lvsctl(['status', '--json']).out)
  t.is(st.instances[0].priority, 150)
})

test.serial('the held-VIPs state file is a regular 0644 file with no temporary file beside it', async (t) => {
  const held = (await waitFor(
    () =>
      readdirSync('/run/lvsd').find(
        (f) =>
          f.startsWith('held-vips-') && readFileSync(join('/run/lvsd', f), 'utf8').includes(join(cfg.dir, 'd1.sock')),
      ),
    10_000,
  )) as string
  const st = lstatSync(join('/run/lvsd', held))
  t.true(st.isFile())
  t.is(st.mode & 0o777, 0o644)
  t.deepEqual(
    readdirSync('/run/lvsd').filter((f) => f.includes(held) && f.endsWith('.tmp')),
    [],
  )
})
