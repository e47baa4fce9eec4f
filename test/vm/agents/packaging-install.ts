// Guest-side agent of packaging-install.test.ts: dpkg -i the lvsd .deb on the VM's throw-away root,
// use it (commands, addon, unit, the daemon as the lvsd user with the unit's capabilities), then
// dpkg -r and dpkg -P, and report what each step saw.
// Usage (inside the VM, as root): node dist/test/vm/agents/packaging-install.js <path-to.deb>
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { report } from '../../../lab/vm/guest.js'

export interface Cmd {
  status: number | null
  stdout: string
  stderr: string
}

export interface DaemonRun {
  /** ms from spawn until the VIP was on the interface, null if it never was */
  vipAfterMs: number | null
  /** exit status after SIGTERM (or of its own accord) */
  status: number | null
  vipAfterStop: boolean
  log: string
}

export interface InstallReport {
  before: { app: boolean; user: boolean }
  install: Cmd
  user: string
  group: string
  runDir: { mode: string; owner: string } | null
  version: { lvsd: Cmd; lvsctl: Cmd }
  check: Cmd
  modulesLoad: Cmd
  lvsctlIpvs: Cmd
  ipvsadm: Cmd
  verify: Cmd
  status: string
  daemonWithCaps: DaemonRun
  daemonWithoutCaps: DaemonRun
  remove: Cmd
  afterRemove: { app: boolean; bin: boolean; unit: boolean; conf: boolean; confKept: string; status: string }
  purge: Cmd
  afterPurge: { etc: boolean; status: Cmd }
}

const [deb = ''] = process.argv.slice(2)
const VIP = '192.0.2.100'

function run(cmd: string, args: string[], input?: string): Cmd {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...(input === undefined ? {} : { input }) })
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? r.error?.message ?? '' }
}

// dpkg-query's own ${field} syntax, not a template
const STATUS_FORMAT = ['$', '{db:Status-Abbrev}'].join('')
const dpkgStatus = () => run('dpkg-query', ['-W', '-f', STATUS_FORMAT, 'lvsd']).stdout.trim()
const vipUp = () => run('ip', ['-4', '-o', 'addr', 'show', 'dev', 'lvsd0']).stdout.includes(`${VIP}/`)

/** `lvsd run` as the lvsd user the way the unit starts it: ambient caps (or none), no new privileges. */
async function daemon(caps: string[], limitMs: number): Promise<DaemonRun> {
  const set = caps.map((c) => `+${c}`).join(',')
  // AmbientCapabilities= needs the caps inheritable too; CapabilityBoundingSet= is the bounding set
  const capArgs = caps.length ? [`--inh-caps=${set}`, `--ambient-caps=${set}`, `--bounding-set=-all,${set}`] : []
  const child = spawn(
    'setpriv',
    [
      '--reuid=lvsd',
      '--regid=lvsd',
      '--init-groups',
      ...capArgs,
      '--no-new-privs',
      '--',
      '/usr/bin/lvsd',
      'run',
      '-c',
      '/etc/lvsd/lvsd.yaml',
      '--log-format',
      'json',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: '/nonexistent' } },
  )
  let log = ''
  child.stdout.on('data', (b: Buffer) => {
    log += b.toString()
  })
  child.stderr.on('data', (b: Buffer) => {
    log += b.toString()
  })
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  let done = false
  void exited.then(() => {
    done = true
  })
  const t0 = Date.now()
  let vipAfterMs: number | null = null
  while (!done && Date.now() - t0 < limitMs) {
    if (vipUp()) {
      vipAfterMs = Date.now() - t0
      break
    }
    await new Promise((r) => setTimeout(r, 200))
  }
  if (!done) child.kill('SIGTERM')
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const status = await exited
  clearTimeout(killer)
  return { vipAfterMs, status, vipAfterStop: vipUp(), log: log.slice(-6000) }
}

const before = { app: existsSync('/usr/lib/lvsd'), user: run('getent', ['passwd', 'lvsd']).status === 0 }
const install = run('dpkg', ['-i', deb])
const user = run('getent', ['passwd', 'lvsd']).stdout.trim()
const group = run('getent', ['group', 'lvsd']).stdout.trim()
let runDir: InstallReport['runDir'] = null
if (existsSync('/run/lvsd')) {
  const st = statSync('/run/lvsd')
  runDir = { mode: (st.mode & 0o7777).toString(8), owner: run('stat', ['-c', '%U:%G', '/run/lvsd']).stdout.trim() }
}
const version = { lvsd: run('lvsd', ['--version']), lvsctl: run('lvsctl', ['--version']) }
const check = run('lvsd', ['check', '/etc/lvsd/lvsd.yaml'])
// what the unit's ExecStartPre= does when lvsd starts (no modules-load.d entry: nothing at boot)
const pre = /^ExecStartPre=\+-(\S+) (.*)$/m.exec(readFileSync('/lib/systemd/system/lvsd.service', 'utf8'))
const modulesLoad = run(pre?.[1] ?? 'false', (pre?.[2] ?? '').split(' '))
const lvsctlIpvs = run('lvsctl', ['ipvs'])
const ipvsadm = run('ipvsadm', ['-Ln'])
const verify = run('systemd-analyze', ['verify', '--man=no', '/lib/systemd/system/lvsd.service'])
const status = dpkgStatus()

// An edited conffile: a real VRRP instance on a dummy interface, so the daemon has work that needs
// CAP_NET_RAW (VRRP socket), CAP_NET_ADMIN (the VIP) and CAP_SYS_NICE (SCHED_RR).
run('ip', ['link', 'add', 'lvsd0', 'type', 'dummy'])
run('ip', ['addr', 'add', '192.0.2.1/24', 'dev', 'lvsd0'])
run('ip', ['link', 'set', 'lvsd0', 'up'])
writeFileSync(
  '/etc/lvsd/lvsd.yaml',
  `node: vm\nvrrp:\n  instances:\n    - { name: web, interface: lvsd0, vrid: 51, priority: 150, vips: [{ address: ${VIP}/24 }] }\n`,
)
writeFileSync('/etc/lvsd/local-notes.txt', 'an admin file beside the conffile\n')
const daemonWithCaps = await daemon(['net_raw', 'net_admin', 'sys_nice'], 120_000)
const daemonWithoutCaps = await daemon([], 20_000)

const remove = run('dpkg', ['-r', 'lvsd'])
const afterRemove = {
  app: existsSync('/usr/lib/lvsd'),
  bin: existsSync('/usr/bin/lvsd') || existsSync('/usr/bin/lvsctl'),
  unit: existsSync('/lib/systemd/system/lvsd.service'),
  conf: existsSync('/etc/lvsd/lvsd.yaml'),
  confKept: existsSync('/etc/lvsd/lvsd.yaml') ? readFileSync('/etc/lvsd/lvsd.yaml', 'utf8') : '',
  status: dpkgStatus(),
}
const purge = run('dpkg', ['-P', 'lvsd'])
const afterPurge = { etc: existsSync('/etc/lvsd'), status: run('dpkg-query', ['-W', 'lvsd']) }

report({
  before,
  install,
  user,
  group,
  runDir,
  version,
  check,
  modulesLoad,
  lvsctlIpvs,
  ipvsadm,
  verify,
  status,
  daemonWithCaps,
  daemonWithoutCaps,
  remove,
  afterRemove,
  purge,
  afterPurge,
} satisfies InstallReport)
