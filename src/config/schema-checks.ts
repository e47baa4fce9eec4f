// Health-check kinds of real servers (`checks:` of a service or a real server), one mapping per kind
// sharing the timing and addressing keys.
import type { Scalar, Node as YNode } from 'yaml'
import { addr, BAD, bool, duration, enumOf, int, type Json, type Out, ScalarSchema, str } from './dsl.js'
import { arr, obj, tagged } from './dsl-struct.js'
import { absPath, argv, ifname, name, SECOND } from './schema-vrrp.js'
import type { Ctx } from './walk.js'

/** HTTP status codes: `200`, `"200-299"`, `"200,301-302"`; YAML gives a bare 200 as a number. */
class StatusSchema extends ScalarSchema<Array<[number, number]>> {
  readonly kind = 'status'
  expect(): string {
    return 'status codes such as 200 or "200-299,301"'
  }
  convert(s: Scalar, ctx: Ctx, path: string, node: YNode): Out<Array<[number, number]>> {
    const text = String(s.value)
    const out: Array<[number, number]> = []
    for (const part of text.split(',')) {
      const m = /^\s*([1-5]\d\d)(?:-([1-5]\d\d))?\s*$/.exec(part)
      const lo = Number(m?.[1])
      const hi = m?.[2] === undefined ? lo : Number(m[2])
      if (!m || hi < lo) {
        ctx.report(node, path, `must be ${this.expect()}`)
        return BAD
      }
      out.push([lo, hi])
    }
    return out
  }
  override show(v: Array<[number, number]>): unknown {
    return v.map(([a, b]) => (a === b ? `${a}` : `${a}-${b}`)).join(',')
  }
  typeName(): string {
    return 'HTTP status list'
  }
  jsonBody(): Json {
    return {
      type: ['string', 'integer'],
      pattern: '^[1-5][0-9]{2}(-[1-5][0-9]{2})?(,[1-5][0-9]{2}(-[1-5][0-9]{2})?)*$',
    }
  }
}

class RegexSchema extends ScalarSchema<string> {
  readonly kind = 'regex'
  expect(): string {
    return 'a regular expression'
  }
  convert(s: Scalar, ctx: Ctx, path: string, node: YNode): Out<string> {
    if (typeof s.value !== 'string') {
      ctx.report(node, path, `must be ${this.expect()}`)
      return BAD
    }
    try {
      new RegExp(s.value)
      return s.value
    } catch (e) {
      ctx.report(
        node,
        path,
        `is not a valid regular expression: ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`,
      )
      return BAD
    }
  }
  typeName(): string {
    return 'regular expression'
  }
  jsonBody(): Json {
    return { type: 'string', format: 'regex' }
  }
}

export const common = {
  interval: duration(100, 3_600 * SECOND)
    .def(2 * SECOND)
    .describe('time between checks')
    .differs('delay_loop 60 s', 'a director must notice a dead real server in seconds: 2 s × fall 3 ≈ 6 s'),
  timeout: duration(10, 3_600 * SECOND)
    .def(SECOND)
    .describe('a check not finished after this long has failed')
    .differs('connect_timeout 5 s', 'must stay below the interval; 1 s is ample on a LAN'),
  rise: int(1, 100)
    .def(2)
    .describe('successes in a row before a down server is up')
    .differs('1 (up after one success)', 'a server that answers once while restarting must not get traffic yet'),
  fall: int(1, 100)
    .def(3)
    .describe('failures in a row before an up server is down')
    .differs(
      'retry 1 (down after 2 failures)',
      'one lost SYN must not drain a server; 3 × 2 s keeps detection near 6 s',
    ),
  retry: int(0, 10).def(0).describe('immediate retries inside one check before it counts as failed'),
  retry_delay: duration(0, 3_600 * SECOND)
    .def(SECOND)
    .describe('wait between such retries'),
  warmup: duration(0, 3_600 * SECOND)
    .def(0)
    .describe('the first check starts after a random delay up to this'),
  connect_address: addr({ unicast: true }).optional().describe('check this address instead of the real server’s'),
  connect_port: int(1, 65535).optional().describe('check this port instead of the real server’s'),
  source_address: addr({ unicast: true }).optional().describe('bind the check’s socket to this source address'),
  bind_interface: ifname().optional().describe('bind the check’s socket to this interface (SO_BINDTODEVICE)'),
}

const httpFields = {
  method: enumOf(['GET', 'HEAD'] as const)
    .def('GET')
    .describe('request method'),
  path: str(/^\/\S*$/, 'a path starting with /')
    .def('/')
    .describe('request path'),
  host: str().optional().describe('Host header (default: the address checked)'),
  expect_status: new StatusSchema().def([[200, 299]]).describe('status codes that count as success'),
  body_regex: new RegexSchema().optional().describe('the body must match this regular expression'),
  body_digest: str(/^(md5|sha256):[0-9a-f]+$/, 'md5:<32 hex digits> or sha256:<64 hex digits>')
    .optional()
    .describe('the body’s digest must equal this'),
}

export const check = tagged('type', {
  tcp: obj({ ...common }).describe('connect() succeeds'),
  http: obj({ ...common, ...httpFields }).describe('HTTP request'),
  https: obj({
    ...common,
    ...httpFields,
    sni: str().optional().describe('TLS server name (default: host)'),
    verify: bool().def(true).describe('verify the server certificate'),
    ca_file: absPath().optional().describe('CA bundle for verification (default: the system’s)'),
  }).describe('HTTP request over TLS'),
  dns: obj({
    ...common,
    query_type: enumOf(['A', 'AAAA', 'SOA', 'NS', 'MX', 'TXT', 'CNAME', 'PTR', 'SRV'] as const)
      .def('SOA')
      .describe('query type'),
    query_name: str().def('.').describe('query name'),
    expect_rcode: enumOf(['NOERROR', 'NXDOMAIN', 'SERVFAIL', 'REFUSED'] as const)
      .def('NOERROR')
      .describe('expected response code'),
    expect_answer: str().optional().describe('an answer record must have this value (e.g. an address)'),
  }).describe('DNS query over UDP'),
  udp: obj({
    ...common,
    payload: str().optional().describe('datagram to send, as text'),
    payload_hex: str(/^([0-9a-fA-F]{2})+$/, 'an even number of hex digits')
      .optional()
      .describe('datagram to send, as hex'),
    expect_reply: bool().def(false).describe('a reply is required (else only an ICMP unreachable fails)'),
  }).describe('UDP datagram'),
  icmp: obj({ ...common }).describe('ICMP / ICMPv6 echo'),
  smtp: obj({ ...common, helo_name: str().def('lvsd').describe('name sent in HELO') }).describe(
    'SMTP greeting and HELO',
  ),
  exec: obj({
    ...common,
    argv: argv(),
    user: name().optional().describe('run as this user (default: programs.user)'),
    dynamic_weight: bool()
      .def(false)
      .describe('exit 0 = up, 1 = down, 2..255 = up with weight exit−2 (keepalived misc_dynamic)'),
  }).describe('run a program; exit status 0 = up'),
  file: obj({
    ...common,
    path: absPath().describe('file holding an integer, written by another program'),
    weight_multiplier: int(0, 65535)
      .def(1)
      .describe('weight = the integer × this (0 = up but idle); a negative integer = down'),
  }).describe('read the weight from a file'),
}).describe('a health check')

export const checks = arr(check).entities()
