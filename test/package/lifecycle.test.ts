// Package tier (root, systemd-nspawn, debootstrap): builds the .deb and the .rpm of HEAD, lints them,
// installs the .deb into a fresh Debian 12 root with Debian's own nodejs 18 (the oldest Node lvsd
// claims), boots its systemd and drives the service's life: start, reload good and bad, watchdog,
// permanent failures, man pages, upgrade with an edited conffile, purge after enable.
// This host kernel has no IPVS: lifecycle configs are VRRP-less, and "no IPVS" is the permanent failure.
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import test from 'ava'
import { EXIT } from '../../src/cli/exit-codes.js'
import { BootedRoot, sh, waitFor } from '../helpers/nspawn.js'
import { repoRoot } from '../helpers/paths.js'

const share = mkdtempSync(join(tmpdir(), 'lvsd-pkgtier-'))
let box: BootedRoot | undefined

function build(script: string, env: NodeJS.ProcessEnv = {}): string {
  const r = sh('bash', [join(repoRoot, 'packaging', script)], env)
  if (r.status !== 0) throw new Error(`${script} failed: ${r.stderr.slice(-3000)}`)
  return r.stdout.trim().split('\n').pop() as string
}

const deb = build('build-deb.sh')
const deb2 = build('build-deb.sh', { LVSD_DEB_REVISION: '2' })
const rpm = build('build-rpm.sh')
copyFileSync(deb, join(share, 'lvsd.deb'))
copyFileSync(deb2, join(share, 'lvsd2.deb'))

test.before(async () => {
  box = await BootedRoot.boot(share, `lvsdpkg${process.pid}`)
})

test.after.always(async () => {
  await box?.stop()
  rmSync(share, { recursive: true, force: true })
})

function c(script: string) {
  if (!box) throw new Error('container not booted')
  return box.exec(script)
}
const show = (prop: string) => c(`systemctl show -P ${prop} lvsd`).stdout.trim()
const writeConfig = (text: string) => c(`cat > /etc/lvsd/lvsd.yaml <<'EOF'\n${text}EOF`)

const SERVICE_CONFIG = `node: director
virtual_services:
  - name: web
    address: 10.250.0.3
    port: 80
    protocol: tcp
    real_servers:
      - { address: 10.250.0.7, port: 80 }
`

test.serial('lintian --pedantic: no errors, and the only warning is the explained one', (t) => {
  const r = sh('lintian', ['--pedantic', deb])
  const tags = r.stdout.split('\n').filter((l) => /^[EW]: /.test(l))
  t.deepEqual(
    tags.filter((l) => !l.includes('initial-upload-closes-no-bugs')),
    [],
    r.stdout,
  )
})

test.serial('rpmlint: 0 errors', (t) => {
  const r = sh('rpmlint', ['-r', join(repoRoot, 'packaging', 'rpm', 'lvsd.rpmlintrc'), rpm])
  t.regex(r.stdout, / 0 errors/, r.stdout)
})

test.serial('the .deb depends on the Node floor package.json declares', (t) => {
  const floor = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { engines: { node: string } })
    .engines.node
  const depends = sh('dpkg-deb', ['-f', deb, 'Depends']).stdout
  t.true(depends.includes(`nodejs (>= ${floor.replace(/^>=\s*/, '')})`), depends)
})

test.serial('installs with Debian 12 nodejs 18 and starts: active once lvsd sent READY=1', async (t) => {
  t.regex(c('node --version').stdout, /^v18\./)
  const install = c('dpkg -i /pkg/lvsd.deb')
  t.is(install.status, 0, install.stderr)
  // the package enables nothing and loads no module at boot
  t.is(c('systemctl is-enabled lvsd').stdout.trim(), 'disabled')
  t.is(c('ls /usr/lib/modules-load.d/ 2>/dev/null | grep -c lvsd').stdout.trim(), '0')
  const start = c('systemctl start lvsd')
  t.is(start.status, 0, start.stderr + c('journalctl -u lvsd --no-pager').stdout)
  t.is(show('ActiveState'), 'active')
  t.regex(show('StatusText'), /no VRRP; 0 service/)
})

