// Netns agent: the whole director from a config file on a fake IPVS kernel (this host has none; what
// a test watches here is the director's own logic). Logs JSON lines as `lvsd run --log-format json`
// does (the API's event log writes the transitions the harness waits for); SIGTERM stops it.
//   director-fake-ipvs.js <config>
import { startFakeIpvsDirector } from '../../helpers/fake-ipvs-director.js'

const [file = ''] = process.argv.slice(2)
const { director, api } = await startFakeIpvsDirector(file, 'test')
process.once('SIGTERM', () => {
  void director
    .stop('SIGTERM')
    .then(() => api.close())
    .then(() => process.exit(0))
})
