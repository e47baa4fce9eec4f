// The .deb that packaging/build-deb.sh makes: control fields, file list, conffiles, maintainer
// scripts, and the unpacked tree running (wrappers, addon, unit file) — all without root.
import { execFile, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import test from 'ava'
import { repoRoot } from '../helpers/paths.js'

const scratchDirs: string[] = []
/** A temporary directory, removed after the file's tests. */
function scratch(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  scratchDirs.push(dir)
  return dir
}
test.after.always(() => {
  for (const dir of scratchDirs) rmSync(dir, { recursive: true, force: true })
})

const BUILD_TIMEOUT = 600_000
const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version

function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts })
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? r.error?.message ?? '' }
}

// One build for the whole file (cached per commit by the script; ~1 min on a new commit).
const built = promisify(execFile)('bash', [join(repoRoot, 'packaging', 'build-deb.sh')], {
  cwd: repoRoot,
  maxBuffer: 64 << 20,
  timeout: BUILD_TIMEOUT,
}).then(({ stdout }) => {
  const deb = stdout.trim().split('\n').at(-1) ?? ''
  const root = scratch('lvsd-deb-')
  const x = sh('dpkg-deb', ['-x', deb, root])
  if (x.status !== 0) throw new Error(`dpkg-deb -x: ${x.stderr}`)
  return { deb, root }
})
built.catch(() => {})

async function pkg(t: { timeout: (ms: number) => void }) {
  t.timeout(BUILD_TIMEOUT)
  return built
}

/** `dpkg-deb -c` as path → {mode, owner}; directories end in '/'. */
function contents(deb: string): Map<string, { mode: string; owner: string }> {
  const out = new Map<string, { mode: string; owner: string }>()
  for (const line of sh('dpkg-deb', ['-c', deb]).stdout.split('\n')) {
    // names may hold spaces (node_modules fixtures); a symlink's line ends in ' -> target'
    const m = /^(\S+) (\S+)\s+\d+ \S+ \S+ \.(\/.*?)(?: -> .*)?$/.exec(line)
    if (m?.[1] && m[2] && m[3]) out.set(m[3], { mode: m[1], owner: m[2] })
  }
  return out
}

