// Programs lvsd runs must be changeable by root (or lvsd's user) only: the file, each directory it is
// found through, and the same along the path a symlink resolves to; a sticky directory (/tmp) is safe
// for entries that trusted users own. The config check refuses the rest at the program's line.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { loadConfigText } from '../../src/config/load.js'
import { ancestors, type Owned, programDistrust } from '../../src/sys/program-trust.js'

const dir = (mode: number, uid = 0, gid = 0): Owned => ({ mode, uid, gid, isDirectory: true, isSymlink: false })
const file = (mode: number, uid = 0, gid = 0): Owned => ({ mode, uid, gid, isDirectory: false, isSymlink: false })
const link = (uid = 0): Owned => ({ mode: 0o777, uid, gid: 0, isDirectory: false, isSymlink: true })

/** A fake filesystem: path → stat, and symlinks' targets. */
function fs(entries: Record<string, Owned>, links: Record<string, string> = {}) {
  const stat = (p: string) => {
    const s = entries[p]
    if (!s) throw Object.assign(new Error(`ENOENT ${p}`), { code: 'ENOENT' })
    return s
  }
  const realpath = (p: string) => links[p] ?? p
  return (path: string, trusted: number[] = [0]) => programDistrust(path, trusted, stat, realpath)
}

const base = { '/': dir(0o755), '/etc': dir(0o755), '/etc/lvsd': dir(0o755) }

test('ancestors are the directories a path is found through, from the root', (t) => {
  t.deepEqual(ancestors('/etc/lvsd/notify.sh'), ['/', '/etc', '/etc/lvsd'])
  t.deepEqual(ancestors('/x'), ['/'])
})

test('a root-owned program in root-owned directories is trusted', (t) => {
  t.is(fs({ ...base, '/etc/lvsd/n.sh': file(0o755) })('/etc/lvsd/n.sh'), undefined)
})

test('a program others can write, or one owned by another user, is refused', (t) => {
  t.is(
    fs({ ...base, '/etc/lvsd/n.sh': file(0o777) })('/etc/lvsd/n.sh'),
    '/etc/lvsd/n.sh is writable by every user (mode 0777)',
  )
  t.is(
    fs({ ...base, '/etc/lvsd/n.sh': file(0o775, 0, 100) })('/etc/lvsd/n.sh'),
    '/etc/lvsd/n.sh is writable by group 100 (mode 0775)',
  )
  t.is(fs({ ...base, '/etc/lvsd/n.sh': file(0o775, 0, 0) })('/etc/lvsd/n.sh'), undefined, "root's group is trusted")
  t.is(fs({ ...base, '/etc/lvsd/n.sh': file(0o755, 1000) })('/etc/lvsd/n.sh'), '/etc/lvsd/n.sh is owned by uid 1000')
  t.is(
    fs({ ...base, '/etc/lvsd/n.sh': file(0o755, 1000) })('/etc/lvsd/n.sh', [0, 1000]),
    undefined,
    "the daemon's own user is trusted",
  )
})

test('a directory on the path that others can write is refused, the file mode notwithstanding', (t) => {
  const check = fs({ ...base, '/etc/lvsd': dir(0o777), '/etc/lvsd/n.sh': file(0o755) })
  t.is(check('/etc/lvsd/n.sh'), '/etc/lvsd/n.sh: directory /etc/lvsd on its path is writable by every user (mode 0777)')
  const owned = fs({ ...base, '/etc': dir(0o755, 1000), '/etc/lvsd/n.sh': file(0o755) })
  t.is(owned('/etc/lvsd/n.sh'), '/etc/lvsd/n.sh: directory /etc on its path is owned by uid 1000')
})

