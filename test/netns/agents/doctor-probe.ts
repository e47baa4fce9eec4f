// Runs the doctor's DR probes from inside a director namespace and prints the findings as JSON.
// argv: ifname server vip port [tcp|udp]
import { drFindings } from '../../../src/director/doctor.js'
import { probeDr } from '../../../src/director/doctor-probe.js'
import { parseAddr } from '../../../src/net/addr.js'

const [ifname = 'eth0', server = '', vip = '', port = '80', protocol = 'tcp'] = process.argv.slice(2)
const target = {
  ifname,
  server: parseAddr(server),
  vip: parseAddr(vip),
  port: Number(port),
  protocol: protocol === 'udp' ? ('udp' as const) : ('tcp' as const),
}
const probe = await probeDr(target, 700)
process.stdout.write(`${JSON.stringify(drFindings('web', target.server, target.port, target.vip, ifname, probe))}\n`)
