// `lvsd import ipvsadm`: an IPVS table as `ipvsadm -S`/`-Sn` rules (or `ipvsadm -Ln` text, and the
// `ipvsadm -L --timeout` line) → lvsd.yaml virtual_services and ipvs.timeouts. Pure: text in.
import { formatAddr, tryParseAddr } from '../net/addr.js'
import { emitYaml } from './yaml-out.js'

type Obj = Record<string, unknown>

export interface IpvsadmResult {
  status: 0 | 1 | 2
  yaml?: string
  errors: string[]
  notes: string[]
}

interface Svc {
  key: string
  obj: Obj
  line: number
  servers: Array<Obj & { fwd: string }>
}

const PROTO: Record<string, string> = {
  '-t': 'tcp',
  '--tcp-service': 'tcp',
  '-u': 'udp',
  '--udp-service': 'udp',
  '--sctp-service': 'sctp',
}
const METHOD: Record<string, string> = {
  '-g': 'dr',
  '--gatewaying': 'dr',
  '-m': 'nat',
  '--masquerading': 'nat',
  '-i': 'tun',
  '--ipip': 'tun',
}
const LN_METHOD: Record<string, string> = { Route: 'dr', Masq: 'nat', Local: 'nat', Tunnel: 'tun' }
const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh', 'twos']

/** "10.0.0.3:80" / "[2001:db8::1]:80" → address and port; undefined if not numeric. */
function hostPort(t: string): { address: string; port: number } | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(t) ?? /^([^:]+):(\d+)$/.exec(t)
  const a = m ? tryParseAddr(m[1] as string) : undefined
  const port = Number(m?.[2])
  return a && port <= 65535 ? { address: formatAddr(a), port } : undefined
}

function maskLen(t: string): number | undefined {
  if (/^\d+$/.test(t)) return Number(t)
  const a = tryParseAddr(t)
  if (!a) return undefined
  return [...a.bytes].reduce((n, b) => n + b.toString(2).replace(/0/g, '').length, 0)
}

function svcName(proto: string, address: string, port: number): string {
  return `${proto}-${address.replace(/:/g, '_')}-${port}`
}

export function importIpvsadm(text: string, file: string): IpvsadmResult {
  const errors: string[] = []
  const notes: string[] = []
  const services = new Map<string, Svc>()
  let timeouts: Obj | undefined
  let current: Svc | undefined
  const lines = text.replace(/\r/g, '').split('\n')
  const ln = lines.some((l) => /^(TCP|UDP|SCTP|FWM)\s/.test(l) || /^\s*->/.test(l))
  for (const [i, raw] of lines.entries()) {
    const line = i + 1
    const err = (col: number, msg: string) => errors.push(`${file}:${line}:${col}: ${msg}`)
    const t = raw.trim()
    if (t === '') continue
    const to = /^Timeout \(tcp tcpfin udp\):\s+(\d+)\s+(\d+)\s+(\d+)$/.exec(t)
    if (to) {
      timeouts = { tcp: `${to[1]}s`, tcp_fin: `${to[2]}s`, udp: `${to[3]}s` }
      continue
    }
    if (/^(IP Virtual Server version|Prot LocalAddress|->\s+RemoteAddress)/.test(t)) continue
    const words = t.split(/\s+/)
    const col = (w: string) => raw.indexOf(w) + 1
    if (ln) {
      if (t.startsWith('->')) {
        if (!current) {
          err(1, 'a real server before any service')
          continue
        }
        const hp = hostPort(words[1] ?? '')
        const fwd = LN_METHOD[words[2] ?? '']
        const weight = Number(words[3])
        if (!hp || !fwd || !Number.isInteger(weight)) {
          err(col(words[1] ?? ''), `cannot read the real server line '${t}' (use ipvsadm -Ln: numeric addresses)`)
          continue
        }
        current.servers.push({ address: hp.address, port: hp.port, weight, fwd })
        continue
      }
      const proto = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp', FWM: 'fwmark' }[words[0] ?? '']
      if (!proto) {
        err(1, `not ipvsadm -Ln output: '${t}'`)
        continue
      }
      current = lnService(proto, words, line, err, notes, file)
      if (current) services.set(current.key, current)
      continue
    }
    const op = words[0]
    if (op === '-A' || op === '--add-service') {
      current = ruleService(words, line, err, file, notes)
      if (current) {
        if (services.has(current.key)) {
          err(1, `service ${current.key} is added twice`)
          continue
        }
        services.set(current.key, current)
      }
      continue
    }
    if (op === '-a' || op === '--add-server') {
      const key = serviceKey(words, err)
      const svc = key === undefined ? undefined : services.get(key)
      if (key !== undefined && !svc) {
        err(1, `real server of ${key} before its -A line`)
        continue
      }
      if (!svc) continue
      const r = ruleServer(words, err, col)
      if (r) svc.servers.push(r)
      continue
    }
    err(1, `not an ipvsadm -S rule or -Ln line: '${t}'`)
  }

  if (errors.length > 0) return { status: 2, errors, notes }
  if (services.size === 0 && !timeouts)
    return { status: 2, errors: [`${file}:1:1: no IPVS service in the input`], notes }
  const list = [...services.values()].map((s) => finish(s, file, notes))
  const ann = new WeakMap<object, { before?: string[] }>()
  for (const [i, s] of [...services.values()].entries())
    ann.set(list[i] as object, { before: [`from ${file}:${s.line}`] })
  const doc: Obj = {
    node: 'lvsd',
    virtual_services: list.length > 0 ? list : undefined,
    ipvs: timeouts ? { timeouts } : undefined,
  }
  const header = [
    `Imported by \`lvsd import ipvsadm\` from ${file}.`,
    'Set node to this director’s name; add checks (ipvsadm has none) and a vrrp section for the VIPs.',
  ]
  const footer = notes.length === 0 ? [] : ['Not carried over (file:line: keyword: why):', ...notes]
  return { status: notes.length > 0 ? 1 : 0, yaml: emitYaml(doc, ann, header, footer), errors: [], notes }
}

