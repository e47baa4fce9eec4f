// The .rpm that packaging/build-rpm.sh makes holds the .deb's files (units under /usr/lib/systemd),
// with the same modes, /etc/lvsd/lvsd.yaml as %config, and nodejs + the addon's libraries required.
import { execFile, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import test from 'ava'
import { repoRoot } from '../helpers/paths.js'

const BUILD_TIMEOUT = 600_000
const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version
const run = promisify(execFile)

function sh(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20 })
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? r.error?.message ?? '' }
}

// Sequential: both scripts stage the same per-commit app under one lock anyway.
const built = (async () => {
  if (sh('sh', ['-c', 'command -v rpmbuild']).status !== 0) {
    throw new Error('rpmbuild is not installed (Debian: apt-get install rpm)')
  }
  const opts = { cwd: repoRoot, maxBuffer: 64 << 20, timeout: BUILD_TIMEOUT }
  const last = (s: string) => s.trim().split('\n').at(-1) ?? ''
  const deb = last((await run('bash', [join(repoRoot, 'packaging', 'build-deb.sh')], opts)).stdout)
  const rpm = last((await run('bash', [join(repoRoot, 'packaging', 'build-rpm.sh')], opts)).stdout)
  return { deb, rpm }
})()
built.catch(() => {})

async function pkgs(t: { timeout: (ms: number) => void }) {
  t.timeout(BUILD_TIMEOUT)
  return built
}

/** Regular files and symlinks with their permission strings, as in `ls -l`. */
function debFiles(deb: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of sh('dpkg-deb', ['-c', deb]).stdout.split('\n')) {
    // names may hold spaces (node_modules fixtures); a symlink's line ends in ' -> target'
    const m = /^([-l]\S+) \S+\s+\d+ \S+ \S+ \.(\/.+?)(?: -> .*)?$/.exec(line)
    if (m?.[1] && m[2]) out.set(m[2].replace(/^\/lib\/systemd\//, '/usr/lib/systemd/'), m[1])
  }
  out.delete('/usr/share/doc/lvsd/changelog.Debian.gz') // Debian's own
  return out
}

function rpmFiles(rpm: string): Map<string, string> {
  const out = new Map<string, string>()
  const q = sh('rpm', ['-qp', '--qf', '[%{FILEMODES:perms} %{FILENAMES}\\n]', rpm])
  for (const line of q.stdout.split('\n')) {
    const m = /^([-l]\S+) (\/.+)$/.exec(line)
    if (m?.[1] && m[2]) out.set(m[2], m[1])
  }
  return out
}

test('the rpm is lvsd-<version>-1 for this machine and holds the same files and modes as the deb', async (t) => {
  const { deb, rpm } = await pkgs(t)
  t.is(sh('rpm', ['-qp', '--qf', '%{NAME}-%{VERSION}-%{RELEASE}', rpm]).stdout, `lvsd-${version}-1`)
  t.is(sh('rpm', ['-qp', '--qf', '%{ARCH}', rpm]).stdout, sh('uname', ['-m']).stdout.trim())
  const d = debFiles(deb)
  const r = rpmFiles(rpm)
  t.true(d.size > 100)
  const onlyDeb = [...d.keys()].filter((p) => !r.has(p))
  const onlyRpm = [...r.keys()].filter((p) => !d.has(p))
  t.deepEqual({ onlyDeb, onlyRpm }, { onlyDeb: [], onlyRpm: [] })
  const modes = [...d].filter(([p, m]) => r.get(p) !== m).map(([p, m]) => `${p}: deb ${m} rpm ${r.get(p)}`)
  t.deepEqual(modes, [])
})

test('the rpm marks /etc/lvsd/lvsd.yaml and /etc/lvsd/realserver.yaml as its config files', async (t) => {
  const { rpm } = await pkgs(t)
  t.is(sh('rpm', ['-qpc', rpm]).stdout, '/etc/lvsd/lvsd.yaml\n/etc/lvsd/realserver.yaml\n')
})

test('the rpm requires nodejs >= 1:18.17 (the engines floor) and the libc/libstdc++ versions the addon was linked against', async (t) => {
  const { rpm } = await pkgs(t)
  const req = sh('rpm', ['-qpR', rpm]).stdout.split('\n')
  t.true(req.includes('nodejs >= 1:18.17'), req.join('\n'))
  t.true(
    req.some((r) => /^libstdc\+\+\.so\.6\(GLIBCXX_[\d.]+\)\(64bit\)$/.test(r)),
    req.join('\n'),
  )
  t.true(
    req.some((r) => /^libc\.so\.6\(GLIBC_[\d.]+\)\(64bit\)$/.test(r)),
    req.join('\n'),
  )
  // node_modules' own CLI scripts must not drag in interpreters
  t.deepEqual(
    req.filter((r) => /perl|python/.test(r)),
    [],
  )
})

test('the rpm scriptlets create the lvsd user, stop the daemons only on erase and restart lvsd on upgrade', async (t) => {
  const { rpm } = await pkgs(t)
  const s = sh('rpm', ['-qp', '--scripts', rpm]).stdout
  t.regex(s, /postinstall scriptlet[\s\S]*systemd-sysusers \/usr\/lib\/sysusers\.d\/lvsd\.conf/)
  t.regex(s, /preuninstall scriptlet[\s\S]*\$1 -eq 0[\s\S]*disable --now lvsd\.service lvsd-realserver\.service/)
  t.regex(s, /postuninstall scriptlet[\s\S]*\$1 -ge 1[\s\S]*try-restart lvsd\.service/)
})

test('the source rpm holds the spec and the three source tarballs, and the spec has the parts rpmbuild -ba needs', (t) => {
  const r = sh('bash', [join(repoRoot, 'packaging', 'build-srpm.sh')])
  t.is(r.status, 0, r.stderr.slice(-2000))
  const srpm = r.stdout.trim().split('\n').at(-1) ?? ''
  const files = sh('rpm', ['-qpl', srpm]).stdout.trim().split('\n').sort()
  t.deepEqual(files, [
    `lvsd-${version}-nm-dev.tar.gz`,
    `lvsd-${version}-nm-prod.tar.gz`,
    `lvsd-${version}.tar.gz`,
    'lvsd.spec',
  ])
  const spec = readFileSync(join(srpm, '..', 'lvsd.spec'), 'utf8')
  for (const part of ['%prep', '%build', '%install', '%check', '%changelog', 'BuildRequires:  nodejs-devel'])
    t.true(spec.includes(part), part)
  t.notRegex(spec, /@[A-Z_]+@/)
  t.regex(spec, /^Provides: +bundled\(nodejs-yaml\) = /m)
})
