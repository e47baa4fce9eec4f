// The whole director from a config file as `lvsd run` builds it (VRRP worker, health checks, quorum,
// the API with its event log and metrics) on a fake IPVS kernel (test/fixtures/ipvs/fake-ipvs.ts):
// for the netns tests and benches of a host without IPVS, where what is watched is lvsd's own work.
import { type Api, startApi } from '../../src/api/start.js'
import { configReader } from '../../src/director/config-source.js'
import { LvsDirector } from '../../src/director/director.js'
import { IpvsClient } from '../../src/ipvs/client.js'
import { createLogger } from '../../src/log.js'
import { fakeIpvs } from '../fixtures/ipvs/fake-ipvs.js'

export async function startFakeIpvsDirector(
  file: string,
  version: string,
): Promise<{ director: LvsDirector; api: Api }> {
  const load = configReader(file)
  const first = await load()
  if (!first.ok) throw new Error(JSON.stringify(first.errors.slice(0, 3)))
  const log = createLogger({ level: 'info', format: 'json' })
  const { nl } = fakeIpvs()
  const director = await LvsDirector.start(first.loaded, {
    log,
    version,
    load,
    connectIpvs: () => IpvsClient.open(nl),
  })
  const c = first.loaded.config
  const api = await startApi(director, { control: c.control, metrics: c.metrics }, { log })
  return { director, api }
}