function serviceKey(words: string[], err: (c: number, m: string) => void): string | undefined {
  for (let i = 1; i < words.length; i++) {
    const w = words[i] as string
    if (w in PROTO) {
      const hp = hostPort(words[i + 1] ?? '')
      if (!hp) return void err(1, `'${words[i + 1] ?? ''}' is not a numeric address:port (use ipvsadm -Sn)`)
      return `${PROTO[w]}/${hp.address}/${hp.port}`
    }
    if (w === '-f' || w === '--fwmark-service') return `fwmark/${words[i + 1]}`
  }
  return void err(1, 'no -t, -u, --sctp-service or -f')
}

function ruleService(
  words: string[],
  line: number,
  err: (c: number, m: string) => void,
  file: string,
  notes: string[],
): Svc | undefined {
  const key = serviceKey(words, err)
  if (!key) return undefined
  const obj: Obj = {}
  const [proto, address, port] = key.split('/')
  if (proto === 'fwmark') {
    const m = Number(address)
    if (!Number.isInteger(m) || m < 1) return void err(1, `fwmark '${address}' is not a positive integer`)
    obj.name = `fwmark-${m}`
    obj.fwmark = m
    if (words.includes('-6') || words.includes('--ipv6')) obj.family = 'inet6'
  } else {
    obj.name = svcName(proto as string, address as string, Number(port))
    obj.address = address
    obj.port = Number(port)
    obj.protocol = proto
  }
  const flags: Obj = {}
  const persistence: Obj = {}
  for (let i = 1; i < words.length; i++) {
    const w = words[i] as string
    const v = words[i + 1]
    if (w === '-s' || w === '--scheduler') {
      if (!SCHEDULERS.includes(v ?? '')) err(1, `scheduler '${v}' is not one of ${SCHEDULERS.join(' ')}`)
      obj.scheduler = v
      i++
    } else if (w === '-p' || w === '--persistent') {
      persistence.timeout = `${Number(v)}s`
      i++
    } else if (w === '-M' || w === '--netmask') {
      const len = maskLen(v ?? '')
      if (len === undefined) err(1, `netmask '${v}' is not a mask or prefix length`)
      else if (len !== (obj.address && String(obj.address).includes(':') ? 128 : 32)) persistence.prefix_length = len
      i++
    } else if (w === '--pe') {
      persistence.engine = v
      i++
    } else if (w === '-b' || w === '--sched-flags') {
      for (const f of (v ?? '').split(',')) {
        if (f === 'sh-fallback' || f === 'mh-fallback' || f === 'flag-1') flags.fallback = true
        else if (f === 'sh-port' || f === 'mh-port' || f === 'flag-2') flags.port = true
        else notes.push(`${file}:${line}: -b ${f}: no lvsd equivalent`)
      }
      i++
    } else if (w === '-o' || w === '--ops') flags.one_packet = true
    else if (w in PROTO || w === '-f' || w === '--fwmark-service') i++
    else if (w === '-6' || w === '--ipv6') {
    } else err(1, `unknown -A option '${w}'`)
  }
  obj.scheduler ??= 'wlc'
  if (Object.keys(flags).length > 0) obj.scheduler_flags = flags
  if (Object.keys(persistence).length > 0) obj.persistence = { timeout: '360s', ...persistence }
  return { key, obj, line, servers: [] }
}

