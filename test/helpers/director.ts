// A real LvsDirector from a config file, silent, on an injected IPVS client (a fake kernel in the unit
// tier): the one way unit tests start the product's director.
import { configReader } from '../../src/director/config-source.js'
import { type DirectorOptions, LvsDirector } from '../../src/director/director.js'
import type { IpvsClient } from '../../src/ipvs/client.js'
import { createLogger } from '../../src/log.js'

export async function startDirector(
  file: string,
  connectIpvs: () => Promise<IpvsClient>,
  extra: Partial<Omit<DirectorOptions, 'load' | 'connectIpvs'>> = {},
): Promise<LvsDirector> {
  const load = configReader(file)
  const first = await load()
  if (!first.ok) throw new Error(JSON.stringify(first.errors))
  return LvsDirector.start(first.loaded, {
    log: createLogger({ level: 'silent', format: 'json' }),
    version: 'test',
    load,
    connectIpvs,
    driftIntervalMs: 0,
    ...extra,
  })
}
