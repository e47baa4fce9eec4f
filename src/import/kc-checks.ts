// keepalived's health checkers (TCP_CHECK, HTTP_GET, SSL_GET, MISC_CHECK, DNS_CHECK, SMTP_CHECK,
// UDP_CHECK, PING_CHECK, FILE_CHECK, BFD_CHECK) → lvsd checks. keepalived's timing (delay_loop,
// connect_timeout, retry, delay_before_retry, warmup) inherits virtual server → real server → checker.
import { type Conv, duration, lvsdName } from './kc-context.js'
import type { Obj, Stmt, TrackFile, Word } from './kc-types.js'

/** Checker timing as keepalived inherits it; undefined = keepalived's default for the checker type. */
export interface Timing {
  delayLoop?: number
  connectTimeout?: number
  retry?: number
  delayBeforeRetry?: number
  warmup?: number
  virtualhost?: string
}

/** The timing keywords, valid in virtual_server, real_server and every checker; true if handled. */
export function timingKeyword(c: Conv, k: Stmt, t: Timing): boolean {
  const timing = [
    'delay_loop',
    'connect_timeout',
    'retry',
    'nb_get_retry',
    'nb_sock_retry',
    'delay_before_retry',
    'warmup',
    'virtualhost',
  ]
  if (!timing.includes(k.key.text)) return false
  const arg = c.args(k, 1)
  switch (k.key.text) {
    case 'delay_loop':
      t.delayLoop = c.timer(arg?.[0], 'delay_loop', 0.001) ?? t.delayLoop
      return true
    case 'connect_timeout':
      t.connectTimeout = c.timer(arg?.[0], 'connect_timeout', 0.001) ?? t.connectTimeout
      return true
    case 'retry':
    case 'nb_get_retry':
    case 'nb_sock_retry':
      t.retry = c.int(arg?.[0], 0, 2147483647, k.key.text) ?? t.retry
      return true
    case 'delay_before_retry':
      t.delayBeforeRetry = c.timer(arg?.[0], 'delay_before_retry') ?? t.delayBeforeRetry
      return true
    case 'warmup':
      t.warmup = c.timer(arg?.[0], 'warmup') ?? t.warmup
      return true
    case 'virtualhost':
      t.virtualhost = arg?.[0]?.text
      return true
  }
  return false
}

const TYPES: Record<string, string> = {
  TCP_CHECK: 'tcp',
  HTTP_GET: 'http',
  SSL_GET: 'https',
  MISC_CHECK: 'exec',
  DNS_CHECK: 'dns',
  SMTP_CHECK: 'smtp',
  UDP_CHECK: 'udp',
  PING_CHECK: 'icmp',
  FILE_CHECK: 'file',
  ICMP_CHECK: 'icmp',
}

export function isChecker(kw: string): boolean {
  return kw in TYPES || kw === 'BFD_CHECK'
}

/** Checker keywords that belong to some checker types only (keepalived rejects them elsewhere). */
const SPECIFIC: Record<string, string[]> = {
  url: ['HTTP_GET', 'SSL_GET'],
  http_protocol: ['HTTP_GET', 'SSL_GET'],
  fast_recovery: ['HTTP_GET', 'SSL_GET'],
  enable_sni: ['SSL_GET'],
  helo_name: ['SMTP_CHECK'],
  host: ['SMTP_CHECK'],
  type: ['DNS_CHECK'],
  name: ['DNS_CHECK', 'BFD_CHECK'],
  misc_path: ['MISC_CHECK'],
  misc_timeout: ['MISC_CHECK'],
  misc_dynamic: ['MISC_CHECK'],
  user: ['MISC_CHECK'],
  payload: ['UDP_CHECK'],
  require_reply: ['UDP_CHECK'],
  min_reply_length: ['UDP_CHECK'],
  max_reply_length: ['UDP_CHECK'],
  track_file: ['FILE_CHECK'],
  dynamic: ['FILE_CHECK'],
  weight: ['FILE_CHECK'],
}

