// Exec check (keepalived MISC_CHECK): run a program (argv, no shell) with the target in its environment.
// Exit 0 passes, 1 fails, 2–255 pass with weight code − 2 when dynamic (fail otherwise). The check ends
// when the program exits, whatever children it left behind; a timeout SIGKILLs its whole process group.
import { formatAddr } from '../net/addr.js'
import { describeResult, runProgram } from '../sys/program.js'
import { endpointOf, ProbeFailure, timed } from './probe.js'
import type { ExecOptions, Result, Target } from './types.js'

export function envFor(t: Target, o: ExecOptions): Record<string, string> {
  const ep = endpointOf(t)
  return {
    LVSD_RS_ADDR: formatAddr(t.addr),
    LVSD_RS_PORT: String(t.port),
    LVSD_CHECK_ADDR: ep.host,
    LVSD_CHECK_PORT: String(ep.port),
    ...o.env,
  }
}

/** keepalived's misc_dynamic reading of an exit code. */
export function verdict(code: number, dynamic: boolean): { ok: boolean; weight?: number } {
  if (code === 0) return { ok: true }
  if (code >= 2 && code <= 255 && dynamic) return { ok: true, weight: code - 2 }
  return { ok: false }
}

export function check(target: Target, o: ExecOptions, signal: AbortSignal): Promise<Result> {
  return timed(signal, async () => {
    const cmd = o.argv[0]
    if (!cmd) throw new ProbeFailure('error', 'exec check without a program')
    const r = await runProgram(o.argv, {
      env: envFor(target, o),
      signal,
      ...(o.uid !== undefined ? { uid: o.uid } : {}),
      ...(o.gid !== undefined ? { gid: o.gid } : {}),
    })
    switch (r.kind) {
      case 'timeout':
        throw new ProbeFailure('timeout', describeResult(cmd, r))
      case 'spawn':
        throw new ProbeFailure('error', describeResult(cmd, r))
      case 'signal':
        throw new ProbeFailure('signal', describeResult(cmd, r))
      case 'exit': {
        const v = verdict(r.code, o.dynamic === true)
        if (!v.ok) throw new ProbeFailure('exit', describeResult(cmd, r))
        return v.weight === undefined
          ? { detail: `${cmd} exited ${r.code}` }
          : { detail: `${cmd} exited ${r.code}: weight ${v.weight}`, weight: v.weight }
      }
    }
  })
}