function ruleServer(
  words: string[],
  err: (c: number, m: string) => void,
  col: (w: string) => number,
): (Obj & { fwd: string }) | undefined {
  const r: Obj & { fwd: string } = { fwd: 'dr' }
  const tunnel: Obj = {}
  for (let i = 1; i < words.length; i++) {
    const w = words[i] as string
    const v = words[i + 1]
    if (w === '-r' || w === '--real-server') {
      const hp =
        hostPort(v ?? '') ??
        (tryParseAddr(v ?? '') ? { address: formatAddr(tryParseAddr(v ?? '')!), port: 0 } : undefined)
      if (!hp) return void err(col(v ?? w), `'${v}' is not a numeric address[:port] (use ipvsadm -Sn)`)
      r.address = hp.address
      if (hp.port !== 0) r.port = hp.port
      i++
    } else if (w === '-w' || w === '--weight') {
      r.weight = Number(v)
      i++
    } else if (w === '-x' || w === '--u-threshold') {
      if (Number(v) > 0) r.upper_threshold = Number(v)
      i++
    } else if (w === '-y' || w === '--l-threshold') {
      if (Number(v) > 0) r.lower_threshold = Number(v)
      i++
    } else if (w in METHOD) r.fwd = METHOD[w] as string
    else if (w === '--tun-type') {
      tunnel.type = v
      i++
    } else if (w === '--tun-port') {
      tunnel.port = Number(v)
      i++
    } else if (w === '--tun-nocsum') tunnel.checksum = 'none'
    else if (w === '--tun-csum') tunnel.checksum = 'csum'
    else if (w === '--tun-remcsum') tunnel.checksum = 'remcsum'
    else if (w in PROTO || w === '-f' || w === '--fwmark-service') i++
    else return void err(col(w), `unknown -a option '${w}'`)
  }
  if (r.address === undefined) return void err(1, '-a without -r')
  if (Object.keys(tunnel).length > 0 && !(tunnel.type === 'ipip' && Object.keys(tunnel).length === 1)) r.tunnel = tunnel
  return r
}

function lnService(
  proto: string,
  words: string[],
  line: number,
  err: (c: number, m: string) => void,
  notes: string[],
  file: string,
): Svc | undefined {
  const obj: Obj = {}
  let key: string
  let rest: string[]
  if (proto === 'fwmark') {
    const m = Number(words[1])
    if (!Number.isInteger(m) || m < 1) return void err(1, `FWM '${words[1]}' is not a positive integer`)
    key = `fwmark/${m}`
    Object.assign(obj, { name: `fwmark-${m}`, fwmark: m })
    rest = words.slice(2)
  } else {
    const hp = hostPort(words[1] ?? '')
    if (!hp) return void err(1, `'${words[1]}' is not a numeric address:port (use ipvsadm -Ln)`)
    key = `${proto}/${hp.address}/${hp.port}`
    Object.assign(obj, {
      name: svcName(proto, hp.address, hp.port),
      address: hp.address,
      port: hp.port,
      protocol: proto,
    })
    rest = words.slice(2)
  }
  obj.scheduler = rest[0]
  if (!SCHEDULERS.includes(rest[0] ?? '')) err(1, `scheduler '${rest[0]}' is not one of ${SCHEDULERS.join(' ')}`)
  const flags: Obj = {}
  const persistence: Obj = {}
  for (let i = 1; i < rest.length; i++) {
    const w = rest[i] as string
    if (w === 'persistent') persistence.timeout = `${Number(rest[++i])}s`
    else if (w === 'mask') {
      const len = maskLen(rest[++i] ?? '')
      if (len !== undefined && len !== (String(obj.address ?? '').includes(':') ? 128 : 32))
        persistence.prefix_length = len
    } else if (w === 'pe') persistence.engine = rest[++i]
    else if (w === 'ops') flags.one_packet = true
    else if (/^\(.*\)$/.test(w)) {
      for (const f of w.slice(1, -1).split(',')) {
        if (f.endsWith('fallback') || f === 'flag-1') flags.fallback = true
        else if (f.endsWith('port') || f === 'flag-2') flags.port = true
        else notes.push(`${file}:${line}: ${f}: no lvsd equivalent`)
      }
    } else err(1, `unknown service flag '${w}'`)
  }
  if (Object.keys(flags).length > 0) obj.scheduler_flags = flags
  if (Object.keys(persistence).length > 0) obj.persistence = { timeout: '360s', ...persistence }
  return { key, obj, line, servers: [] }
}

/** The service's forwarding is its servers' most common method; the others override per server. */
function finish(s: Svc, file: string, notes: string[]): Obj {
  const counts = new Map<string, number>()
  for (const r of s.servers) counts.set(r.fwd, (counts.get(r.fwd) ?? 0) + 1)
  const fwd = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'dr'
  const out: Obj = { ...s.obj, forwarding: fwd }
  if (s.servers.length === 0) return out
  out.real_servers = s.servers.map(({ fwd: f, ...r }) => {
    const o: Obj = { address: r.address }
    if (r.port !== undefined) o.port = r.port
    if (f === 'dr' && s.obj.port !== undefined && r.port !== undefined && r.port !== s.obj.port) {
      notes.push(
        `${file}:${s.line}: -a -r ${r.address}:${r.port} -g: DR cannot change the port; imported as ${s.obj.port}`,
      )
      o.port = s.obj.port
    }
    o.weight = r.weight ?? 1
    if (f !== fwd) o.forwarding = f
    for (const k of ['upper_threshold', 'lower_threshold', 'tunnel']) if (r[k] !== undefined) o[k] = r[k]
    return o
  })
  return out
}
