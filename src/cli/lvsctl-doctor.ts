// lvsctl doctor [SERVICE] [--json]: asks the running lvsd to probe its real servers and prints each
// finding (server, problem, fix); exit status 1 when there is any (docs/realserver.md).
import { parseArgs } from 'node:util'
import { ControlClient } from '../api/client.js'
import { isLvsdError } from '../errors.js'
import type { CommandResult } from './lvsctl-status.js'

export const DOCTOR_USAGE = `Usage: lvsctl doctor [SERVICE] [--json]
  Probes each real server of the configured services (or of SERVICE) from this
  director. LVS-DR (IPv4 and IPv6): on the same L2 segment, not answering ARP or
  NDP for the VIP, and (TCP) accepting a SYN to the VIP sent to its MAC; UDP
  services get the L2 checks only. Exit status 1 when anything is wrong.
`

export const DOCTOR_TIMEOUT_MS = 300_000

export async function doctorCommand(
  args: string[],
  opts: { socketPath: string; stdout?: NodeJS.WritableStream; stderr?: NodeJS.WritableStream },
): Promise<CommandResult> {
  const out = opts.stdout ?? process.stdout
  const err = opts.stderr ?? process.stderr
  let json = false
  let service: string | undefined
  try {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { json: { type: 'boolean' } } })
    if (positionals.length > 1) throw new Error('at most one SERVICE')
    json = values.json === true
    service = positionals[0]
  } catch (e) {
    err.write(`lvsctl doctor: ${(e as Error).message}\n\n${DOCTOR_USAGE}`)
    return 'usage'
  }
  try {
    // one server at a time, up to ~1.5 s each when it keeps silent: the default 10 s is a dozen servers
    const r = await new ControlClient(opts.socketPath, { timeoutMs: DOCTOR_TIMEOUT_MS }).doctor(service)
    if (json) out.write(`${JSON.stringify(r)}\n`)
    else {
      for (const f of r.findings) out.write(`${f.service} ${f.server}: ${f.kind}: ${f.problem}\n  fix: ${f.fix}\n`)
      for (const c of r.checked) {
        if (c.result === 'skipped') out.write(`${c.service} ${c.server}: not probed: ${c.note}\n`)
        else if (c.note) out.write(`${c.service} ${c.server}: partly probed: ${c.note}\n`)
      }
      const probed = r.checked.filter((c) => c.result === 'probed').length
      out.write(
        `${probed} real server${probed === 1 ? '' : 's'} probed, ${r.findings.length} finding${r.findings.length === 1 ? '' : 's'}\n`,
      )
    }
    return r.findings.length === 0 ? 'ok' : 'failure'
  } catch (e) {
    err.write(`lvsctl doctor: ${isLvsdError(e) ? `${e.code}: ` : ''}${(e as Error).message}\n`)
    return 'failure'
  }
}
