// Seeded fuzzing of the parsers beyond VRRP (issue 14): the DNS reply parser, the netlink decoders
// (message framing, IPVS generic netlink, rtnetlink address and link payloads), the control API's
// request parsing (URL, route match, query, address:port, JSON body) and the config loader. Inputs are
// random bytes and mutations of recorded captures and example files. Property: only LvsdError (or, for
// the API, its 4xx errors) is thrown; memory stays bounded (the maximum RSS is printed).
// Usage: node dist/bench/parsers-fuzz.js [iterations=1000000] [seed=1] [configSeconds=120]
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseStreamQuery } from '../src/api/event-stream.js'
import { parseServer } from '../src/api/http.js'
import { ROUTES } from '../src/api/routes.js'
import { loadConfigText } from '../src/config/load.js'
import { isLvsdError } from '../src/errors.js'
import { decodeReply } from '../src/health/dns-message.js'
import * as ipvs from '../src/ipvs/codec.js'
import * as nlmsg from '../src/net/nlmsg.js'
import * as rtnlAddr from '../src/net/rtnl-addr.js'
import * as rtnlLink from '../src/net/rtnl-link.js'
import { compressionBomb } from '../test/helpers/dns-bomb.js'
import { repoRoot } from '../test/helpers/paths.js'
import { prng } from '../test/helpers/prng.js'

const iterations = Number(process.argv[2] ?? 1_000_000)
const seed = Number(process.argv[3] ?? 1)
const configSeconds = Number(process.argv[4] ?? 120)
const rand = prng(seed)
const int = (n: number) => Math.floor(rand() * n)

function hexCaptures(dir: string): Buffer[] {
  const out: Buffer[] = []
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.hex'))) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      const m = /^(?:(?:send|recv) )?([0-9a-f]{8,})$/.exec(line.trim())
      if (m) out.push(Buffer.from(m[1] as string, 'hex'))
    }
  }
  return out
}

/** A random mutation of `seedBuf`, or random bytes. */
function mutate(seeds: readonly Buffer[]): Buffer {
  if (seeds.length === 0 || rand() < 0.2) return Buffer.from(Array.from({ length: int(512) }, () => int(256)))
  const b = Buffer.from(seeds[int(seeds.length)] as Buffer)
  const n = 1 + int(8)
  for (let i = 0; i < n && b.length > 0; i++) {
    const at = int(b.length)
    switch (int(4)) {
      case 0:
        b[at] = int(256)
        break
      case 1:
        b[at] = (b[at] ?? 0) ^ (1 << int(8))
        break
      case 2:
        b.writeUInt16LE(int(65536), Math.min(at, b.length - 2))
        break
      default:
        return b.subarray(0, at) // truncated
    }
  }
  return b
}

interface Stats {
  inputs: number
  ok: number
  errors: Record<string, number>
  crashes: number
  firstCrash?: string
  ms: number
}

function run(name: string, n: number, one: () => void, allowed: (e: unknown) => boolean = isLvsdError): Stats {
  const s: Stats = { inputs: 0, ok: 0, errors: {}, crashes: 0, ms: 0 }
  const t0 = performance.now()
  for (let i = 0; i < n; i++) {
    s.inputs++
    try {
      one()
      s.ok++
    } catch (e) {
      if (allowed(e)) {
        const code = isLvsdError(e) ? e.code : String((e as Error).message).slice(0, 40)
        s.errors[code] = (s.errors[code] ?? 0) + 1
      } else {
        s.crashes++
        s.firstCrash ??= (e as Error)?.stack ?? String(e)
      }
    }
  }
  s.ms = Math.round(performance.now() - t0)
  report(name, s)
  return s
}

let maxRss = 0
const rss = () => {
  maxRss = Math.max(maxRss, process.memoryUsage().rss)
  return (maxRss / 2 ** 20).toFixed(1)
}
const results: Record<string, Stats> = {}
function report(name: string, s: Stats): void {
  results[name] = s
  process.stdout.write(
    `${name.padEnd(10)} ${s.inputs} inputs, ${s.ok} decoded, ${s.crashes} crashes, ${s.ms} ms, max RSS ${rss()} MiB\n`,
  )
  if (s.firstCrash) process.stdout.write(`  first crash: ${s.firstCrash}\n`)
}

