// lvsd realserver up|down|check -c FILE: a real server's side of LVS-DR/TUN (VIP on lo or the tunnel
// device, ARP and reverse-path sysctls), applied, undone and checked from one small config file.
import { parseArgs } from 'node:util'
import { formatIssue } from '../config/load.js'
import { loadRealserverFile } from '../config/realserver.js'
import { isLvsdError, LvsdError } from '../errors.js'
import { Host, loadModule } from '../realserver/host.js'
import {
  blockers,
  type Change,
  type Finding,
  findings,
  mergeRecord,
  type RealserverSpec,
  sysctlKeys,
  undoOrder,
} from '../realserver/plan.js'
import { DEFAULT_RECORD, readRecord, writeRecord } from '../realserver/record.js'
import { EXIT } from './exit-codes.js'

export const REALSERVER_HELP = `Usage: lvsd realserver up|down|check -c <file> [--record <file>] [--json]

  up     add each VIP (/32 or /128) on lo (dr) or tunl0/ip6tnl0 (tun), set
         arp_ignore=1 and arp_announce=2 on all and the listed interfaces,
         rp_filter=0 on all and tunl0 (tun); records what it changed.
         Refuses (exit 1) when a VIP is assigned elsewhere on the host.
  down   restore exactly what the recorded up changed.
  check  print each missing or wrong setting with the command that fixes it;
         exit 1 if there is any.

  --record <file>  the record of changes (default ${DEFAULT_RECORD})
`

function print(list: Finding[], json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(list.map(({ kind, problem, fix }) => ({ kind, problem, fix })))}\n`)
    return
  }
  for (const f of list) process.stdout.write(`${f.kind}: ${f.problem}\n  fix: ${f.fix}\n`)
}

export async function realserverCommand(argv: string[]): Promise<number> {
  let values: { config?: string; record?: string; json?: boolean; help?: boolean }
  let positionals: string[]
  try {
    ;({ values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        record: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }))
  } catch (e) {
    process.stderr.write(`lvsd realserver: ${(e as Error).message}\n\n${REALSERVER_HELP}`)
    return EXIT.usage
  }
  if (values.help) {
    process.stdout.write(REALSERVER_HELP)
    return EXIT.ok
  }
  const [action] = positionals
  if (!['up', 'down', 'check'].includes(action ?? '') || positionals.length !== 1 || values.config === undefined) {
    process.stderr.write(`lvsd realserver: need up, down or check and -c <file>\n\n${REALSERVER_HELP}`)
    return EXIT.usage
  }
  const recordPath = values.record ?? DEFAULT_RECORD
  try {
    const loaded = await loadRealserverFile(values.config)
    if (!loaded.ok) {
      for (const i of loaded.errors) process.stderr.write(`${formatIssue(i)}\n`)
      return EXIT.invalidConfig
    }
    const spec: RealserverSpec = loaded.config
    const host = Host.open()
    try {
      if (action === 'check') {
        const list = findings(spec, await host.observe(sysctlKeys(spec)))
        print(list, values.json === true)
        if (list.length === 0 && !values.json) process.stdout.write('ok: this host is set up as a real server\n')
        return list.length === 0 ? EXIT.ok : EXIT.failure
      }
      if (action === 'down') return await down(host, recordPath)
      return await up(host, spec, recordPath)
    } finally {
      host.close()
    }
  } catch (e) {
    process.stderr.write(`lvsd realserver ${action}: ${isLvsdError(e) ? `${e.code}: ` : ''}${(e as Error).message}\n`)
    return EXIT.failure
  }
}

async function up(host: Host, spec: RealserverSpec, recordPath: string): Promise<number> {
  let list = findings(spec, await host.observe(sysctlKeys(spec)))
  const refused = blockers(list)
  if (refused.length > 0) {
    print(refused, false)
    throw new LvsdError('LVSD_REALSERVER_REFUSED', 'nothing changed: fix the findings above first', {
      findings: refused.map((f) => f.kind),
    })
  }
  // a missing tunnel device comes with its module: the one thing up cannot do over netlink
  const missing = list.filter((f) => f.kind === 'tunnel-missing')
  if (missing.length > 0) {
    for (const f of missing) if (f.module) await loadModule(f.module)
    list = findings(spec, await host.observe(sysctlKeys(spec)))
  }
  let record = readRecord(recordPath)
  // links first (an address on a down tunnel works, but the order keeps down's reverse tidy)
  const changes = list.flatMap((f) => (f.change ? [f.change] : []))
  changes.sort((a, b) => rank(a) - rank(b))
  for (const c of changes) {
    await host.apply(c, true)
    record = mergeRecord(record, [c])
    writeRecord(recordPath, record) // after each: a failure half-way leaves an undoable record
    process.stdout.write(`${describe(c)}\n`)
  }
  const left = findings(spec, await host.observe(sysctlKeys(spec)))
  if (left.length > 0) {
    print(left, false)
    return EXIT.failure
  }
  if (changes.length === 0) process.stdout.write('nothing to change\n')
  return EXIT.ok
}

async function down(host: Host, recordPath: string): Promise<number> {
  let record = readRecord(recordPath)
  if (record.length === 0) {
    process.stdout.write('nothing recorded: nothing to restore\n')
    return EXIT.ok
  }
  for (const c of undoOrder(record)) {
    await host.apply(c, false)
    record = record.filter((r) => r !== c)
    writeRecord(recordPath, record)
    process.stdout.write(`restored: ${describe(c, false)}\n`)
  }
  return EXIT.ok
}

function rank(c: Change): number {
  return c.kind === 'link-up' ? 0 : c.kind === 'address' ? 1 : 2
}

function describe(c: Change, forward = true): string {
  if (c.kind === 'sysctl')
    return `${c.key.replaceAll('/', '.')} ${forward ? `${c.from} -> ${c.to}` : `${c.to} -> ${c.from}`}`
  if (c.kind === 'address') return `${forward ? 'added' : 'removed'} ${c.address}/${c.prefixLen} on ${c.dev}`
  return `${c.dev} ${forward ? 'up' : 'down'}`
}
