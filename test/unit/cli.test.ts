// The lvsd and lvsctl command lines as an operator runs them: exit statuses and what they print.
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { repoRoot } from '../helpers/paths.js'

function run(bin: 'lvsd' | 'lvsctl', args: string[], cwd = repoRoot) {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', `${bin}.js`), ...args], { encoding: 'utf8', cwd })
  return { status: r.status, stdout: r.stdout, stderr: r.stderr }
}

const examples = readdirSync(join(repoRoot, 'conf')).filter((f) => f.endsWith('.yaml'))

test('the conf/ directory holds the seed pair and the NAT, TUN and IPv6 examples', (t) => {
  for (const f of ['lb01.yaml', 'lb02.yaml', 'nat-service.yaml', 'tun-service.yaml', 'ipv6-service.yaml']) {
    t.true(examples.includes(f), f)
  }
})

for (const f of examples) {
  test(`lvsd check accepts conf/${f} and summarises it`, (t) => {
    const r = run('lvsd', ['check', `conf/${f}`])
    t.is(r.status, 0, r.stderr)
    t.regex(r.stdout, /^node \S+$/m)
    t.true(r.stdout.trimEnd().endsWith(`conf/${f}: ok`))
  })
}

test('lvsd check on the seed director names its VRRP instance and its DR service', (t) => {
  const r = run('lvsd', ['check', 'conf/lb01.yaml'])
  t.regex(r.stdout, /vrrp \S+: eth0 vrid 51 prio 150 /)
  t.regex(r.stdout, /TCP 10\.0\.0\.3:80 wrr dr {2}2 real servers/)
})

test('lvsd check rejects every file of the broken-config corpus with exit status 2 and its exact errors at file:line:col', (t) => {
  // the corpus's .expected files name the file as given: run from its directory
  const dir = join(repoRoot, 'test', 'configs', 'bad')
  const sample = readdirSync(dir).filter((f) => f.endsWith('.yaml'))
  t.true(sample.length >= 30)
  for (const f of sample) {
    const expected = readFileSync(join(dir, f.replace(/\.yaml$/, '.expected')), 'utf8')
      .trimEnd()
      .split('\n')
    const r = run('lvsd', ['check', f], dir)
    t.is(r.status, 2, f)
    t.is(r.stdout, '', f)
    const lines = r.stderr.trimEnd().split('\n')
    t.deepEqual(lines.slice(0, -1), expected, f)
    t.regex(lines.at(-1) ?? '', /configuration rejected$/)
  }
})

test('lvsd check on a missing file exits 2 and says it cannot read it', (t) => {
  const r = run('lvsd', ['check', 'conf/does-not-exist.yaml'])
  t.is(r.status, 2)
  t.regex(r.stderr, /cannot read conf\/does-not-exist\.yaml: ENOENT/)
})

test('--version prints the package version; --help lists check; unknown commands exit 64', (t) => {
  const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version
  t.is(run('lvsd', ['--version']).stdout, `lvsd ${version}\n`)
  t.is(run('lvsctl', ['--version']).stdout, `lvsctl ${version}\n`)
  const help = run('lvsd', ['--help'])
  t.is(help.status, 0)
  t.regex(help.stdout, /^ {2}check <file>/m)
  t.is(run('lvsd', ['frobnicate']).status, 64)
  t.is(run('lvsd', ['check']).status, 64)
  t.is(run('lvsd', ['--bogus']).status, 64)
})
