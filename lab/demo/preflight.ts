// Can the demo run here, and where: natively when this kernel has IPVS, in the qemu VM otherwise.
// Each refusal names its reason, for the CLI's exit 2.
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'

export type Where = { ok: true; where: 'host' | 'vm'; why: string } | { ok: false; reason: string }

function runs(cmd: string, args: string[]): { ok: boolean; err: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] })
  return { ok: !r.error && r.status === 0, err: r.error?.message ?? (r.stderr ?? '').trim() }
}

/** True when this kernel has IPVS: /proc/net/ip_vs exists once ip_vs is loaded (or built in). */
export function kernelHasIpvs(): boolean {
  if (!existsSync('/proc/net/ip_vs')) runs('modprobe', ['-q', 'ip_vs'])
  return existsSync('/proc/net/ip_vs')
}

function onPath(cmd: string): boolean {
  return runs('sh', ['-c', `command -v ${cmd}`]).ok
}

/** Root and working network namespaces are needed in every case. */
export function namespacesUsable(): string | null {
  if (process.getuid?.() !== 0) return 'the demo needs root: it creates network namespaces, veths and a bridge'
  for (const tool of ['ip', 'tcpdump'])
    if (!onPath(tool)) return `${tool} is not installed (bash scripts/setup-debian.sh)`
  const probe = `lvsdemo-probe-${process.pid}`
  const made = runs('ip', ['netns', 'add', probe])
  if (!made.ok) return `cannot create a network namespace: ${made.err}`
  runs('ip', ['netns', 'del', probe])
  return null
}

export function chooseWhere(opts: { forceVm: boolean; here: boolean }): Where {
  const ns = namespacesUsable()
  if (ns) return { ok: false, reason: ns }
  const ipvs = kernelHasIpvs()
  if (opts.here) return { ok: true, where: 'host', why: ipvs ? 'this kernel has IPVS' : 'forced with --here' }
  if (ipvs && !opts.forceVm) return { ok: true, where: 'host', why: 'this kernel has IPVS' }
  if (!onPath('qemu-system-x86_64')) {
    return {
      ok: false,
      reason:
        'this kernel has no IPVS and qemu-system-x86_64 is not installed to run it in a VM (bash scripts/setup-debian.sh)',
    }
  }
  return {
    ok: true,
    where: 'vm',
    why: ipvs ? 'forced with --vm' : 'this kernel has no IPVS (/proc/net/ip_vs absent after modprobe ip_vs)',
  }
}
