// Installs the lvsd .deb in a VM (the guest's root is a throw-away overlay of the host's, so dpkg
// really writes its database), uses it, removes and purges it: one boot, every check below.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import test from 'ava'
import { runAgent } from '../../lab/vm/guest.js'
import { repoRoot } from '../helpers/paths.js'
import type { InstallReport } from './agents/packaging-install.js'

const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version

// The .deb is built on the host first (its app is cached per commit in build/pkg).
const result = (async () => {
  const { stdout } = await promisify(execFile)('bash', [join(repoRoot, 'packaging', 'build-deb.sh')], {
    cwd: repoRoot,
    maxBuffer: 64 << 20,
    timeout: 600_000,
  })
  const deb = stdout.trim().split('\n').at(-1) ?? ''
  return runAgent<InstallReport>('dist/test/vm/agents/packaging-install.js', [deb], {
    cwd: repoRoot,
    timeoutMs: 540_000,
  })
})()
result.catch(() => {})

async function report(t: { timeout: (ms: number) => void }): Promise<InstallReport> {
  t.timeout(1_200_000)
  return (await result).value
}

test('dpkg -i installs the package with its dependencies satisfied by the host', async (t) => {
  const r = await report(t)
  t.deepEqual(r.before, { app: false, user: false })
  t.is(r.install.status, 0, r.install.stderr)
  t.is(r.status, 'ii')
})

test('postinst creates the lvsd system user and group, and /run/lvsd 0750 lvsd:lvsd', async (t) => {
  const r = await report(t)
  t.regex(r.user, /^lvsd:x:\d+:\d+:lvsd LVS director:\/nonexistent:\/usr\/sbin\/nologin$/)
  const uid = Number(r.user.split(':')[2])
  t.true(uid > 0 && uid < 1000, r.user)
  t.regex(r.group, /^lvsd:x:\d+:/)
  t.deepEqual(r.runDir, { mode: '750', owner: 'lvsd:lvsd' })
})

test('lvsd --version, lvsctl --version and lvsd check /etc/lvsd/lvsd.yaml work from /usr/bin', async (t) => {
  const r = await report(t)
  t.is(r.version.lvsd.stdout, `lvsd ${version}\n`, r.version.lvsd.stderr)
  t.is(r.version.lvsctl.stdout, `lvsctl ${version}\n`, r.version.lvsctl.stderr)
  t.is(r.check.status, 0, r.check.stderr)
  t.regex(r.check.stdout, /\/etc\/lvsd\/lvsd\.yaml: ok/)
})

test("the unit's ExecStartPre loads ip_vs and lvsctl ipvs (addon from /usr/lib/lvsd) prints what ipvsadm -Ln does", async (t) => {
  const r = await report(t)
  t.is(r.modulesLoad.status, 0, r.modulesLoad.stderr)
  t.is(r.lvsctlIpvs.status, 0, r.lvsctlIpvs.stderr)
  t.regex(r.lvsctlIpvs.stdout, /^IP Virtual Server version \d+\.\d+\.\d+ \(size=\d+\)\n/)
  t.is(r.lvsctlIpvs.stdout, r.ipvsadm.stdout)
})

test('systemd-analyze verify accepts the installed unit, its executables included', async (t) => {
  const r = await report(t)
  t.is(r.verify.status, 0, r.verify.stderr)
  t.is(r.verify.stderr, '')
})

test('as user lvsd with the unit ambient capabilities the daemon runs SCHED_RR, takes the VIP and gives it back on SIGTERM', async (t) => {
  const d = (await report(t)).daemonWithCaps
  t.not(d.vipAfterMs, null, d.log)
  t.log(`VIP on lvsd0 ${d.vipAfterMs} ms after spawn`)
  t.regex(d.log, /VRRP worker runs SCHED_RR/)
  t.is(d.status, 0, d.log)
  t.false(d.vipAfterStop)
})

test('without those capabilities the same daemon cannot take the VIP (the capabilities are what makes it work)', async (t) => {
  const d = (await report(t)).daemonWithoutCaps
  t.is(d.vipAfterMs, null, d.log)
  t.regex(d.log, /socket failed: EPERM/)
  t.regex(d.log, /without real-time scheduling/)
  t.false(d.vipAfterStop)
})

test('dpkg -r removes the files but keeps the edited /etc/lvsd/lvsd.yaml', async (t) => {
  const r = await report(t)
  t.is(r.remove.status, 0, r.remove.stderr)
  t.like(r.afterRemove, { app: false, bin: false, unit: false, conf: true, status: 'rc' })
  t.regex(r.afterRemove.confKept, /^node: vm\n/)
})

test('dpkg -P purges /etc/lvsd entirely and forgets the package', async (t) => {
  const r = await report(t)
  t.is(r.purge.status, 0, r.purge.stderr)
  t.false(r.afterPurge.etc)
  t.not(r.afterPurge.status.status, 0)
})
