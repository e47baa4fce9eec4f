// lvsctl: the operator's tool. `ipvs` reads the kernel directly (no daemon needed); the other commands
// talk to a running lvsd over its control socket (-s PATH, $LVSD_SOCKET, default /run/lvsd/lvsd.sock).
import { parseArgs } from 'node:util'
import { DEFAULT_SOCKET } from '../api/server.js'
import { CONTROL_COMMANDS, CONTROL_USAGE, type ControlCommand, controlCommand } from '../cli/lvsctl-commands.js'
import { doctorCommand } from '../cli/lvsctl-doctor.js'
import { type CommandResult, statusCommand } from '../cli/lvsctl-status.js'
import { EXIT } from './exit-codes.js'
import { ipvsCommand } from './ipvs-command.js'
import { packageVersion } from './version.js'

export const HELP = `Usage: lvsctl [-s SOCKET] <command> [options]

Inspect and steer lvsd and the kernel's IPVS table.

Commands:
  doctor [SERVICE] [--json]
                    probe each LVS-DR real server from this director (same L2
                    segment, no ARP answer for the VIP, SYN to the VIP answered)
  status [--json]   VRRP instances and the IPVS table as lvsd runs them (health, weights, counters)
  ipvs [--stats|--rate] [--exact] [--timeout] [--daemon] [-c|--connections] [--json]
                    Print the kernel's IPVS table as ipvsadm -Ln does (no running lvsd needed);
                    \`lvsctl ipvs --help\` explains each option
${CONTROL_USAGE.replace(/^Usage:\n/, '')}
Options:
  -s, --socket PATH control socket of lvsd (default $LVSD_SOCKET or ${DEFAULT_SOCKET})
  -h, --help        Show this help
  -V, --version     Print the version
`

const RESULT: Record<CommandResult, number> = { ok: EXIT.ok, failure: EXIT.failure, usage: EXIT.usage }

/** Splits the global -s/--socket option off the front of argv (a command parses the rest itself). */
function takeSocket(argv: string[]): { socket: string | undefined; rest: string[] } {
  const rest = [...argv]
  let socket: string | undefined
  while (rest.length > 0) {
    const a = rest[0] as string
    if (a === '-s' || a === '--socket') {
      socket = rest[1]
      rest.splice(0, 2)
    } else if (a.startsWith('--socket=')) {
      socket = a.slice('--socket='.length)
      rest.shift()
    } else break
  }
  return { socket, rest }
}

export async function main(argv: string[]): Promise<number> {
  const { socket, rest } = takeSocket(argv)
  const socketPath = socket || process.env.LVSD_SOCKET || DEFAULT_SOCKET
  const [command, ...args] = rest
  // a command parses its own options
  if (command === 'ipvs') return ipvsCommand(args)
  if (command === 'status') return RESULT[await statusCommand(args, { socketPath })]
  if (command === 'doctor') return RESULT[await doctorCommand(args, { socketPath })]
  if (CONTROL_COMMANDS.includes(command as ControlCommand)) {
    const ac = new AbortController()
    const onInt = () => ac.abort()
    process.once('SIGINT', onInt)
    try {
      return RESULT[await controlCommand(command as ControlCommand, args, { socketPath, signal: ac.signal })]
    } finally {
      process.off('SIGINT', onInt)
    }
  }
  let values: { help?: boolean; version?: boolean }
  let positionals: string[]
  try {
    ;({ values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: { help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'V' } },
    }))
  } catch (e) {
    process.stderr.write(`lvsctl: ${(e as Error).message}\n\n${HELP}`)
    return EXIT.usage
  }
  if (values.version) {
    process.stdout.write(`lvsctl ${packageVersion()}\n`)
    return EXIT.ok
  }
  if (values.help || positionals.length === 0) {
    process.stdout.write(HELP)
    return values.help ? EXIT.ok : EXIT.usage
  }
  process.stderr.write(`lvsctl: unknown command ${JSON.stringify(positionals[0])}\n\n${HELP}`)
  return EXIT.usage
}