const DNS_TYPES = ['A', 'NS', 'CNAME', 'SOA', 'MX', 'TXT', 'AAAA', 'PTR', 'SRV']

export interface CheckEnv {
  trackFiles: Map<string, TrackFile>
  scriptUser?: string
  /** Set when a checker's alpha asks for the real server to start down. */
  alpha?: boolean
}

/** One keepalived checker block → one or more lvsd checks (one per url / SMTP host). */
export function convertChecker(c: Conv, k: Stmt, inherited: Timing, env: CheckEnv, notes: string[]): Obj[] {
  const kw = k.key.text
  if (kw === 'BFD_CHECK') {
    notes.push(c.note(k.key, 'lvsd has no BFD; the real server keeps its other checks'))
    return []
  }
  const type = TYPES[kw] as string
  const t: Timing = { ...inherited }
  const out: Obj = { type }
  const urls: Obj[] = []
  const hosts: Obj[] = []
  let misc: Obj = {}
  for (const o of k.block ?? []) {
    const okw = o.key.text
    const owner = SPECIFIC[okw]
    if (owner && !owner.includes(kw)) {
      c.err(o.key, `unknown keyword '${okw}' in ${kw}`)
      continue
    }
    if (timingKeyword(c, o, t)) continue
    const a = o.args
    switch (okw) {
      case 'connect_ip':
        out.connect_address = c.addr(a[0], okw)
        break
      case 'connect_port':
        out.connect_port = c.int(a[0], 1, 65535, okw)
        break
      case 'bindto':
        out.source_address = c.addr(a[0], okw)
        break
      case 'bind_if':
        out.bind_interface = a[0]?.text
        break
      case 'bind_port':
      case 'fwmark':
      case 'log_all_failures':
      case 'http_protocol':
      case 'fast_recovery':
      case 'min_reply_length':
      case 'max_reply_length':
        notes.push(c.note(o.key, 'no lvsd equivalent'))
        break
      case 'alpha':
        if (c.bool(o)) env.alpha = true
        break
      case 'enable_sni':
        break
      case 'url':
        if (kw !== 'HTTP_GET' && kw !== 'SSL_GET') c.err(o.key, `url only belongs in HTTP_GET or SSL_GET`)
        else urls.push(url(c, o, notes))
        break
      case 'host':
        // SMTP_CHECK's obsolete host { connect_ip … } sub-blocks: one check per host.
        hosts.push(hostBlock(c, o))
        break
      case 'helo_name':
        out.helo_name = a[0]?.text
        break
      case 'type':
        if (a[0] && !DNS_TYPES.includes(a[0].text.toUpperCase()))
          c.err(a[0], `DNS_CHECK type '${a[0].text}' is not one of ${DNS_TYPES.join(' ')}`)
        else out.query_type = a[0]?.text.toUpperCase()
        break
      case 'name':
        if (kw === 'DNS_CHECK') out.query_name = a[0]?.text
        else notes.push(c.note(o.key, 'lvsd has no BFD'))
        break
      case 'misc_path':
        misc.argv = c.argv(a.slice(0, 1))
        if (!(misc.argv as string[])[0]?.startsWith('/'))
          c.err(
            a[0] ?? o.key,
            `misc_path: '${(misc.argv as string[])[0] ?? ''}' is not an absolute path (lvsd runs programs without a shell or PATH)`,
          )
        break
      case 'misc_timeout':
        misc = { ...misc, timeout: c.timer(a[0], okw, 0.001) }
        break
      case 'misc_dynamic':
        misc.dynamic_weight = true
        break
      case 'user':
        misc.user = a[0] ? lvsdName(a[0].text) : undefined
        if (a[1]) notes.push(c.note(a[1], 'lvsd runs the program with the user’s own group', 'user … GROUP'))
        break
      case 'payload':
        out.payload_hex = hex(c, a, okw)
        break
      case 'require_reply':
        out.expect_reply = true
        if (a.length > 0)
          notes.push(c.note(o.key, 'lvsd checks that a reply comes, not its content', 'require_reply HEX'))
        break
      case 'track_file': {
        const tf = env.trackFiles.get(a[0]?.text ?? '')
        if (!tf) c.err(a[0] ?? o.key, `track_file '${a[0]?.text ?? ''}' is not defined`)
        else out.path = tf.path
        break
      }
      case 'dynamic':
        notes.push(c.note(o.key, 'lvsd always takes the weight from the file (weight_multiplier)'))
        break
      case 'weight': {
        const w = c.int(a[0], -2147483647, 2147483647, 'weight')
        if (w !== undefined && (w < 0 || w > 65535 || a[1]?.text === 'reverse'))
          notes.push(
            c.note(o.key, `lvsd's weight_multiplier is 0..65535 without reverse; ${w} not carried over`, 'weight'),
          )
        else if (w !== undefined) out.weight_multiplier = w
        break
      }
      default:
        c.err(o.key, `unknown keyword '${okw}' in ${kw}`)
    }
  }
  if (type === 'exec') {
    if (!misc.argv) return c.err(k.key, 'MISC_CHECK needs misc_path') ?? []
    Object.assign(out, { argv: misc.argv })
    if (misc.user ?? env.scriptUser) out.user = misc.user ?? env.scriptUser
    if (misc.dynamic_weight) out.dynamic_weight = true
  }
  if (type === 'file' && !out.path) return c.err(k.key, 'FILE_CHECK needs track_file') ?? []
  if (type === 'http' || type === 'https') {
    if (urls.length === 0) return c.err(k.key, `${kw} needs at least one url { }`) ?? []
    if (type === 'https') out.verify = false // keepalived's SSL_GET does not verify the certificate
    if (urls.length > 1)
      notes.push(
        c.note(k.key, `${urls.length} urls become ${urls.length} lvsd checks (all must pass, as in keepalived)`),
      )
  }
  // keepalived watches a FILE_CHECK's file (inotify) and ignores the timing keywords for it.
  const timing =
    type === 'file'
      ? { interval: '1s', rise: 1, fall: 1 }
      : timingOut(c, k, t, type, notes, misc.timeout as number | undefined)
  if (type === 'file')
    notes.push(c.note(k.key, 'keepalived reacts to a change at once; lvsd reads the file every second'))
  const host = t.virtualhost && (type === 'http' || type === 'https') ? { host: t.virtualhost } : {}
  const base = { ...out, ...timing }
  if (urls.length > 0) return urls.map((u) => order({ ...base, ...host, ...u }))
  if (hosts.length > 0) return hosts.map((h) => order({ ...base, ...h }))
  return [order(base)]
}

