// Programs lvsd runs, against a running `lvsd run` (issue 14 item 1): a world-writable notify program
// and one in a world-writable directory are refused by `lvsd check`, by `lvsctl reload` and by SIGHUP
// (the old configuration stays, the refusal names file:line:col); programs run as an unprivileged user
// by default when lvsd runs as root, and as `programs.user` when set: each program prints its uid.
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { lookupUserSync } from '../../src/sys/users.js'
import { Lab, waitFor } from '../helpers/netns.js'
import { repoRoot } from '../helpers/paths.js'
import { ConfigDir, controlSocket, Director, lvsctlIn, MAC } from './agents/vrrp-harness.js'

const lab = new Lab('ps')
const cfg = new ConfigDir()
// programs live in a root-owned 0755 directory (what an unprivileged user may execute from); what they
// print goes to a directory anyone may write, which is not on any program's path
const progs = mkdtempSync(join(tmpdir(), 'lvsd-progs-'))
chmodSync(progs, 0o755)
const out = join(progs, 'out')
mkdirSync(out)
chmodSync(out, 0o777)
const notifyLog = join(out, 'notify.log')
const trackLog = join(out, 'track.log')
// made here, writable by all: each user the programs run as appends to the same files
for (const f of [notifyLog, trackLog]) {
  writeFileSync(f, '')
  chmodSync(f, 0o666)
}

function program(path: string, body: string, mode = 0o755): string {
  writeFileSync(path, `#!/bin/sh\n${body}\n`)
  chmodSync(path, mode)
  return path
}
const uidNotify = program(join(progs, 'notify.sh'), `echo "$(id -u) $3" >> ${notifyLog}`)
const uidTrack = program(join(progs, 'track.sh'), `echo "$(id -u)" >> ${trackLog}`)
const openProgram = program(join(progs, 'open.sh'), 'exit 0', 0o777)
const openDir = join(progs, 'shared')
mkdirSync(openDir)
chmodSync(openDir, 0o777)
const inOpenDir = program(join(openDir, 'notify.sh'), 'exit 0')

const conf = (notify: string, top = '', track = false) => `node: d1
${controlSocket(cfg, 'd1')}${top}vrrp:
  version: 3
  advert_interval: 100ms
${track ? `  scripts:\n    - { name: uid, argv: [${uidTrack}], interval: 200ms }\n` : ''}  instances:
    - name: web
      interface: eth0
      vrid: 66
      priority: 150
      vips: [10.76.0.100/24]
      notify: { any: [${notify}] }
${track ? '      track: { scripts: [uid] }\n' : ''}`

const lvsctl = (args: string[]) => lvsctlIn(lab, 'd1', join(cfg.dir, 'd1.sock'), args)
const lines = (f: string) => {
  try {
    return readFileSync(f, 'utf8').split('\n').filter(Boolean)
  } catch {
    return []
  }
}
/** The uid lvsd as root gives programs when programs.user is not set. */
const defaultUid = (lookupUserSync('lvsd') ?? lookupUserSync('nobody'))!.uid
const daemonUid = lookupUserSync('daemon')!.uid
let d1: Director

test.before(async () => {
  lab.addSwitch()
  lab.addNode({ name: 'd1', ipv4: '10.76.0.1/24', mac: MAC(1) })
  d1 = new Director(lab, 'd1', cfg.write('d1.yaml', conf(uidNotify)))
  await d1.waitSettled('MASTER', 20_000)
})
test.after.always(() => {
  d1?.kill('SIGKILL')
  lab.dispose()
  cfg.dispose()
  rmSync(progs, { recursive: true, force: true })
})

test.serial('lvsd check refuses a world-writable program and one in a world-writable directory, at its line', (t) => {
  const check = (name: string, prog: string) =>
    spawnSync(process.execPath, [join(repoRoot, 'bin/lvsd.js'), 'check', cfg.write(name, conf(prog))], {
      encoding: 'utf8',
    })
  const a = check('open.yaml', openProgram)
  t.not(a.status, 0)
  t.regex(
    a.stderr,
    /open\.yaml:13:\d+ vrrp\.instances\[0\]\.notify\.any\[0\]: \S+\/open\.sh is writable by every user \(mode 0777\)/,
  )
  const b = check('dir.yaml', inOpenDir)
  t.not(b.status, 0)
  t.regex(
    b.stderr,
    /dir\.yaml:13:\d+ vrrp\.instances\[0\]\.notify\.any\[0\]: .*directory \S+\/shared on its path is writable by every user/,
  )
  t.is(check('good.yaml', uidNotify).status, 0)
})

test.serial('as root, programs run as an unprivileged user by default', async (t) => {
  t.not(defaultUid, 0)
  const first = await waitFor(() => lines(notifyLog).find((l) => l.endsWith(' MASTER')), 10_000)
  t.is(first, `${defaultUid} MASTER`)
})

test.serial(
  'a reload naming an unsafe program is refused with file:line:col and the old programs keep running',
  async (t) => {
    writeFileSync(join(cfg.dir, 'd1.yaml'), conf(openProgram))
    const r = lvsctl(['reload'])
    t.not(r.status, 0)
    t.regex(r.out + r.err, /d1\.yaml:13:\d+ .*open\.sh is writable by every user \(mode 0777\)/)
    // SIGHUP: the refusal is in the log
    writeFileSync(join(cfg.dir, 'd1.yaml'), conf(inOpenDir))
    const from = d1.mark()
    d1.kill('SIGHUP')
    const refused = await d1.waitLine(
      (l) => l.msg.startsWith('reload refused:') && l.msg.includes('/shared'),
      10_000,
      from,
    )
    t.regex(refused.msg, /d1\.yaml:13:\d+ .*directory \S+\/shared on its path is writable by every user/)
    // the running configuration is the old one: a transition runs the old notify program
    const before = lines(notifyLog).length
    t.is(lvsctl(['release', 'web']).status, 0)
    await waitFor(() => lines(notifyLog).length > before, 10_000)
    t.is(lines(notifyLog).at(-1), `${defaultUid} FAULT`)
    t.is(lvsctl(['resume', 'web']).status, 0)
    await d1.waitState('MASTER', 10_000, from)
  },
)

test.serial('programs run as programs.user: notify and track scripts print its uid', async (t) => {
  writeFileSync(join(cfg.dir, 'd1.yaml'), conf(uidNotify, 'programs: { user: daemon }\n', true))
  const r = lvsctl(['reload'])
  t.is(r.status, 0, r.out + r.err)
  await waitFor(() => lines(trackLog).length >= 3, 10_000)
  t.deepEqual([...new Set(lines(trackLog))], [String(daemonUid)])
  const before = lines(notifyLog).length
  t.is(lvsctl(['release', 'web']).status, 0)
  await waitFor(() => lines(notifyLog).length > before, 10_000)
  t.is(lines(notifyLog).at(-1), `${daemonUid} FAULT`)
  t.is(lvsctl(['resume', 'web']).status, 0)
})
