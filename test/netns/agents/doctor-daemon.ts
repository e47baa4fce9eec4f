// The control API and metrics of lvsd over a director whose doctor is the real one (runDoctor with the
// AF_PACKET probes on a loaded config): lvsd run itself needs IPVS, which this host's kernel lacks, so
// only the IPVS-owning part is the in-memory FakeDirector. argv: config file. Prints "ready".

import { startApi } from '../../../src/api/start.js'
import { formatIssue, loadConfigFile } from '../../../src/config/load.js'
import { type DoctorReport, runDoctor } from '../../../src/director/doctor.js'
import { probeDr } from '../../../src/director/doctor-probe.js'
import { exampleStatus, FakeDirector } from '../../helpers/fake-director.js'

const loaded = await loadConfigFile(process.argv[2] ?? '')
if (!loaded.ok) throw new Error(loaded.errors.map(formatIssue).join('\n'))
const config = loaded.config

class DoctorDirector extends FakeDirector {
  lastDoctor: DoctorReport | undefined
  async doctor(service?: string): Promise<DoctorReport> {
    const r = await runDoctor(config, service, (t) => probeDr(t))
    if (service === undefined) this.lastDoctor = r
    return r
  }
}

await startApi(new DoctorDirector({ status: exampleStatus() }), { control: config.control, metrics: config.metrics })
process.stdout.write('ready\n')