test('control: lvsd <version>-1 for the dpkg architecture, depending on nodejs >= the engines floor (18.17), libc6 and libstdc++6; Homepage set', async (t) => {
  const { deb } = await pkg(t)
  const field = (f: string) => sh('dpkg-deb', ['-f', deb, f]).stdout.trim()
  t.is(field('Package'), 'lvsd')
  t.is(field('Version'), `${version}-1`)
  t.is(field('Architecture'), sh('dpkg', ['--print-architecture']).stdout.trim())
  const depends = field('Depends').split(/,\s*/)
  t.is(depends[0], 'nodejs (>= 18.17)')
  t.regex(field('Homepage'), /^https:\/\//)
  t.notRegex(field('Maintainer'), /localhost/)
  t.true(
    depends.some((d) => /^libc6 \(>= [\d.]+\)$/.test(d)),
    field('Depends'),
  )
  t.true(
    depends.some((d) => /^libstdc\+\+6 \(>= [\d.]+\)$/.test(d)),
    field('Depends'),
  )
  t.regex(field('Description'), /LVS director/)
  t.regex(field('Installed-Size'), /^\d+$/)
})

test('the conffiles are /etc/lvsd/lvsd.yaml and /etc/lvsd/realserver.yaml', async (t) => {
  const { deb } = await pkg(t)
  t.is(sh('dpkg-deb', ['-I', deb, 'conffiles']).stdout, '/etc/lvsd/lvsd.yaml\n/etc/lvsd/realserver.yaml\n')
})

test('files: app under /usr/lib/lvsd, wrappers, unit, sysusers/tmpfiles, examples (no modules-load: the unit loads ip_vs); all root-owned', async (t) => {
  const { deb } = await pkg(t)
  const files = contents(deb)
  const expect: Array<[string, string]> = [
    ['/usr/bin/lvsd', '-rwxr-xr-x'],
    ['/usr/bin/lvsctl', '-rwxr-xr-x'],
    ['/usr/lib/lvsd/package.json', '-rw-r--r--'],
    ['/usr/lib/lvsd/bin/lvsd.js', '-rwxr-xr-x'],
    ['/usr/lib/lvsd/bin/lvsctl.js', '-rwxr-xr-x'],
    ['/usr/lib/lvsd/dist/src/cli/lvsd.js', '-rw-r--r--'],
    ['/usr/lib/lvsd/build/Release/lvsd_native.node', '-rw-r--r--'],
    ['/usr/lib/lvsd/node_modules/pino/package.json', '-rw-r--r--'],
    ['/usr/lib/lvsd/node_modules/pino-pretty/package.json', '-rw-r--r--'],
    ['/usr/lib/lvsd/node_modules/yaml/package.json', '-rw-r--r--'],
    ['/etc/lvsd/lvsd.yaml', '-rw-r--r--'],
    ['/lib/systemd/system/lvsd.service', '-rw-r--r--'],
    ['/etc/lvsd/realserver.yaml', '-rw-r--r--'],
    ['/lib/systemd/system/lvsd-realserver.service', '-rw-r--r--'],
    ['/usr/lib/sysusers.d/lvsd.conf', '-rw-r--r--'],
    ['/usr/lib/tmpfiles.d/lvsd.conf', '-rw-r--r--'],
    ['/usr/share/doc/lvsd/copyright', '-rw-r--r--'],
    ['/usr/share/doc/lvsd/changelog.Debian.gz', '-rw-r--r--'],
    ['/usr/share/doc/lvsd/examples/lb01.yaml', '-rw-r--r--'],
    ['/usr/share/doc/lvsd/examples/realserver.yaml', '-rw-r--r--'],
    ['/usr/share/doc/lvsd/examples/lvsd.schema.json', '-rw-r--r--'],
  ]
  for (const [path, mode] of expect) t.is(files.get(path)?.mode, mode, path)
  t.is(files.get('/')?.mode, 'drwxr-xr-x')
  for (const [path, { owner }] of files) t.is(owner, 'root/root', path)
})

test('files: node_modules holds exactly the lockfile production packages; no tests, sources or maps of lvsd', async (t) => {
  const { deb } = await pkg(t)
  const paths = new Set(contents(deb).keys())
  const lock = JSON.parse(readFileSync(join(repoRoot, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean }>
  }
  const entries = Object.entries(lock.packages).filter(([k]) => k.startsWith('node_modules/'))
  const has = (k: string) => paths.has(`/usr/lib/lvsd/${k}/package.json`)
  const prod = entries.filter(([, v]) => v.dev !== true).map(([k]) => k)
  t.true(prod.includes('node_modules/pino'))
  t.deepEqual(
    prod.filter((k) => !has(k)),
    [],
  )
  t.deepEqual(
    entries.filter(([k, v]) => v.dev === true && has(k)).map(([k]) => k),
    [],
  )
  const own = [...paths].filter((p) => p.startsWith('/usr/lib/lvsd/') && !p.includes('/node_modules/'))
  t.deepEqual(
    own.filter((p) => /\/dist\/(test|bench)\/|\.map$|\.ts$|\/obj\.target\/|\/native\/|binding\.gyp$/.test(p)),
    [],
  )
  const emptyScopes = [...paths].filter(
    (p) => /node_modules\/@[^/]+\/$/.test(p) && ![...paths].some((q) => q !== p && q.startsWith(p)),
  )
  t.deepEqual(emptyScopes, [])
})

test('the addon is stripped (no .symtab) and needs no glibc newer than 2.28 nor libstdc++ newer than RHEL 8 has', async (t) => {
  const { root } = await pkg(t)
  const node = join(root, 'usr/lib/lvsd/build/Release/lvsd_native.node')
  const sections = sh('readelf', ['-S', '-W', node])
  t.is(sections.status, 0, sections.stderr)
  t.notRegex(sections.stdout, /\.symtab/)
  const versions = [...sh('objdump', ['-T', node]).stdout.matchAll(/GLIBC_(\d+)\.(\d+)/g)].map(
    (m) => Number(m[1]) * 1000 + Number(m[2]),
  )
  t.true(versions.length > 0)
  t.true(Math.max(...versions) <= 2028)
  // RHEL 8's libstdc++ (GCC 8) stops at GLIBCXX_3.4.25
  const cxx = [...sh('objdump', ['-T', node]).stdout.matchAll(/GLIBCXX_3\.4\.(\d+)/g)].map((m) => Number(m[1]))
  t.true(Math.max(0, ...cxx) <= 25, `GLIBCXX_3.4.${Math.max(...cxx)}`)
})

test('maintainer scripts: postinst, prerm, postrm exist, are executable and parse', async (t) => {
  const { deb } = await pkg(t)
  const dir = scratch('lvsd-debctl-')
  t.is(sh('dpkg-deb', ['-e', deb, dir]).status, 0)
  const info = sh('dpkg-deb', ['-I', deb]).stdout
  for (const s of ['postinst', 'prerm', 'postrm']) {
    t.regex(info, new RegExp(`\\d+ bytes,\\s+\\d+ lines\\s+\\*\\s+${s}\\s+#!/bin/sh`), s)
    const n = sh('sh', ['-n', join(dir, s)])
    t.is(n.status, 0, `${s}: ${n.stderr}`)
  }
  t.regex(readFileSync(join(dir, 'postrm'), 'utf8'), /"\$1" = purge[\s\S]*rm -rf \/etc\/lvsd/)
})

test('the unpacked wrappers run lvsd --version, lvsctl --version and lvsd check of the shipped config', async (t) => {
  const { root } = await pkg(t)
  const v = sh(join(root, 'usr/bin/lvsd'), ['--version'], { cwd: tmpdir() })
  t.is(v.stdout, `lvsd ${version}\n`, v.stderr)
  const c = sh(join(root, 'usr/bin/lvsctl'), ['--version'], { cwd: tmpdir() })
  t.is(c.stdout, `lvsctl ${version}\n`, c.stderr)
  const check = sh(join(root, 'usr/bin/lvsd'), ['check', join(root, 'etc/lvsd/lvsd.yaml')], { cwd: tmpdir() })
  t.is(check.status, 0, check.stderr)
  t.regex(check.stdout, /^node director$/m)
})

test('the wrapper puts LVSD_NODE_ARGS before the script: the VRRP-only profile runs quietly, a bad flag reaches node', async (t) => {
  const { root } = await pkg(t)
  const lvsd = join(root, 'usr/bin/lvsd')
  const lite = sh(lvsd, ['--version'], {
    cwd: tmpdir(),
    env: { ...process.env, LVSD_NODE_ARGS: '--lite-mode --no-expose-wasm' },
  })
  t.is(lite.status, 0, lite.stderr)
  t.is(lite.stdout, `lvsd ${version}\n`)
  t.is(lite.stderr, '')
  const bad = sh(lvsd, ['--version'], { cwd: tmpdir(), env: { ...process.env, LVSD_NODE_ARGS: '--no-such-node-flag' } })
  t.not(bad.status, 0)
  t.regex(bad.stderr, /bad option: --no-such-node-flag/)
})

test('the unpacked app loads its own stripped addon from build/Release beside package.json', async (t) => {
  const { root } = await pkg(t)
  const app = join(root, 'usr/lib/lvsd')
  const script = `const m = await import(${JSON.stringify(join(app, 'dist/src/sys/native.js'))})
const n = m.native(); console.log(JSON.stringify({ path: m.addonPath(), tid: n.gettid() }))`
  const env = { ...process.env }
  delete env.LVSD_NATIVE_PATH
  const r = sh(process.execPath, ['--input-type=module', '-e', script], { cwd: tmpdir(), env })
  t.is(r.status, 0, r.stderr)
  const out = JSON.parse(r.stdout) as { path: string; tid: number }
  t.is(out.path, join(app, 'build/Release/lvsd_native.node'))
  t.true(out.tid > 0)
})

test('the commented example in the shipped lvsd.yaml, uncommented, is a valid director', async (t) => {
  const { root } = await pkg(t)
  const text = readFileSync(join(root, 'etc/lvsd/lvsd.yaml'), 'utf8')
  const start = text.indexOf('# vrrp:')
  t.true(start > 0)
  const body = text
    .slice(start)
    .split('\n')
    .map((l) => (/^# ( *[a-z_-]+:| *- )/.test(l) ? l.slice(2) : l))
    .join('\n')
  const file = join(scratch('lvsd-conf-'), 'uncommented.yaml')
  writeFileSync(file, text.slice(0, start) + body)
  const r = sh(join(root, 'usr/bin/lvsd'), ['check', file])
  t.is(r.status, 0, r.stderr)
  t.regex(r.stdout, /vrrp web: eth0 vrid 51 prio 150/)
  t.regex(r.stdout, /TCP 10\.0\.0\.3:80 wrr dr/)
})
