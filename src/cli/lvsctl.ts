// lvsctl: the operator's tool. It talks to the kernel and, later, to a running lvsd's control socket.
import { parseArgs } from 'node:util'
import { EXIT } from './exit-codes.js'
import { ipvsCommand } from './ipvs-command.js'
import { packageVersion } from './version.js'

const HELP = `Usage: lvsctl <command> [options]

Inspect and steer lvsd and the kernel's IPVS table.

Commands:
  ipvs [--stats|--rate] [--exact] [--timeout] [--daemon] [-c|--connections] [--json]
                    Print the kernel's IPVS table as ipvsadm -Ln does (no running lvsd needed);
                    \`lvsctl ipvs --help\` explains each option

Options:
  -h, --help        Show this help
  -V, --version     Print the version
`

export async function main(argv: string[]): Promise<number> {
  // a command parses its own options
  if (argv[0] === 'ipvs') return ipvsCommand(argv.slice(1))
  let values: { help?: boolean; version?: boolean }
  let positionals: string[]
  try {
    ;({ values, positionals } = parseArgs({
      args: argv,
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
