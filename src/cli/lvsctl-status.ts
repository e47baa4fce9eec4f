// `lvsctl status`: the daemon's status as text (VRRP instances, then the IPVS table in ipvsadm -Ln's
// layout with lvsd's health, weight and drain columns appended), or the status object with --json.
// formatStatus is pure (status and now in, text out); statusCommand does the I/O around it.
import { parseArgs } from 'node:util'
import { ControlClient } from '../api/client.js'
import type { InstanceStatus, ServerStatus, ServiceStatus, Status } from '../api/types.js'
import { isLvsdError } from '../errors.js'
import { formatPeer } from './lvsctl-peer.js'

/** Keys of src/cli/exit-codes.ts's EXIT: the CLI turns them into exit statuses (api sits below cli). */
export type CommandResult = 'ok' | 'failure' | 'usage'

/** 3h05m, 4m12s, 9s: how long ago `at` was. */
export function age(at: number, now: number): string {
  const s = Math.max(0, Math.floor((now - at) / 1000))
  const d = Math.floor(s / 86400)
  const h = Math.floor((s % 86400) / 3600)
  const m = Math.floor((s % 3600) / 60)
  const pad = (n: number) => String(n).padStart(2, '0')
  if (d > 0) return `${d}d${pad(h)}h`
  if (h > 0) return `${h}h${pad(m)}m`
  if (m > 0) return `${m}m${pad(s % 60)}s`
  return `${s}s`
}

/** Columns padded to their widest cell, two spaces apart, no trailing blanks. */
function table(rows: string[][]): string[] {
  const widths: number[] = []
  for (const r of rows) {
    for (const [i, c] of r.entries()) widths[i] = Math.max(widths[i] ?? 0, c.length)
  }
  return rows.map((r) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  )
}

function instanceRow(i: InstanceStatus, now: number): string[] {
  const prio = i.effectivePriority === i.priority ? `${i.priority}` : `${i.priority} (${i.effectivePriority})`
  const t = i.lastTransition
  return [
    i.name,
    i.interface,
    String(i.vrid),
    `v${i.version}`,
    i.state + (i.released ? ' released' : ''),
    prio,
    t ? age(t.at, now) : '-',
    t ? `${t.from}->${t.to} ${t.why}` : '-',
    i.vips.join(' '),
  ]
}

const FORWARD: Record<ServerStatus['forwarding'], string> = { dr: 'Route', nat: 'Masq', tun: 'Tunnel' }

function serviceLine(s: ServiceStatus): string {
  const prot = s.protocol ? s.protocol.toUpperCase() : 'FWM'
  const addr = s.protocol ? s.address : s.address.replace(/^fwmark:/, '')
  let line = `${prot.padEnd(4)} ${addr} ${s.scheduler}`
  const sched = s.flags.filter((f) => f !== 'persistent' && f !== 'ops')
  if (sched.length) line += ` (${sched.join(',')})`
  if (s.flags.includes('persistent')) line += ` persistent ${s.persistenceSec ?? 0}`
  if (s.flags.includes('ops')) line += ' ops'
  const notes = [s.name]
  if (s.follow) notes.push(`follows ${s.follow}`)
  notes.push(`quorum ${s.quorum.alive}/${s.quorum.required} ${s.quorum.up ? 'up' : 'DOWN'}`)
  if (!s.active) notes.push('not in kernel')
  return `${line}  # ${notes.join(', ')}`
}

function serverLine(r: ServerStatus, now: number): string {
  const k = r.kernel
  const cols =
    `  -> ${r.server.padEnd(28)} ${FORWARD[r.forwarding].padEnd(7)} ${String(r.weight.effective).padEnd(6)} ` +
    `${String(k?.activeConns ?? '-').padEnd(10)} ${String(k?.inactiveConns ?? '-').padEnd(10)}`
  const notes = [r.health + (r.healthSince ? ` ${age(r.healthSince, now)}` : '')]
  if (r.drained) notes.push('drained')
  if (r.peerHealth !== undefined && r.peerHealth !== r.health) notes.push(`${r.peerHealth} on the peer`)
  if (r.weight.operator !== undefined)
    notes.push(`weight ${r.weight.operator} (operator, configured ${r.weight.configured})`)
  else if (r.weight.effective !== r.weight.configured) notes.push(`configured ${r.weight.configured}`)
  if (r.lastCheck && !r.lastCheck.ok && r.lastCheck.detail) notes.push(r.lastCheck.detail)
  return `${cols} ${notes.join(', ')}`.trimEnd()
}

export function formatStatus(s: Status, now: number): string {
  const out: string[] = []
  out.push(
    `lvsd ${s.version} on ${s.node}, pid ${s.pid}, up ${age(s.startedAt, now)}; ` +
      `config ${s.config.source} (sha256 ${s.config.hash.slice(0, 12)}, loaded ${age(s.config.loadedAt, now)} ago)`,
  )
  out.push('')
  if (s.instances.length === 0) out.push('VRRP: no instances')
  else {
    out.push(
      ...table([
        ['Instance', 'Interface', 'VRID', 'Ver', 'State', 'Priority', 'Since', 'Why', 'VIPs'],
        ...s.instances.map((i) => instanceRow(i, now)),
      ]),
    )
  }
  out.push('')
  out.push('Prot LocalAddress:Port Scheduler Flags')
  out.push('  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn Health')
  for (const svc of s.services) {
    out.push(serviceLine(svc))
    for (const r of svc.servers) out.push(serverLine(r, now))
  }
  if (s.peer) out.push('', ...formatPeer(s.peer, now))
  return `${out.join('\n')}\n`
}

const USAGE = 'Usage: lvsctl status [--json]\n'

export interface StatusCommandOptions {
  socketPath: string
  stdout?: NodeJS.WritableStream
  stderr?: NodeJS.WritableStream
  now?: () => number
}

/** `lvsctl status [--json]`: args are those after the command name. */
export async function statusCommand(args: string[], opts: StatusCommandOptions): Promise<CommandResult> {
  const stdout = opts.stdout ?? process.stdout
  const stderr = opts.stderr ?? process.stderr
  let json: boolean
  try {
    const { values } = parseArgs({ args, options: { json: { type: 'boolean' } }, allowPositionals: false })
    json = values.json === true
  } catch (e) {
    stderr.write(`lvsctl status: ${(e as Error).message}\n${USAGE}`)
    return 'usage'
  }
  let status: Status
  try {
    status = await new ControlClient(opts.socketPath).status()
  } catch (e) {
    const code = isLvsdError(e) ? `${e.code}: ` : ''
    stderr.write(`lvsctl status: ${code}${(e as Error).message}\n`)
    return 'failure'
  }
  stdout.write(json ? `${JSON.stringify(status, null, 2)}\n` : formatStatus(status, (opts.now ?? Date.now)()))
  return 'ok'
}
