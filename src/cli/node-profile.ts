// Whether the Node flags suit the configuration. A VRRP-only director can run V8 without its JIT
// (`--lite-mode`): its adverts never run hot enough to be optimised, and the daemon's idle RSS drops
// by ~7 MiB (docs/benchmarks.md, "Idle cost"). Health checks at scale need the JIT, so the profile is
// a choice made at process start (LVSD_NODE_ARGS), and lvsd only says which one fits.
import type { Config } from '../config/types.js'

export const VRRP_ONLY_PROFILE = '--lite-mode --no-expose-wasm'

export interface Advice {
  level: 'info' | 'warn'
  msg: string
}

/** Advice for `lvsd run` with `execArgv` (process.execArgv) and this configuration, if any. */
export function profileAdvice(c: Config, execArgv: readonly string[]): Advice | undefined {
  const noJit = execArgv.some((a) => a === '--lite-mode' || a === '--jitless')
  const checks = c.virtual_services.length > 0
  if (!noJit && !checks)
    return {
      level: 'info',
      msg: `VRRP-only configuration: LVSD_NODE_ARGS="${VRRP_ONLY_PROFILE}" would run V8 without its JIT and save ~7 MiB of memory (/etc/lvsd/lvsd.env, see man lvsd)`,
    }
  if (noJit && checks)
    return {
      level: 'warn',
      msg: 'V8 runs without its JIT (--lite-mode or --jitless) while virtual_services are configured: health checks and IPVS passes cost more CPU; that profile is meant for VRRP-only directors',
    }
  return undefined
}
