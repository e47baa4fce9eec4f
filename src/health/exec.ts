// Exec check (keepalived MISC_CHECK): run a program (argv, no shell) with the target in its environment.
// Exit 0 passes, 1 fails, 2–255 pass with weight code − 2 when dynamic (fail otherwise). A timeout
// SIGKILLs the whole process group, so a script's children die with it.
import { spawn } from 'node:child_process'
import { formatAddr } from '../net/addr.js'
import { endpointOf, ProbeFailure, timed } from './probe.js'
import type { ExecOptions, Result, Target } from './types.js'

const OUTPUT_KEPT = 200

export function envFor(t: Target, o: ExecOptions): Record<string, string> {
  const ep = endpointOf(t)
  return {
    // not the daemon's environment: a check script sees only what it needs
    PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
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
    const [cmd, ...args] = o.argv
    if (!cmd) throw new ProbeFailure('error', 'exec check without a program')
    const child = spawn(cmd, args, {
      env: envFor(target, o),
      stdio: ['ignore', 'pipe', 'pipe'],
      // its own process group, so the timeout kills everything it started
      detached: true,
      ...(o.uid !== undefined ? { uid: o.uid } : {}),
      ...(o.gid !== undefined ? { gid: o.gid } : {}),
    })
    let output = ''
    const keep = (d: Buffer) => {
      if (output.length < OUTPUT_KEPT) output += d.toString('utf8', 0, OUTPUT_KEPT - output.length)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    const kill = () => {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        child.kill('SIGKILL')
      }
    }
    const onAbort = () => kill()
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      const [code, sig] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
        child.once('error', reject)
        child.once('close', (c, s) => resolve([c, s]))
        // a killed script's escaped descendants may hold its pipes open: do not wait for 'close' then
        child.once('exit', (c, s) => {
          if (signal.aborted) resolve([c, s])
        })
      })
      if (signal.aborted) {
        child.stdout?.destroy()
        child.stderr?.destroy()
        throw new ProbeFailure('timeout', 'killed at its timeout')
      }
      const said = output.trim() ? `: ${output.trim().split('\n')[0]}` : ''
      if (code === null) throw new ProbeFailure('signal', `${cmd} killed by ${sig}${said}`)
      const v = verdict(code, o.dynamic === true)
      if (!v.ok) throw new ProbeFailure('exit', `${cmd} exited ${code}${said}`)
      return v.weight === undefined
        ? { detail: `${cmd} exited ${code}` }
        : { detail: `${cmd} exited ${code}: weight ${v.weight}`, weight: v.weight }
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  })
}
