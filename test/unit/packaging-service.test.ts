// packaging/lvsd.service: systemd 252 (Debian 12) accepts every line, and the unit keeps the
// privileges lvsd needs (raw sockets, netlink, SCHED_RR) while running as the lvsd user.
import { spawnSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { EXIT } from '../../src/cli/exit-codes.js'
import { startFailureExit } from '../../src/cli/run.js'
import { DEFAULT_RECORD } from '../../src/realserver/record.js'
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

const unitText = readFileSync(join(repoRoot, 'packaging', 'lvsd.service'), 'utf8')

/** The [Service] section's settings, key → every value given (systemd allows repeats). */
function settings(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line)
    if (m?.[1] !== undefined && m[2] !== undefined) out.set(m[1], [...(out.get(m[1]) ?? []), m[2]])
  }
  return out
}

/** systemd-analyze verify on a copy whose /usr/bin/lvsd and lvsctl are stand-ins (verify wants the files to exist). */
function verify(text: string) {
  const dir = scratch('lvsd-unit-')
  let copy = text
  for (const cmd of ['lvsd', 'lvsctl']) {
    const stand = join(dir, cmd)
    writeFileSync(stand, '#!/bin/sh\nexit 0\n')
    chmodSync(stand, 0o755)
    copy = copy.replaceAll(`/usr/bin/${cmd} `, `${stand} `)
  }
  const unit = join(dir, 'lvsd.service')
  writeFileSync(unit, copy)
  const r = spawnSync('systemd-analyze', ['verify', '--man=no', unit], { encoding: 'utf8' })
  return { status: r.status, stderr: r.stderr ?? r.error?.message ?? '' }
}

test('systemd-analyze verify accepts the unit without a single warning', (t) => {
  const r = verify(unitText)
  t.is(r.status, 0, r.stderr)
  t.is(r.stderr, '')
})

test('the verify check notices an unknown key or a bad value (so a clean run means something)', (t) => {
  t.regex(verify(unitText.replace('Type=notify', 'Type=notifyy')).stderr, /Failed to parse service type/)
  t.regex(verify(unitText.replace('NoNewPrivileges=yes', 'NoNewPrivilege=yes')).stderr, /Unknown key/)
})

test('Type=notify with a watchdog, runs lvsd run -c /etc/lvsd/lvsd.yaml, reloads through lvsctl (fails when lvsd refuses the file)', (t) => {
  const s = settings(unitText)
  t.deepEqual(s.get('Type'), ['notify'])
  t.deepEqual(s.get('ExecStart'), ['/usr/bin/lvsd run -c /etc/lvsd/lvsd.yaml'])
  // Node flags (the VRRP-only profile) come from an optional file the packages do not ship
  t.deepEqual(s.get('EnvironmentFile'), ['-/etc/lvsd/lvsd.env'])
  t.deepEqual(s.get('ExecReload'), ['/usr/bin/lvsctl reload'])
  t.regex(s.get('WatchdogSec')?.[0] ?? '', /^\d+s$/)
  t.deepEqual(s.get('Restart'), ['on-failure'])
  t.deepEqual(s.get('KillSignal'), ['SIGTERM'])
  t.truthy(s.get('TimeoutStopSec'))
})

test('permanent failures are not restarted, and other start failures stop at the start limit', (t) => {
  const s = settings(unitText)
  t.deepEqual(
    s
      .get('RestartPreventExitStatus')?.[0]
      ?.split(' ')
      .map(Number)
      .sort((a, b) => a - b),
    [EXIT.invalidConfig, EXIT.usage, EXIT.unavailable],
  )
  t.truthy(Number.parseInt(s.get('StartLimitBurst')?.[0] ?? '', 10) > 0)
  t.regex(s.get('StartLimitIntervalSec')?.[0] ?? '', /^\d+s$/)
  // the no-IPVS start failure maps to the status the unit lists
  t.is(startFailureExit('LVSD_GENL_FAMILY_ABSENT'), EXIT.unavailable)
  t.is(startFailureExit('LVSD_NATIVE_MISSING'), EXIT.unavailable)
  t.is(startFailureExit('LVSD_SYS_CALL'), EXIT.failure)
})

test("Documentation= names installed man pages, not another package's", (t) => {
  const docs = settings(unitText).get('Documentation')?.[0]?.split(' ') ?? []
  t.true(docs.includes('man:lvsd(8)'))
  t.false(docs.some((d) => d.includes('ipvsadm')))
})

test('unprivileged user with exactly CAP_NET_RAW, CAP_NET_ADMIN, CAP_SYS_NICE, and an RT priority limit', (t) => {
  const s = settings(unitText)
  t.deepEqual(s.get('User'), ['lvsd'])
  const caps = ['CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_SYS_NICE']
  t.deepEqual(s.get('AmbientCapabilities')?.[0]?.split(' ').sort(), caps)
  t.deepEqual(s.get('CapabilityBoundingSet')?.[0]?.split(' ').sort(), caps)
  t.deepEqual(s.get('LimitRTPRIO'), ['99'])
  t.deepEqual(s.get('NoNewPrivileges'), ['yes'])
  t.deepEqual(s.get('RuntimeDirectory'), ['lvsd'])
})

test('hardening leaves raw sockets, netlink, net sysctls and SCHED_RR usable', (t) => {
  const s = settings(unitText)
  t.deepEqual(s.get('ProtectSystem'), ['strict'])
  t.deepEqual(s.get('ProtectHome'), ['yes'])
  t.deepEqual(s.get('RestrictAddressFamilies')?.[0]?.split(' ').sort(), [
    'AF_INET',
    'AF_INET6',
    'AF_NETLINK',
    'AF_PACKET',
    'AF_UNIX',
  ])
  // each of these would break lvsd: SCHED_RR, the VRRP virtual MAC's sysctls, V8's JIT, the network
  for (const k of ['RestrictRealtime', 'ProtectKernelTunables', 'MemoryDenyWriteExecute', 'PrivateNetwork']) {
    t.is(s.get(k), undefined, k)
  }
})

const realserverUnit = readFileSync(join(repoRoot, 'packaging', 'lvsd-realserver.service'), 'utf8')

test('lvsd-realserver.service: systemd-analyze verify accepts it without a warning', (t) => {
  const r = verify(realserverUnit)
  t.is(r.status, 0, r.stderr)
  t.is(r.stderr, '')
})

test("lvsd-realserver.service keeps its record in a runtime directory of its own, not lvsd.service's", (t) => {
  // lvsd.service's /run/lvsd is the lvsd user's and goes when that unit stops: a record there is
  // refused to root (owned by another user) or lost, and `down` could no longer undo `up`
  const own = settings(realserverUnit).get('RuntimeDirectory')
  t.deepEqual(own, ['lvsd-realserver'])
  t.notDeepEqual(own, settings(unitText).get('RuntimeDirectory'))
  t.true(DEFAULT_RECORD.startsWith(`/run/${own?.[0]}/`))
})

test('lvsd-realserver.service is a oneshot that stays active: up on start, down on stop', (t) => {
  const s = settings(realserverUnit)
  t.deepEqual(s.get('Type'), ['oneshot'])
  t.deepEqual(s.get('RemainAfterExit'), ['yes'])
  t.deepEqual(s.get('ExecStart'), ['/usr/bin/lvsd realserver up -c /etc/lvsd/realserver.yaml'])
  t.deepEqual(s.get('ExecStop'), ['/usr/bin/lvsd realserver down -c /etc/lvsd/realserver.yaml'])
  t.deepEqual(s.get('WantedBy'), ['multi-user.target'])
})
