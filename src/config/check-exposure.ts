// Warnings for settings that open lvsd to more people than the operator may think: a control socket
// others can write to (drain, release, reload), metrics served beyond this host, and a password in a
// file others can read. Valid configurations, so warnings (lvsd check and start-up print them), not errors.
import type { RawConfig } from './types.js'
import { type Ctx, hasKey, warnOn } from './walk.js'

function loopback(a: RawConfig['metrics']['address']): boolean {
  if (a.family === 4) return a.bytes[0] === 127
  return a.bytes.every((b, i) => b === (i === 15 ? 1 : 0))
}

function hasPassword(c: Partial<RawConfig>): object | undefined {
  for (const i of c.vrrp?.instances ?? []) if (i.authentication?.password !== undefined) return i.authentication
  return undefined
}

/** `fileMode`: the configuration file's permission bits, when it came from a file. */
export function checkExposure(ctx: Ctx, c: Partial<RawConfig>, fileMode?: number): void {
  const control = c.control
  if (control && control.mode & 0o006)
    warnOn(
      ctx,
      control,
      hasKey(control, 'mode') ? 'mode' : undefined,
      `mode 0${control.mode.toString(8)} lets every local user drain servers, release VIPs and reload (use 0660 and control.group)`,
    )
  const metrics = c.metrics
  if (metrics?.enabled && !loopback(metrics.address))
    warnOn(
      ctx,
      metrics,
      'address',
      'metrics are served beyond this host (names, addresses and states of every service): bind to 127.0.0.1 or firewall the port',
    )
  const secret = hasPassword(c)
  if (secret && fileMode !== undefined && fileMode & 0o004)
    warnOn(
      ctx,
      secret,
      'password',
      `this file holds a password and every local user can read it (mode 0${(fileMode & 0o777).toString(8)}): chmod o-r`,
    )
}
