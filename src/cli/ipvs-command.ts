// `lvsctl ipvs`: reads the kernel's IPVS table of the caller's network namespace (no lvsd needed) and prints
// it as `ipvsadm -Ln` does, or its counters, rates, timeouts, sync daemons, connections, or JSON for scripts.
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { isLvsdError, LvsdError } from '../errors.js'
import { IpvsClient } from '../ipvs/client.js'
import type { DestEntry } from '../ipvs/domain.js'
import { type Addr, formatAddr } from '../net/addr.js'
import { EXIT } from './exit-codes.js'
import { formatConnections, parseConnections } from './ipvs-conns.js'
import { formatDaemons, formatList, formatTimeouts, type IpvsListing } from './ipvs-format.js'

export const IPVS_HELP = `Usage: lvsctl ipvs [options]

Print the kernel's IPVS table of this network namespace in ipvsadm -Ln's layout.

Options:
  --stats            Counters (ipvsadm -Ln --stats)
  --rate             Rates (ipvsadm -Ln --rate)
  --exact            Counters without K/M/G scaling
  --timeout          TCP, TCP FIN and UDP timeouts (ipvsadm -L --timeout)
  --daemon           Connection-sync daemons (ipvsadm -L --daemon)
  -c, --connections  Connection entries from /proc/net/ip_vs_conn (ipvsadm -Lnc)
  --json             The same data as JSON (one object on one line)
  -n                 Accepted for ipvsadm habits (lvsctl never resolves names)
  -h, --help         Show this help
`

/** What the command reads; injected so tests can use the fake kernel. */
export interface IpvsSource {
  connect(): Promise<
    Pick<IpvsClient, 'getInfo' | 'listServices' | 'listDests' | 'getTimeouts' | 'listDaemons' | 'close'>
  >
  readConnections(): string
}

const realSource: IpvsSource = {
  connect: () => IpvsClient.connect(),
  readConnections: () => {
    try {
      return readFileSync('/proc/net/ip_vs_conn', 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
      throw new LvsdError('LVSD_GENL_FAMILY_ABSENT', 'IPVS is not available: /proc/net/ip_vs_conn is missing', {
        family: 'IPVS',
      })
    }
  },
}

export interface Io {
  out(s: string): void
  err(s: string): void
}

const stdio: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) }

/** JSON for scripts: addresses as text, 64-bit counters as numbers (strings beyond 2^53). */
export function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (typeof x === 'bigint') return x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : x.toString()
    if (x && typeof x === 'object' && 'family' in x && 'bytes' in x) return formatAddr(x as Addr)
    return x
  })
}

async function readListing(c: Awaited<ReturnType<IpvsSource['connect']>>): Promise<IpvsListing> {
  const info = await c.getInfo()
  const services: { service: IpvsListing['services'][number]['service']; dests: DestEntry[] }[] = []
  for (const service of await c.listServices()) {
    try {
      services.push({ service, dests: await c.listDests(service.key) })
    } catch (e) {
      // deleted between the two dumps: ipvsadm would not show it either
      if (!(isLvsdError(e, 'LVSD_NL_KERNEL') && e.details.code === 'ESRCH')) throw e
    }
  }
  return { info, services }
}

type Values = {
  stats?: boolean
  rate?: boolean
  exact?: boolean
  timeout?: boolean
  daemon?: boolean
  connections?: boolean
  json?: boolean
  n?: boolean
  help?: boolean
}

export async function ipvsCommand(argv: string[], source: IpvsSource = realSource, io: Io = stdio): Promise<number> {
  let v: Values
  try {
    v = parseArgs({
      args: argv,
      options: {
        stats: { type: 'boolean' },
        rate: { type: 'boolean' },
        exact: { type: 'boolean' },
        timeout: { type: 'boolean' },
        daemon: { type: 'boolean' },
        connections: { type: 'boolean', short: 'c' },
        json: { type: 'boolean' },
        n: { type: 'boolean', short: 'n' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values
    if (v.stats && v.rate) throw new Error('--stats and --rate exclude each other')
  } catch (e) {
    io.err(`lvsctl ipvs: ${(e as Error).message}\n\n${IPVS_HELP}`)
    return EXIT.usage
  }
  if (v.help) {
    io.out(IPVS_HELP)
    return EXIT.ok
  }
  try {
    if (v.connections) {
      const conns = parseConnections(source.readConnections())
      io.out(v.json ? `${toJson({ connections: conns })}\n` : formatConnections(conns))
      return EXIT.ok
    }
    const c = await source.connect()
    try {
      if (v.timeout || v.daemon) {
        const timeouts = v.timeout ? await c.getTimeouts() : undefined
        const daemons = v.daemon ? await c.listDaemons() : undefined
        if (v.json) io.out(`${toJson({ timeouts, daemons })}\n`)
        else io.out((timeouts ? formatTimeouts(timeouts) : '') + (daemons ? formatDaemons(daemons) : ''))
        return EXIT.ok
      }
      const l = await readListing(c)
      if (v.json) io.out(`${toJson(l)}\n`)
      else io.out(formatList(l, v.stats ? 'stats' : v.rate ? 'rate' : 'plain', v.exact ?? false))
      return EXIT.ok
    } finally {
      c.close()
    }
  } catch (e) {
    if (isLvsdError(e, 'LVSD_GENL_FAMILY_ABSENT')) {
      io.err('lvsctl ipvs: IPVS is not available in this kernel or network namespace (is the ip_vs module loaded?)\n')
      return EXIT.failure
    }
    if (isLvsdError(e)) {
      io.err(`lvsctl ipvs: ${e.message}\n`)
      return EXIT.failure
    }
    throw e
  }
}
