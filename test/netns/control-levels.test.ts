// The control socket's two levels against a running `lvsd run` (issue 14 item 2): a user outside the
// admin socket's group reads status through the read-only socket (lvsctl falls back to it), but neither
// they nor root can release an instance or drain a server through it (403 LVSD_API_FORBIDDEN); each
// admin action and each refused attempt is logged with the caller's uid and pid.
import { spawnSync } from 'node:child_process'
import { chmodSync, statSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { lookupUserSync } from '../../src/sys/users.js'
import { Lab } from '../helpers/netns.js'
import { repoRoot } from '../helpers/paths.js'
import { ConfigDir, controlSocket, Director, MAC } from './agents/vrrp-harness.js'

const lab = new Lab('cl')
const cfg = new ConfigDir()
// the sockets' directory must be reachable by the unprivileged caller; the sockets' modes decide the rest
chmodSync(cfg.dir, 0o755)
const admin = join(cfg.dir, 'd1.sock')
const ro = join(cfg.dir, 'd1-ro.sock')
const nobody = lookupUserSync('nobody')!
let d1: Director

const conf = `node: d1
${controlSocket(cfg, 'd1')}vrrp:
  version: 3
  advert_interval: 100ms
  instances:
    - name: web
      interface: eth0
      vrid: 67
      priority: 150
      vips: [10.77.0.100/24]
`

/** lvsctl as `who` (the control socket is a file: no namespace needed to reach it). */
function lvsctl(args: string[], who?: { uid: number; gid: number }) {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin/lvsctl.js'), ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    ...(who ?? {}),
  })
  return { status: r.status, out: r.stdout + r.stderr, pid: r.pid }
}

test.before(async () => {
  lab.addSwitch()
  lab.addNode({ name: 'd1', ipv4: '10.77.0.1/24', mac: MAC(1) })
  d1 = new Director(lab, 'd1', cfg.write('d1.yaml', conf))
  await d1.waitSettled('MASTER', 20_000)
})
test.after.always(() => {
  d1?.kill('SIGKILL')
  lab.dispose()
  cfg.dispose()
})

test.serial('the admin socket is 0660, the read-only one 0666', (t) => {
  t.is(statSync(admin).mode & 0o777, 0o660)
  t.is(statSync(ro).mode & 0o777, 0o666)
})

test.serial('an unprivileged user reads status through the read-only socket, but cannot act', async (t) => {
  const st = lvsctl(['-s', admin, 'status', '--json'], nobody)
  t.is(st.status, 0, st.out)
  t.is(JSON.parse(st.out).instances[0].state, 'MASTER')
  const rel = lvsctl(['-s', admin, 'release', 'web'], nobody)
  t.not(rel.status, 0)
  t.regex(rel.out, /EACCES/)
  const from = d1.mark()
  const viaRo = lvsctl(['-s', ro, 'release', 'web'], nobody)
  t.not(viaRo.status, 0)
  t.regex(viaRo.out, /LVSD_API_FORBIDDEN/)
  const drain = lvsctl(['-s', ro, 'drain', 'web', '10.77.0.7:80'], nobody)
  t.not(drain.status, 0)
  t.regex(drain.out, /LVSD_API_FORBIDDEN/)
  t.is(d1.state(), 'MASTER')
  // the log lines come through the daemon's stdout: wait for them
  const refusal = (action: string) =>
    d1.waitLine((l) => l.event === 'operator.action' && l.action === action && l.ok === false, 10_000, from)
  t.like(await refusal('release'), { peer: { uid: nobody.uid, pid: viaRo.pid }, err: { code: 'LVSD_API_FORBIDDEN' } })
  t.like(await refusal('drain'), { peer: { uid: nobody.uid, pid: drain.pid }, err: { code: 'LVSD_API_FORBIDDEN' } })
})

test.serial(
  'root through the read-only socket cannot act either; through the admin one it can, logged with its pid',
  async (t) => {
    t.regex(lvsctl(['-s', ro, 'release', 'web']).out, /LVSD_API_FORBIDDEN/)
    const from = d1.mark()
    const rel = lvsctl(['-s', admin, 'release', 'web'])
    t.is(rel.status, 0, rel.out)
    const line = await d1.waitLine((l) => l.event === 'operator.action' && l.ok === true, 10_000, from)
    t.like(line, { action: 'release', target: 'web', peer: { uid: 0, pid: rel.pid } })
    t.is(line.msg, `operator release web by uid 0 pid ${rel.pid}`)
    t.is(lvsctl(['-s', admin, 'resume', 'web']).status, 0)
    await d1.waitState('MASTER', 10_000, from)
  },
)
