// Package tier, the .rpm (root, rpmbuild, overlayfs, systemd-nspawn): the spec builds with plain
// `rpmbuild -ba` from the sources `npm run package:srpm` writes; the .rpm installs into a Debian 12
// root with its scriptlets (the lvsd user, /run/lvsd), starts under that root's systemd, upgrades
// keeping an edited config, and erases to nothing but the saved config. Debian's root has no rpm
// database of its own packages, hence --nodeps; the Node it runs is Debian's nodejs 18.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import test from 'ava'
import { BootedRoot, overlayRoot, sh } from '../helpers/nspawn.js'
import { repoRoot } from '../helpers/paths.js'

const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version

function build(script: string, env: NodeJS.ProcessEnv = {}): string {
  const r = sh('bash', [join(repoRoot, 'packaging', script)], env)
  if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr.slice(-3000)}`)
  return r.stdout.trim().split('\n').pop() as string
}

const work = mkdtempSync(join(tmpdir(), 'lvsd-rpmtier-'))
const share = join(work, 'share')
const rpm1 = build('build-rpm.sh')
const rpm2 = build('build-rpm.sh', { LVSD_RPM_RELEASE: '2' })
const root = overlayRoot(join(work, 'root'))
const r = (...args: string[]) => sh('rpm', ['--root', root.dir, ...args])
const inRoot = (p: string) => join(root.dir, p)

test.after.always(() => {
  root.remove()
  rmSync(work, { recursive: true, force: true })
})

test.serial('rpmbuild -ba builds the spec from the source tarballs of npm run package:srpm', (t) => {
  const srpm = build('build-srpm.sh')
  const sources = dirname(srpm)
  const top = join(work, 'top')
  const b = sh('rpmbuild', [
    '-ba',
    '--nodeps',
    '--define',
    `_topdir ${top}`,
    '--define',
    `_sourcedir ${sources}`,
    '--define',
    '__brp_compress /bin/true',
    join(sources, 'lvsd.spec'),
  ])
  t.is(b.status, 0, b.stderr.slice(-3000))
  const built = sh('sh', ['-c', `ls ${top}/RPMS/*/*.rpm ${top}/SRPMS/*.rpm`])
    .stdout.trim()
    .split('\n')
  t.is(built.length, 2, built.join('\n'))
  const lint = sh('rpmlint', [
    '-r',
    join(repoRoot, 'packaging', 'rpm', 'lvsd-spec.rpmlintrc'),
    srpm,
    join(sources, 'lvsd.spec'),
  ])
  t.regex(lint.stdout, / 0 errors/, lint.stdout)
  // the same files as the package build-rpm.sh makes
  const files = (f: string) => sh('rpm', ['-qpl', f]).stdout
  t.is(files(built[0] as string), files(rpm1))
})

test.serial('installs into a root with its scriptlets: the lvsd user and the files', (t) => {
  t.is(r('--initdb').status, 0)
  const i = r('-i', '--nodeps', rpm1)
  t.is(i.status, 0, i.stderr)
  t.regex(
    readFileSync(inRoot('etc/passwd'), 'utf8'),
    /^lvsd:x:\d+:\d+:lvsd LVS director:\/nonexistent:\/usr\/sbin\/nologin$/m,
  )
  t.true(existsSync(inRoot('usr/lib/systemd/system/lvsd.service')))
  t.is(r('-q', 'lvsd').stdout.trim(), `lvsd-${version}-1.x86_64`)
  t.is(r('-V', '--nodeps', 'lvsd').stdout, '')
})

test.serial(
  'the installed rpm boots with /run/lvsd for its user, starts under systemd (READY) and reloads',
  async (t) => {
    sh('sh', ['-c', `mkdir -p ${share} && printf 'node: director\\n' > ${inRoot('etc/lvsd/lvsd.yaml')}`])
    const box = await BootedRoot.boot(share, `lvsdrpm${process.pid}`, root.dir)
    try {
      // the root's /run is a tmpfs at boot: tmpfiles.d makes /run/lvsd there
      t.is(box.exec('stat -c %U:%G:%a /run/lvsd').stdout.trim(), 'lvsd:lvsd:750')
      const start = box.exec('systemctl start lvsd')
      t.is(start.status, 0, start.stderr + box.exec('journalctl -u lvsd --no-pager').stdout)
      t.is(box.exec('systemctl show -P ActiveState lvsd').stdout.trim(), 'active')
      t.is(box.exec('systemctl reload lvsd').status, 0)
      t.regex(box.exec('MANPAGER=cat man lvsd').stdout, /NAME/)
      t.is(box.exec('systemctl stop lvsd').status, 0)
    } finally {
      await box.stop()
    }
  },
)

test.serial('an upgrade keeps an edited config; erase leaves only that config, saved', (t) => {
  sh('sh', ['-c', `printf 'node: edited\\n' > ${inRoot('etc/lvsd/lvsd.yaml')}`])
  copyFileSync(rpm2, join(work, 'lvsd2.rpm'))
  const u = r('-U', '--nodeps', join(work, 'lvsd2.rpm'))
  t.is(u.status, 0, u.stderr)
  t.is(r('-q', 'lvsd').stdout.trim(), `lvsd-${version}-2.x86_64`)
  t.is(readFileSync(inRoot('etc/lvsd/lvsd.yaml'), 'utf8'), 'node: edited\n')
  const e = r('-e', 'lvsd')
  t.is(e.status, 0, e.stderr)
  const left = sh('sh', [
    '-c',
    `cd ${root.dir} && find . -xdev \\( -path ./proc -o -path ./var/lib/rpm -o -path ./var/cache/man \\) -prune -o -name '*lvsd*' -print`,
  ]).stdout
  t.deepEqual(left.trim().split('\n').sort(), ['./etc/lvsd', './etc/lvsd/lvsd.yaml.rpmsave'])
})