const ORDER = ['type', 'method', 'path', 'host', 'expect_status', 'body_digest', 'body_regex', 'verify']

function order(o: Obj): Obj {
  const out: Obj = {}
  for (const k of ORDER) if (o[k] !== undefined) out[k] = o[k]
  for (const [k, v] of Object.entries(o)) if (v !== undefined && !(k in out)) out[k] = v
  return out
}

/** keepalived's checker timing as lvsd's: down after 1 + retry failures with delay_before_retry between. */
function timingOut(c: Conv, k: Stmt, t: Timing, type: string, notes: string[], miscTimeout?: number): Obj {
  const loop = t.delayLoop ?? 60000
  const interval = Math.max(loop, 100)
  const retryDefault = type === 'dns' ? 3 : type === 'exec' ? 0 : 1
  let retry = t.retry ?? retryDefault
  let fall = 1
  if (retry > 10) {
    notes.push(
      c.note(
        k.key,
        `retry ${retry}: lvsd retries at most 10 times inside a check; fall: ${retry + 1} instead`,
        'retry',
      ),
    )
    fall = Math.min(retry + 1, 100)
    retry = 0
  }
  let timeout = miscTimeout ?? (type === 'exec' ? loop : (t.connectTimeout ?? 5000))
  if (timeout > interval) {
    notes.push(
      c.note(
        k.key,
        `timeout ${timeout / 1000}s exceeds delay_loop ${interval / 1000}s; lvsd needs timeout ≤ interval, so timeout: ${duration(interval)}`,
        'connect_timeout',
      ),
    )
    timeout = interval
  }
  const retryDelay = t.delayBeforeRetry ?? (type === 'http' || type === 'https' ? 3000 : type === 'dns' ? loop : 1000)
  const out: Obj = { interval: duration(interval), timeout: duration(Math.max(timeout, 10)), rise: 1, fall }
  if (retry > 0) {
    out.retry = retry
    out.retry_delay = duration(retryDelay)
  }
  if (t.warmup !== undefined) out.warmup = duration(t.warmup)
  return out
}

