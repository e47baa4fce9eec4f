// Accept_Mode as nftables rules (src/vrrp/main/accept.ts): which addresses are dropped, and the script
// that replaces the lvsd_vrrp table in one transaction (or only removes it).
import test from 'ava'
import { parsePrefix } from '../../src/net/addr.js'
import { acceptRuleset, noAcceptAddrs } from '../../src/vrrp/main/accept.js'
import { config } from './vrrp-instance-fakes.js'

const p = (s: string) => ({ prefix: parsePrefix(s) })

test('only non-owners with accept off contribute, with their excluded VIPs, by family, once each', (t) => {
  const list = [
    config({ name: 'a', accept: false, vips: [p('10.0.0.100/24')], excludedVips: [p('2001:db8::5/64')] }),
    config({ name: 'b', accept: true, vips: [p('10.0.0.101/24')] }),
    config({ name: 'c', accept: false, priority: 255, vips: [p('10.0.0.1/24')] }),
    config({ name: 'd', accept: false, vips: [p('10.0.0.100/24'), p('10.0.0.99/24')] }),
  ]
  t.deepEqual(noAcceptAddrs(list), { v4: ['10.0.0.100', '10.0.0.99'], v6: ['2001:db8::5'] })
})

test('the script replaces the table atomically: drop rules per family, IPv6 neighbour discovery passes', (t) => {
  const s = acceptRuleset([config({ accept: false, vips: [p('10.0.0.100/24')] })])
  t.is(
    s,
    [
      'add table inet lvsd_vrrp',
      'delete table inet lvsd_vrrp',
      'table inet lvsd_vrrp {',
      '  set no_accept4 { type ipv4_addr; elements = { 10.0.0.100 }; }',
      '  set no_accept6 { type ipv6_addr; }',
      '  chain input {',
      '    type filter hook input priority filter; policy accept;',
      '    ip daddr @no_accept4 counter drop',
      '    ip6 daddr @no_accept6 icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept',
      '    ip6 daddr @no_accept6 counter drop',
      '  }',
      '}',
      '',
    ].join('\n'),
  )
})

test('with nothing to drop the script only removes a table an earlier run may have left', (t) => {
  t.is(acceptRuleset([config({ accept: true })]), 'add table inet lvsd_vrrp\ndelete table inet lvsd_vrrp\n')
})
