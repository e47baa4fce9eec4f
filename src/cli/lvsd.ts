// lvsd: the daemon's command line (parse, dispatch, exit status). Commands grow with the product.
import { parseArgs } from 'node:util'
import { EXIT } from './exit-codes.js'
import { configArg, dropHeldVips } from './held-vips-drop.js'
import { packageVersion } from './version.js'

export const HELP = `Usage: lvsd <command> [options]

High-availability LVS director: VRRP election of virtual IPs, IPVS programming
over generic netlink, health checks of real servers.

Commands:
  check <file>      Validate a configuration file and print a summary of its
                    VRRP instances and virtual services. Every error is printed
                    as file:line:col path: message; exit status 2 if invalid.
  run -c <file>     Run the daemon in the foreground: VRRP election (VIPs,
                    GARP/NA on takeover), health checks, the IPVS table, the
                    control socket for lvsctl. SIGHUP reloads; SIGTERM or SIGINT
                    resigns with priority 0, removes the VIPs, exits 0.
                    --log-format json|pretty|journal|auto, --log-level LEVEL.
  import keepalived FILE [--instance ID] [-o OUT]
                    Convert a keepalived.conf into a checked lvsd.yaml; what
                    lvsd cannot carry over is listed as file:line: keyword: why.
  import ipvsadm [FILE|-] [-o OUT]
                    Convert ipvsadm -Sn (or -Ln) output into virtual_services.
  import --pair FILE_A FILE_B [-o DIR]
                    Convert both directors' files and report differences
                    beyond priority, state and unicast addresses.
                    (lvsd import --help for details; exit 0 clean, 1 notes,
                    2 not converted)
  drill [--backend netns|vm|vagrant] [--scenario NAME,...] [--repeat N]
                    Failover drills against a director pair (from a source
                    checkout): crash, link down, clean stop, reboot, partition,
                    real server death, reload, upgrade; a timeline and a
                    verdict per run (lvsd drill --help, docs/drills.md).
  realserver up|down|check -c <file>
                    On a real server: apply, undo or check what LVS-DR/TUN
                    needs there (VIP on lo or tunl0, ARP and rp_filter
                    sysctls). lvsd realserver --help for details.

Options:
  -h, --help        Show this help
  -V, --version     Print the version

Exit status: 0 ok, 1 failure, 2 invalid configuration, 64 bad command line,
69 the host cannot run this configuration (no IPVS in the kernel, no addon).
`

/**
 * `lvsd drill` runs the lab's drill engine (lab/drill), which exists in a source checkout only: the
 * package ships the daemon, not namespaces, VMs or a Vagrant topology to break.
 */
async function drillCommand(args: string[]): Promise<number> {
  const url = new URL('../../lab/drill/cli.js', import.meta.url)
  let mod: { drillMain(argv: string[]): Promise<number> }
  try {
    mod = await import(url.href)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw e
    process.stderr.write(
      'lvsd drill: the drill engine is not installed here: it runs from a source checkout (npm ci && npm run build), see docs/drills.md\n',
    )
    return EXIT.unavailable
  }
  return mod.drillMain(args)
}

export async function main(argv: string[]): Promise<number> {
  // run parses its own options (-c, --log-format). Each command is imported when chosen: the daemon
  // never holds check's YAML parser and schema (config-source.ts keeps them off its heap too).
  if (argv[0] === 'run') {
    // a crashed run's VIPs leave the wire before the daemon's code is even loaded (~0.1 s of imports)
    const config = configArg(argv.slice(1))
    const dropped = config === undefined ? undefined : await dropHeldVips(config)
    return (await import('./run.js')).runCommand(argv.slice(1), dropped)
  }
  if (argv[0] === 'import') return (await import('./import.js')).importCommand(argv.slice(1))
  if (argv[0] === 'realserver') return (await import('./realserver.js')).realserverCommand(argv.slice(1))
  if (argv[0] === 'drill') return drillCommand(argv.slice(1))
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (e) {
    process.stderr.write(`lvsd: ${(e as Error).message}\n\n${HELP}`)
    return EXIT.usage
  }
  const { values, positionals } = parsed
  if (values.version) {
    process.stdout.write(`lvsd ${packageVersion()}\n`)
    return EXIT.ok
  }
  const [command, ...rest] = positionals
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(HELP)
    return command === undefined && !values.help ? EXIT.usage : EXIT.ok
  }
  switch (command) {
    case 'check':
      return (await import('./check.js')).checkCommand(rest, values.json === true)
    default:
      process.stderr.write(`lvsd: unknown command ${JSON.stringify(command)}\n\n${HELP}`)
      return EXIT.usage
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'V' },
      json: { type: 'boolean' },
    },
  })
}