test('a sticky directory (/tmp) is safe for an entry a trusted user owns, not for one a stranger owns', (t) => {
  const tmp = { '/': dir(0o755), '/tmp': dir(0o1777) }
  t.is(fs({ ...tmp, '/tmp/d': dir(0o700), '/tmp/d/n.sh': file(0o755) })('/tmp/d/n.sh'), undefined)
  t.is(
    fs({ ...tmp, '/tmp/d': dir(0o755, 1000), '/tmp/d/n.sh': file(0o755) })('/tmp/d/n.sh'),
    '/tmp/d/n.sh: directory /tmp on its path is writable by every user (mode 01777)',
    'a stranger could have made /tmp/d',
  )
  t.is(
    fs({ ...tmp, '/tmp/n.sh': file(0o755, 1000) })('/tmp/n.sh'),
    '/tmp/n.sh: directory /tmp on its path is writable by every user (mode 01777)',
  )
})

test('a symlink is judged by its directory and by the path it resolves to', (t) => {
  const entries = {
    ...base,
    '/etc/lvsd/n.sh': link(),
    '/srv': dir(0o777),
    '/srv/n.sh': file(0o755),
    '/usr': dir(0o755),
    '/usr/bin': dir(0o755),
    '/usr/bin/true': file(0o755),
  }
  t.is(
    fs(entries, { '/etc/lvsd/n.sh': '/srv/n.sh' })('/etc/lvsd/n.sh'),
    '/etc/lvsd/n.sh resolves to /srv/n.sh; /srv/n.sh: directory /srv on its path is writable by every user (mode 0777)',
  )
  t.is(fs(entries, { '/etc/lvsd/n.sh': '/usr/bin/true' })('/etc/lvsd/n.sh'), undefined)
  // a symlinked directory (/bin → usr/bin): its 0777 link mode means nothing
  t.is(
    fs({ ...entries, '/bin': link(), '/bin/true': file(0o755) }, { '/bin/true': '/usr/bin/true' })('/bin/true'),
    undefined,
  )
})

const notifyConf = (prog: string) => `node: lb01
vrrp:
  instances:
    - name: web
      interface: eth0
      vrid: 51
      vips: [10.0.0.3/24]
      notify:
        master: [${prog}, master]
`

test('lvsd check refuses a world-writable program and one in a world-writable directory, at its line', (t) => {
  const d = mkdtempSync(join(tmpdir(), 'lvsd-trust-'))
  t.teardown(() => rmSync(d, { recursive: true, force: true }))
  const ok = join(d, 'ok.sh')
  writeFileSync(ok, '#!/bin/sh\n')
  chmodSync(ok, 0o755)
  t.true(loadConfigText(notifyConf(ok), 'c.yaml').ok)
  const open = join(d, 'open.sh')
  writeFileSync(open, '#!/bin/sh\n')
  chmodSync(open, 0o777)
  const r = loadConfigText(notifyConf(open), 'c.yaml')
  t.false(r.ok)
  if (!r.ok)
    t.like(r.errors[0], {
      line: 9,
      path: 'vrrp.instances[0].notify.master[0]',
      message: `${open} is writable by every user (mode 0777): lvsd runs only programs no one but root or its own user can change`,
    })
  const shared = join(d, 'shared')
  mkdirSync(shared)
  chmodSync(shared, 0o777)
  const inShared = join(shared, 'n.sh')
  writeFileSync(inShared, '#!/bin/sh\n')
  chmodSync(inShared, 0o755)
  const r2 = loadConfigText(notifyConf(inShared), 'c.yaml')
  t.false(r2.ok)
  if (!r2.ok)
    t.regex(r2.errors[0]?.message ?? '', /directory .*\/shared on its path is writable by every user \(mode 0777\)/)
  // a trusted symlink to it does not launder it
  const alias = join(d, 'alias.sh')
  symlinkSync(inShared, alias)
  const r3 = loadConfigText(notifyConf(alias), 'c.yaml')
  t.false(r3.ok)
  if (!r3.ok) t.regex(r3.errors[0]?.message ?? '', /alias\.sh resolves to .*shared\/n\.sh; /)
})

test('programs.user must exist', (t) => {
  const r = loadConfigText('node: n\nprograms: { user: nobodyy }\n', 'c.yaml')
  t.false(r.ok)
  if (!r.ok)
    t.like(r.errors[0], { line: 2, path: 'programs.user', message: 'no user nobodyy on this host (/etc/passwd)' })
  t.true(loadConfigText('node: n\nprograms: { user: nobody }\n', 'c.yaml').ok)
})
