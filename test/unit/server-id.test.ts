// A real server's id and text as the API, metrics and events spell them, kept per config object.
import test from 'ava'
import { realServerText, serverId } from '../../src/director/health-specs.js'
import { parseAddr } from '../../src/net/addr.js'

test('serverId and realServerText spell service/address:port, IPv6 in brackets', (t) => {
  t.is(serverId('web', { address: parseAddr('10.0.0.7'), port: 80 }), 'web/10.0.0.7:80')
  t.is(serverId('web', { address: parseAddr('2001:db8::7'), port: 443 }), 'web/[2001:db8::7]:443')
  t.is(realServerText({ address: parseAddr('192.168.255.1'), port: 8080 }), '192.168.255.1:8080')
})

test('a kept spelling follows the object: another service, port or address is spelled anew', (t) => {
  const rs = { address: parseAddr('10.0.0.7'), port: 80 }
  t.is(serverId('web', rs), 'web/10.0.0.7:80')
  t.is(serverId('api', rs), 'api/10.0.0.7:80')
  rs.port = 81
  t.is(serverId('api', rs), 'api/10.0.0.7:81')
  rs.address = parseAddr('10.0.0.8')
  t.is(realServerText(rs), '10.0.0.8:81')
  t.is(serverId('api', rs), 'api/10.0.0.8:81')
})
