// Guest-side agent of vm-smoke.test.ts: probes the VM's kernel, IPVS, node and filesystems, reports JSON.
// Usage (inside the VM): node dist/test/vm/agents/smoke.js <probe-file-name> <token> <exit-status>
import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { release } from 'node:os'
import { join } from 'node:path'
import { report } from '../../../lab/vm/guest.js'

export interface SmokeReport {
  release: string
  modprobeIpVs: { status: number | null; stderr: string }
  procNetIpVs: boolean
  ipvsadm: { status: Array<number | null>; list: string; timeout: string }
  wrrAutoLoaded: boolean
  nodeVersion: string
  repoWrite: { ok: boolean; code: string | null }
  outWrite: { ok: boolean; code: string | null }
  cwd: string
  noColor: string | undefined
}

const [probeName = 'probe', token = '', exitStatus = '0'] = process.argv.slice(2)

function run(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' })
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? r.error?.message ?? '' }
}

function tryWrite(path: string): { ok: boolean; code: string | null } {
  try {
    writeFileSync(path, token)
    return { ok: readFileSync(path, 'utf8') === token, code: null }
  } catch (e) {
    return { ok: false, code: (e as NodeJS.ErrnoException).code ?? null }
  }
}

const modprobe = run('modprobe', ['ip_vs'])
// wrr is deliberately not modprobed: `-s wrr` must make the kernel load it through request_module.
const steps = [
  ['-A', '-t', '10.0.0.3:80', '-s', 'wrr'],
  ['-a', '-t', '10.0.0.3:80', '-r', '10.0.0.7:80', '-g', '-w', '1'],
  ['--set', '30', '5', '60'],
].map((args) => run('ipvsadm', args))
const list = run('ipvsadm', ['-Ln'])
const timeout = run('ipvsadm', ['-L', '--timeout'])
const modules = existsSync('/proc/modules') ? readFileSync('/proc/modules', 'utf8') : ''

const result: SmokeReport = {
  release: release(),
  modprobeIpVs: { status: modprobe.status, stderr: modprobe.stderr },
  procNetIpVs: existsSync('/proc/net/ip_vs'),
  ipvsadm: {
    status: [...steps, list, timeout].map((s) => s.status),
    list: list.stdout + list.stderr,
    timeout: timeout.stdout + timeout.stderr,
  },
  wrrAutoLoaded: /^ip_vs_wrr\s/m.test(modules),
  nodeVersion: execFileSync('node', ['-e', 'console.log(process.version)'], { encoding: 'utf8' }).trim(),
  repoWrite: tryWrite(join(process.cwd(), probeName)),
  outWrite: tryWrite(join(process.env.LVSD_VM_OUT ?? '/nonexistent', probeName)),
  cwd: process.cwd(),
  noColor: process.env.NO_COLOR,
}
report(result)
process.exitCode = Number(exitStatus)