test.serial("systemd-analyze security: the unit's exposure is at most 2.5", (t) => {
  const r = c('systemd-analyze security --no-pager lvsd.service')
  const m = /Overall exposure level for lvsd\.service: (\d+\.\d+)/.exec(r.stdout)
  t.truthy(m, r.stdout + r.stderr)
  t.true(Number(m?.[1]) <= 2.5, m?.[0])
})

test.serial('journald gets readable lines with priorities, not JSON', (t) => {
  const text = c('journalctl -u lvsd -o cat --no-pager').stdout
  t.regex(text, /^lvsd ready node=director pid=\d+$/m)
  t.notRegex(text, /^\{"level"/m)
})

test.serial('reload: a good file returns 0, a refused file fails and journalctl -p err shows file:line:col', (t) => {
  const good = c('systemctl reload lvsd')
  t.is(good.status, 0, good.stderr)
  writeConfig('node: director\nvrrp:\n  instances: nope\n')
  const bad = c('systemctl reload lvsd')
  t.not(bad.status, 0)
  t.regex(c('journalctl -u lvsd -p err -o cat --no-pager').stdout, /\/etc\/lvsd\/lvsd\.yaml:3:14 vrrp\.instances:/)
  t.is(show('ActiveState'), 'active')
  writeConfig('node: director\n')
  t.is(c('systemctl reload lvsd').status, 0)
})

test.serial(
  'under the unit sandbox (syscall filter, capabilities): VRRP master with the virtual MAC, its adverts from the pacer helper, a track script and a notify program',
  async (t) => {
    // a veth pair inside the container: lvsd alone on v0 becomes MASTER after Master_Down_Interval
    c(
      'ip link add v0 type veth peer name v1 && ip addr add 192.0.2.1/24 dev v0 && ip link set v0 up && ip link set v1 up',
    )
    c(
      [
        'mkdir -p /usr/local/lib/lvsd-test',
        "printf '#!/bin/sh\\nexit 0\\n' > /usr/local/lib/lvsd-test/track",
        // the notify program proves it ran, and as whom, through the journal
        'printf \'#!/bin/sh\\necho notify "$@" uid=$(id -u) | systemd-cat -t lvsd-notify\\n\' > /usr/local/lib/lvsd-test/notify',
        'chmod 0755 /usr/local/lib/lvsd-test/track /usr/local/lib/lvsd-test/notify',
      ].join(' && '),
    )
    writeConfig(`node: director
vrrp:
  scripts:
    - { name: ok, argv: [/usr/local/lib/lvsd-test/track], interval: 1s }
  instances:
    - name: web
      interface: v0
      vrid: 51
      priority: 150
      advert_interval: 1s
      virtual_mac: true
      track: { scripts: [ok] }
      notify: { any: [/usr/local/lib/lvsd-test/notify] }
      vips: [{ address: 192.0.2.3/24 }]
`)
    const reload = c('systemctl restart lvsd')
    t.is(reload.status, 0, reload.stderr + c('journalctl -u lvsd -n 30 -o cat --no-pager').stdout)
    await waitFor('MASTER with the VIP on the virtual MAC', 30_000, () =>
      /192\.0\.2\.3/.test(c('ip -4 addr show dev vrrp.51').stdout) ? true : undefined,
    )
    t.regex(c('ip link show dev vrrp.51').stdout, /00:00:5e:00:01:33/)
    const notify = await waitFor('the notify program', 20_000, () => {
      const out = c('journalctl -t lvsd-notify -o cat --no-pager').stdout
      return /MASTER/.test(out) ? out : undefined
    })
    t.regex(notify, /notify INSTANCE web MASTER 150 uid=\d+/)
    // the routine adverts leave from the pacer helper: the daemon's child, SCHED_RR, no capability
    const helper = await waitFor('the pacer helper', 10_000, () => {
      const pids = c('grep -lx lvsd-pacer /proc/[0-9]*/comm | cut -d/ -f3').stdout.trim()
      return pids || undefined
    })
    const status = c(`cat /proc/${helper}/status`).stdout
    t.regex(status, new RegExp(`PPid:\\s+${show('MainPID')}\\n`))
    t.regex(status, /CapEff:\s+0+\n/)
    t.regex(c(`chrt -p ${helper}`).stdout, /SCHED_RR/)
    // and, inside the unit's sandbox, it holds lvsd's state open: a stopped lvsd falls silent
    t.regex(c(`ls -l /proc/${helper}/fd`).stdout, new RegExp(`/proc/${show('MainPID')}/stat\\n`))
    const journal = c('journalctl -u lvsd -o cat --no-pager').stdout
    t.notRegex(journal, /EPERM|Operation not permitted/)
    t.notRegex(journal, /pacer helper unavailable/)
    writeConfig('node: director\n')
    t.is(c('systemctl restart lvsd').status, 0)
    c('ip link del v0; rm -rf /usr/local/lib/lvsd-test')
  },
)

test.serial('the watchdog restarts a stopped main loop (SIGSTOP)', async (t) => {
  const before = show('MainPID')
  c(`kill -STOP ${before}`)
  const after = await waitFor('a restarted lvsd', 40_000, () => {
    const pid = show('MainPID')
    return pid !== before && pid !== '0' && show('ActiveState') === 'active' ? pid : undefined
  })
  t.not(after, before)
  t.regex(c('journalctl -u lvsd -o cat --no-pager').stdout, /Watchdog timeout/)
})

test.serial('no IPVS in the kernel: exit 69 at error priority, not restarted', async (t) => {
  writeConfig(SERVICE_CONFIG)
  t.not(c('systemctl restart lvsd').status, 0)
  await waitFor('lvsd failed', 20_000, () => (show('ActiveState') === 'failed' ? true : undefined))
  t.is(Number(show('ExecMainStatus')), EXIT.unavailable)
  t.is(show('NRestarts'), '0')
  t.regex(c('journalctl -u lvsd -p err -o cat --no-pager').stdout, /code=LVSD_GENL_FAMILY_ABSENT/)
})

test.serial('a failure that is retried stops at the start limit instead of restarting forever', async (t) => {
  // the same failure with its exit status made retryable, restarted quickly
  c(
    'mkdir -p /run/systemd/system/lvsd.service.d && printf "[Service]\\nRestartPreventExitStatus=\\nRestartSec=100ms\\n" >/run/systemd/system/lvsd.service.d/storm.conf && systemctl daemon-reload && systemctl reset-failed lvsd',
  )
  c('systemctl start lvsd')
  await waitFor('the start limit', 90_000, () =>
    /repeated too quickly/.test(c('journalctl -u lvsd -o cat --no-pager').stdout) ? true : undefined,
  )
  const n = show('NRestarts')
  const burst = Number(show('StartLimitBurst'))
  t.true(Number(n) <= burst, `${n} restarts`)
  await new Promise((r) => setTimeout(r, 3000)) // nothing to wait for: proving nothing more happens
  t.is(show('NRestarts'), n)
  t.is(show('ActiveState'), 'failed')
  c('rm -rf /run/systemd/system/lvsd.service.d && systemctl daemon-reload && systemctl reset-failed lvsd')
})

test.serial('man lvsd, lvsctl and lvsd.yaml work; the docs are installed', (t) => {
  for (const page of ['lvsd', 'lvsctl', 'lvsd.yaml']) {
    const r = c(`MANPAGER=cat MANWIDTH=80 man ${page}`)
    t.is(r.status, 0, r.stderr)
    t.regex(r.stdout, /NAME/)
  }
  t.regex(c('MANPAGER=cat man lvsd').stdout, /--log-format json\|pretty\|journal\|auto/)
  t.is(c('ls /usr/share/doc/lvsd/README.md /usr/share/doc/lvsd/config.md /usr/share/doc/lvsd/first-hour.md').status, 0)
})

test.serial(
  'lvsd-realserver beside a running lvsd: up as root records in its own directory, a restart of lvsd keeps the record, stop restores',
  (t) => {
    // what the Vagrant lab does: the package made /run/lvsd the lvsd user's, root runs `realserver up`
    writeConfig('node: director\n')
    c('systemctl reset-failed lvsd')
    const start = c('systemctl restart lvsd')
    t.is(start.status, 0, start.stderr + c('journalctl -u lvsd -n 20 -o cat --no-pager').stdout)
    t.is(c('stat -c %U /run/lvsd').stdout.trim(), 'lvsd')
    c('ip link add rs0 type veth peer name rs1 && ip link set rs0 up && ip link set rs1 up')
    c(
      "cat > /etc/lvsd/realserver.yaml <<'EOF'\nrealserver:\n  method: dr\n  vips: [10.250.0.3]\n  interfaces: [rs0]\nEOF",
    )
    const arpIgnore = () => c('cat /proc/sys/net/ipv4/conf/rs0/arp_ignore').stdout.trim()
    const before = arpIgnore()
    t.not(before, '1')
    const journal = () => c('journalctl -u lvsd-realserver -o cat --no-pager').stdout
    const up = c('systemctl start lvsd-realserver')
    t.is(up.status, 0, up.stderr + journal())
    t.regex(c('ip -4 addr show dev lo').stdout, /inet 10\.250\.0\.3\//)
    t.is(arpIgnore(), '1')
    t.is(c('lvsd realserver check -c /etc/lvsd/realserver.yaml').status, 0)
    t.is(c('stat -c %U /run/lvsd-realserver/record.json').stdout.trim(), 'root')
    // stopping lvsd removes its runtime directory: the real server's record must not be in it
    t.is(c('systemctl restart lvsd').status, 0)
    t.regex(c('cat /run/lvsd-realserver/record.json').stdout, /arp_ignore/)
    const down = c('systemctl stop lvsd-realserver')
    t.is(down.status, 0, down.stderr + journal())
    t.notRegex(c('ip -4 addr show dev lo').stdout, /10\.250\.0\.3/)
    t.is(arpIgnore(), before)
    // by hand, as the lab's namespaces do it, with an explicit record beside the default one
    const byHand = c('lvsd realserver up -c /etc/lvsd/realserver.yaml --record /run/lvsd-realserver/web01.json')
    t.is(byHand.status, 0, byHand.stderr)
    t.is(c('lvsd realserver down -c /etc/lvsd/realserver.yaml --record /run/lvsd-realserver/web01.json').status, 0)
    t.is(arpIgnore(), before)
    c('ip link del rs0')
  },
)

test.serial('upgrade keeps an edited conffile and restarts the running daemon', (t) => {
  writeConfig('node: edited\n')
  t.is(c('systemctl start lvsd').status, 0)
  const r = c('dpkg -i --force-confold /pkg/lvsd2.deb')
  t.is(r.status, 0, r.stderr)
  t.regex(c('dpkg-query -W lvsd').stdout, /0\.\d+\.\d+-2/)
  t.is(c('cat /etc/lvsd/lvsd.yaml').stdout, 'node: edited\n')
  t.is(show('ActiveState'), 'active')
})

test.serial('purge after systemctl enable leaves nothing of lvsd behind', (t) => {
  t.is(c('systemctl enable lvsd').status, 0)
  t.is(c('test -L /etc/systemd/system/multi-user.target.wants/lvsd.service').status, 0)
  const r = c('dpkg -P lvsd')
  t.is(r.status, 0, r.stderr)
  // man-db's own page cache (made by `man lvsd` above) is man-db's to expire, not the package's
  const left = c(
    "find / -xdev \\( -path /proc -o -path /pkg -o -path /var/cache/man \\) -prune -o -name '*lvsd*' -print",
  ).stdout
  t.is(left, '')
  t.is(show('LoadState'), 'not-found')
})

test.serial('two builds of the same commit are byte-identical (.deb and .rpm)', (t) => {
  const other = mkdtempSync(join(tmpdir(), 'lvsd-pkgtier-rebuild-'))
  try {
    const deb2nd = build('build-deb.sh', { LVSD_PKG_DIR: other })
    const rpm2nd = build('build-rpm.sh', { LVSD_PKG_DIR: other })
    const sum = (f: string) => sh('sha256sum', [f]).stdout.split(' ')[0]
    t.is(sum(deb2nd), sum(deb), basename(deb))
    t.is(sum(rpm2nd), sum(rpm), basename(rpm))
  } finally {
    rmSync(other, { recursive: true, force: true })
  }
})
