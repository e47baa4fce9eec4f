// The address value type: parsing, RFC 5952 formatting, prefixes and byte order comparisons.
import test from 'ava'
import {
  compareAddr,
  formatAddr,
  hasHostBits,
  isLinkLocal,
  isMulticast,
  parseAddr,
  prefixContains,
  tryParseAddr,
  tryParsePrefix,
} from '../../src/net/addr.js'

const roundTrips: Array<[string, string]> = [
  ['10.0.0.3', '10.0.0.3'],
  ['0.0.0.0', '0.0.0.0'],
  ['fd00:c::3', 'fd00:c::3'],
  ['FD00:000C:0:0:0:0:0:3', 'fd00:c::3'],
  ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
  ['2001:db8::', '2001:db8::'],
  ['::', '::'],
  ['::1', '::1'],
  ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0'],
  ['::ffff:10.0.0.3', '::ffff:10.0.0.3'],
  ['fe80::1%eth0', 'fe80::1%eth0'],
]

for (const [input, canonical] of roundTrips) {
  test(`${input} formats as ${canonical}`, (t) => {
    t.is(formatAddr(parseAddr(input)), canonical)
  })
}

test('malformed addresses and prefixes are rejected', (t) => {
  for (const bad of ['10.0.0', '10.0.0.256', '1::2::3', 'fe80::1%', '10.0.0.1%eth0', 'host', '']) {
    t.is(tryParseAddr(bad), undefined, bad)
  }
  for (const bad of ['10.0.0.1/33', '10.0.0.1/', 'fd00::/129', '10.0.0.1/2x']) t.is(tryParsePrefix(bad), undefined, bad)
  t.throws(() => parseAddr('nope'), { code: 'LVSD_ADDR_INVALID' })
})

test('prefixes: host bits, containment and default length', (t) => {
  const p = tryParsePrefix('10.0.0.3/24')!
  t.true(hasHostBits(p))
  t.false(hasHostBits(tryParsePrefix('10.0.0.0/24')!))
  t.true(prefixContains(p, parseAddr('10.0.0.200')))
  t.false(prefixContains(p, parseAddr('10.0.1.1')))
  t.false(prefixContains(p, parseAddr('fd00::1')))
  t.is(tryParsePrefix('fd00:c::3')!.len, 128)
  t.is(tryParsePrefix('10.0.0.3', 24)!.len, 24)
})

test('address classes and ordering', (t) => {
  t.true(isMulticast(parseAddr('224.0.0.18')))
  t.true(isMulticast(parseAddr('ff02::12')))
  t.false(isMulticast(parseAddr('10.0.0.3')))
  t.true(isLinkLocal(parseAddr('fe80::1')))
  t.true(isLinkLocal(parseAddr('169.254.1.1')))
  t.true(compareAddr(parseAddr('10.0.0.5'), parseAddr('10.0.0.6')) < 0)
  t.true(compareAddr(parseAddr('10.0.0.10'), parseAddr('10.0.0.9')) > 0)
  t.true(compareAddr(parseAddr('255.255.255.255'), parseAddr('::')) < 0)
  t.is(compareAddr(parseAddr('fd00:c::3'), parseAddr('fd00:c:0::3')), 0)
})
