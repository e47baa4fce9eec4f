// The real server's own small configuration (lvsd realserver -c FILE): which VIPs it accepts, by
// which forwarding method, on which interfaces. Same schema language and file:line:col errors as lvsd.yaml.
import { readFile } from 'node:fs/promises'
import { isMap, LineCounter, parseDocument } from 'yaml'
import { LvsdError } from '../errors.js'
import { type Addr, formatAddr, isMulticast, isUnspecified } from '../net/addr.js'
import { addr, enumOf, type Infer } from './dsl.js'
import { arr, obj } from './dsl-struct.js'
import { ifname } from './schema-vrrp.js'
import type { ConfigIssue } from './types.js'
import { Ctx, describeNode } from './walk.js'

export const realserverSchema = obj({
  realserver: obj({
    method: enumOf(['dr', 'tun'] as const)
      .def('dr')
      .describe('forwarding method of the directors’ services: dr (VIP on lo) or tun (VIP on tunl0/ip6tnl0)'),
    vips: arr(addr(), 1, 64).describe('the virtual IPs this server accepts (IPv4 and/or IPv6)'),
    interfaces: arr(ifname(), 1, 64).describe('the interfaces facing the directors (ARP settings apply to them)'),
  }).describe('real-server settings'),
}).describe('lvsd realserver configuration')

export type RealserverConfig = Infer<typeof realserverSchema>['realserver']

export type RealserverLoad = { ok: true; config: RealserverConfig } | { ok: false; errors: ConfigIssue[] }

export function loadRealserverText(text: string, file: string): RealserverLoad {
  const lc = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: false, prettyErrors: true, strict: true })
  const ctx = new Ctx(doc, text, lc)
  const fail = (): RealserverLoad => ({
    ok: false,
    errors: [...ctx.issues]
      .sort((a, b) => a.offset - b.offset)
      .map((i) => ({ file, line: i.line, col: i.col, path: i.path, message: i.message })),
  })
  for (const e of [...doc.errors, ...doc.warnings])
    ctx.reportAt(e.pos[0], '(syntax)', (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+.*$/, ''))
  if (ctx.issues.length > 0) return fail()
  const root = doc.contents
  if (!isMap(root)) {
    ctx.report(root, '', `must be a mapping with a realserver section, not ${describeNode(root, ctx)}`)
    return fail()
  }
  const out = realserverSchema.parse(root, ctx, '')
  if (typeof out === 'symbol' || ctx.issues.length > 0) return fail()
  const seen = new Set<string>()
  out.realserver.vips.forEach((v: Addr, i: number) => {
    const at = root.getIn(['realserver', 'vips', i], true) as Parameters<Ctx['report']>[0]
    const text = formatAddr(v)
    if (isMulticast(v) || isUnspecified(v)) ctx.report(at, `realserver.vips[${i}]`, `${text} cannot be a VIP`)
    if (seen.has(text)) ctx.report(at, `realserver.vips[${i}]`, `${text} is listed twice`)
    seen.add(text)
  })
  if (ctx.issues.length > 0) return fail()
  return { ok: true, config: out.realserver }
}

export async function loadRealserverFile(path: string): Promise<RealserverLoad> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    throw new LvsdError('LVSD_CONFIG_UNREADABLE', `cannot read ${path}: ${err.code ?? err.message}`, {
      path,
      errno: err.code,
    })
  }
  return loadRealserverText(text, path)
}
