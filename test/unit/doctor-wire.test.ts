// Which of the director's addresses a probe of a real server comes from: one whose prefix holds the
// server; an IPv6 link-local address only when the interface has nothing else.
import test from 'ava'
import { pickSource } from '../../src/director/doctor-wire.js'
import { formatAddr, parseAddr } from '../../src/net/addr.js'

const a = (text: string, len: number) => ({ addr: parseAddr(text), len })
const pick = (addrs: { addr: ReturnType<typeof parseAddr>; len: number }[], server: string, named = true) => {
  const s = pickSource(addrs, parseAddr(server), named)
  return s && formatAddr(s)
}

test('the address whose prefix holds the server, IPv4 and IPv6, before any other', (t) => {
  t.is(pick([a('10.0.1.1', 24), a('10.0.0.1', 24)], '10.0.0.7'), '10.0.0.1')
  t.is(pick([a('fe80::1', 64), a('2001:db8:1::1', 64), a('fd00:76::1', 64)], 'fd00:76::11'), 'fd00:76::1')
})

test('IPv6: a global address before the link-local one, the link-local one when it is all there is', (t) => {
  t.is(pick([a('fe80::1', 64), a('2001:db8:1::1', 64)], 'fd00:76::11'), '2001:db8:1::1')
  t.is(pick([a('fe80::1', 64)], 'fd00:76::11'), 'fe80::1')
  t.is(pick([a('fe80::1', 64)], 'fe80::11'), 'fe80::1')
})

test('without a named interface only a facing address counts (the interface is being searched for)', (t) => {
  t.is(pick([a('10.0.1.1', 24)], '10.0.0.7', false), undefined)
  t.is(pick([a('fe80::1', 64)], 'fd00:76::11', false), undefined)
  t.is(pick([], '10.0.0.7'), undefined)
})