function url(c: Conv, u: Stmt, notes: string[]): Obj {
  const out: Obj = {}
  for (const o of u.block ?? []) {
    const a = o.args
    switch (o.key.text) {
      case 'path':
        out.path = a[0]?.text
        if (out.path && !(out.path as string).startsWith('/'))
          c.err(a[0] as Word, `path '${out.path}' must start with /`)
        break
      case 'digest':
        if (!a[0] || !/^[0-9a-fA-F]{32}$/.test(a[0].text))
          c.err(a[0] ?? o.key, 'digest: expects 32 hex digits (an MD5 sum from genhash)')
        else out.body_digest = `md5:${a[0].text.toLowerCase()}`
        break
      case 'status_code': {
        const parts: string[] = []
        for (const w of a) {
          const m = /^(\d+)(?:-(\d+))?$/.exec(w.text)
          const lo = Number(m?.[1])
          const hi = Number(m?.[2] ?? m?.[1])
          if (!m || lo < 100 || hi > 599 || lo > hi)
            c.err(w, `status_code '${w.text}' is not an HTTP status (100..599) or range`)
          else parts.push(w.text)
        }
        out.expect_status = parts.join(',')
        break
      }
      case 'virtualhost':
        out.host = a[0]?.text
        break
      case 'regex':
        out.body_regex = a[0]?.text
        break
      case 'regex_no_match':
        notes.push(c.note(o.key, 'lvsd has no inverted regex; the regex is dropped'))
        out.invert = true
        break
      case 'regex_options':
      case 'regex_stack':
      case 'regex_min_offset':
      case 'regex_max_offset':
        notes.push(c.note(o.key, 'no lvsd equivalent'))
        break
      default:
        c.err(o.key, `unknown keyword '${o.key.text}' in url`)
    }
  }
  if (out.invert) delete out.body_regex
  delete out.invert
  if (out.body_digest && out.body_regex) {
    notes.push(c.note(u.key, 'lvsd checks either a digest or a regex: the regex is dropped', 'url digest+regex'))
    delete out.body_regex
  }
  if (out.expect_status === undefined && out.body_digest === undefined) out.expect_status = '200-299'
  return out
}

function hostBlock(c: Conv, h: Stmt): Obj {
  const out: Obj = {}
  for (const o of h.block ?? []) {
    if (o.key.text === 'connect_ip') out.connect_address = c.addr(o.args[0], 'connect_ip')
    else if (o.key.text === 'connect_port') out.connect_port = c.int(o.args[0], 1, 65535, 'connect_port')
    else if (o.key.text === 'bindto') out.source_address = c.addr(o.args[0], 'bindto')
    else c.err(o.key, `unknown keyword '${o.key.text}' in host`)
  }
  return out
}

/** keepalived's free-format hex ("Ab12f 3 456" = AB 12 0F 03 45 06): each word padded to whole bytes. */
function hex(c: Conv, words: Word[], what: string): string | undefined {
  let out = ''
  for (const w of words) {
    if (!/^[0-9a-fA-F]+$/.test(w.text)) return c.err(w, `${what}: '${w.text}' is not hex`)
    const t = w.text.toLowerCase()
    for (let i = 0; i < t.length; i += 2) out += i + 1 < t.length ? t.slice(i, i + 2) : `0${t[i]}`
  }
  return out
}