// ---- DNS replies ----
const dnsSeeds = [
  compressionBomb(7),
  Buffer.from(
    '00078180000100010000000003777777076578616d706c6504746573740000010001c00c000100010000003c0004c6336401',
    'hex',
  ),
]
run('dns', iterations, () => void decodeReply(mutate(dnsSeeds)))

// ---- netlink: framing, then IPVS and rtnetlink payloads ----
const captures = [
  ...hexCaptures(join(repoRoot, 'test/fixtures/ipvs')),
  ...hexCaptures(join(repoRoot, 'test/fixtures/netlink')),
]
run('nlmsg', iterations, () => void nlmsg.decodeAll(mutate(captures)))
const payloads = captures.flatMap((b) => {
  try {
    return nlmsg.decodeAll(b).map((m) => m.payload)
  } catch {
    return []
  }
})
run('ipvs', iterations, () => void ipvs.decode(mutate(payloads)))
run('rtnl-addr', iterations, () => void rtnlAddr.decode(mutate(payloads)))
run('rtnl-link', iterations, () => void rtnlLink.decode(mutate(payloads)))

// ---- control API: what a request brings (URL, path, query, address:port, JSON body) ----
const paths = ROUTES.map((r) =>
  r.path.replace(':service', 'web').replace(':server', '10.0.0.7:80').replace(':instance', 'web'),
)
const words = [
  'after',
  'follow',
  'names',
  '%',
  '%zz',
  '[',
  ']',
  ':',
  '::1',
  'true',
  '99999999999999999999',
  '\u0000',
  '..',
  '/',
  '?',
  '&',
  '=',
]
const apiInput = () => {
  const base = paths[int(paths.length)] as string
  let s = base
  for (let k = int(4); k > 0; k--) {
    const at = int(s.length + 1)
    s = s.slice(0, at) + (words[int(words.length)] as string) + s.slice(at)
  }
  return s
}
const apiAllowed = (e: unknown) => isLvsdError(e) && /^LVSD_API_/.test(e.code)
run(
  'api',
  iterations,
  () => {
    let url: URL
    try {
      url = new URL(apiInput(), 'http://lvsd')
    } catch {
      return // Node's own URL parser refusing is what a request with such a path gets (400 before lvsd)
    }
    parseStreamQuery(url.searchParams)
    for (const part of url.pathname.split('/')) if (part.includes(':')) parseServer(decodeURIComponent(part))
    JSON.parse(mutate([Buffer.from('{"weight":10}'), Buffer.from('{"weight":null}')]).toString('utf8'))
  },
  // JSON.parse's SyntaxError and decodeURIComponent's URIError are what routes.ts turns into 400s
  (e) => apiAllowed(e) || e instanceof SyntaxError || (e as Error)?.name === 'URIError',
)

// ---- config loader: mutated example files, for a bounded time (one load is ~1 ms) ----
const confs = readdirSync(join(repoRoot, 'conf'))
  .filter((f) => f.endsWith('.yaml'))
  .map((f) => Buffer.from(readFileSync(join(repoRoot, 'conf', f), 'utf8')))
const deadline = Date.now() + configSeconds * 1000
let loads = 0
const cfg = run('config', iterations, () => {
  if (Date.now() > deadline) return
  loads++
  const r = loadConfigText(mutate(confs).toString('latin1'), 'fuzz.yaml')
  if (!r.ok && r.errors.length === 0) throw new Error('refused without an error')
})
process.stdout.write(
  `config    ${loads} loads ran within ${configSeconds} s (the rest of the iterations were skipped)\n`,
)
cfg.inputs = loads

const crashes = Object.values(results).reduce((n, s) => n + s.crashes, 0)
process.stdout.write(`\n${JSON.stringify({ seed, iterations, maxRssMiB: Number(rss()), crashes, results }, null, 2)}\n`)
process.exit(crashes > 0 ? 1 : 0)
