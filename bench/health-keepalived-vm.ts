// keepalived's TCP_CHECK (or HTTP_GET) next to lvsd's prober on the same real servers, in the lab VM
// (real IPVS, which keepalived's checker needs): boots the VM once and runs
// bench/health-keepalived-agent.ts there.
//   node dist/bench/health-keepalived-vm.js [servers=300] [windowSec=20] [tcp|http]
// The VM is TCG-emulated (docs/vm-tier.md), ~15× slower than the host: compare the two checkers with
// each other, not with host figures.
import { join } from 'node:path'
import { parseReport } from '../lab/vm/guest.js'
import { runInVm } from '../lab/vm/runner.js'
import { repoRoot } from '../test/helpers/paths.js'
import { buildResponder } from './http-responder.js'

const [servers = '300', windowSec = '20', kind = 'tcp'] = process.argv.slice(2)
// the guest sees the repository (not this host's /tmp): the responder is built under build/
const responder = kind === 'http' ? buildResponder(join(repoRoot, 'build', 'bench')) : undefined
const run = await runInVm({
  command: `node dist/bench/health-keepalived-agent.js ${Number(servers)} ${Number(windowSec)} ${kind === 'http' ? `http ${responder?.path}` : 'tcp'}`,
  cwd: repoRoot,
  timeoutMs: 900_000,
})
const r = parseReport<Record<string, unknown>>(run.stdout)
if (!r) {
  console.error(`no report (exit ${run.status})\n${run.stderr.slice(-3000)}\n${run.console.slice(-2000)}`)
  process.exit(1)
}
responder?.dispose()
console.log(JSON.stringify({ ...r, vmMs: run.durationMs }, null, 2))
