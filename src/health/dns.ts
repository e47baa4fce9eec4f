// DNS check (keepalived DNS_CHECK): one UDP query of a type and name; the reply's rcode and,
// optionally, one of its answers must be as expected.
import { randomInt } from 'node:crypto'
import { isIP } from 'node:net'
import { formatAddr, parseAddr } from '../net/addr.js'
import { decodeReply, encodeQuery, peekHeader, type Reply, typeNumber } from './dns-message.js'
import { ProbeFailure, timed } from './probe.js'
import type { DnsOptions, Result, Target } from './types.js'
import { exchangeUdp } from './udp.js'

const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED']

function canonical(v: string): string {
  if (isIP(v)) return formatAddr(parseAddr(v))
  const l = v.toLowerCase()
  return l.endsWith('.') ? l : `${l}.`
}

export function check(target: Target, o: DnsOptions, signal: AbortSignal): Promise<Result> {
  return timed(signal, async () => {
    const id = randomInt(0, 0x10000)
    const type = typeNumber(o.type ?? 'SOA')
    const query = encodeQuery({ id, name: o.name ?? '.', type, recursion: o.recursion === true })
    // datagrams that are not our reply (stale ids, garbage) are skipped by their header alone, never
    // decoded: a flood of them must cost next to nothing. Our reply, malformed, is a failure.
    const reply = await exchangeUdp<Reply | Error>(target, query, signal, (d) => {
      const h = peekHeader(d)
      if (!h || !h.qr || h.id !== id) return undefined
      try {
        return decodeReply(d)
      } catch (e) {
        return e as Error
      }
    })
    if (reply instanceof Error) throw new ProbeFailure('protocol', `malformed DNS reply: ${reply.message}`)
    const want = o.rcode ?? 0
    const name = (n: number) => RCODES[n] ?? `rcode ${n}`
    if (reply.rcode !== want) throw new ProbeFailure('rcode', `DNS ${name(reply.rcode)}, expected ${name(want)}`)
    if (o.answer !== undefined) {
      const expect = canonical(o.answer)
      const values = reply.answers
        .filter((a) => a.type === type)
        .map((a) => (a.type === 16 ? a.value : canonical(a.value)))
      const hit = type === 16 ? values.includes(o.answer) : values.includes(expect)
      if (!hit)
        throw new ProbeFailure(
          'answer',
          `no ${o.type ?? 'SOA'} answer ${o.answer} (got ${values.join(', ') || 'none'})`,
        )
    }
    return { detail: `DNS ${name(reply.rcode)}, ${reply.answers.length} answer(s)` }
  })
}
