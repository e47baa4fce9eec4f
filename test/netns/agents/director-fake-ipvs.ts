// Netns agent: the whole director from a config file, as `lvsd run` builds it (VRRP worker, health
// checks, quorum), on a fake IPVS kernel: this host has no IPVS, and what a test watches here is the
// director's own logic. Logs JSON lines as `lvsd run --log-format json` does; SIGTERM stops it.
//   director-fake-ipvs.js <config>
import { startApi } from '../../../src/api/start.js'
import { configReader } from '../../../src/director/config-source.js'
import { LvsDirector } from '../../../src/director/director.js'
import { IpvsClient } from '../../../src/ipvs/client.js'
import { createLogger } from '../../../src/log.js'
import { fakeIpvs } from '../../fixtures/ipvs/fake-ipvs.js'

const [file = ''] = process.argv.slice(2)
const load = configReader(file)
const first = await load()
if (!first.ok) throw new Error(JSON.stringify(first.errors.slice(0, 3)))
const log = createLogger({ level: 'info', format: 'json' })
const { nl } = fakeIpvs()
const director = await LvsDirector.start(first.loaded, {
  log,
  version: 'test',
  load,
  connectIpvs: () => IpvsClient.open(nl),
})
// the API's event log writes the transitions the harness waits for, as under `lvsd run`
const c = first.loaded.config
const api = await startApi(director, { control: c.control, metrics: c.metrics }, { log })
process.once('SIGTERM', () => {
  void director
    .stop('SIGTERM')
    .then(() => api.close())
    .then(() => process.exit(0))
})
