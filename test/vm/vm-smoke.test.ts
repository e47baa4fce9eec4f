// The VM tier's own smoke test: Debian's kernel boots under qemu, IPVS works, node runs, the host stays untouched.
import { randomBytes } from 'node:crypto'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import test from 'ava'
import { runAgent } from '../../lab/vm/guest.js'
import { resolveAbi } from '../../lab/vm/kernel.js'
import { VmError } from '../../lab/vm/proc.js'
import { runInVm } from '../../lab/vm/runner.js'
import { repoRoot } from '../helpers/paths.js'
import type { SmokeReport } from './agents/smoke.js'

function processesMentioning(text: string): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(text)
      } catch {
        return false // exited while we looked
      }
    })
    .map(Number)
}

// One boot serves every check of the first group (a boot costs ~6–10 s of both cores under TCG).
const probeName = `.vm-write-probe-${randomBytes(4).toString('hex')}`
const token = randomBytes(8).toString('hex')
const EXIT = 7
const smoke = runAgent<SmokeReport>('dist/test/vm/agents/smoke.js', [probeName, token, String(EXIT)], {
  cwd: repoRoot,
  timeoutMs: 240_000,
})
// Keep ava from reporting a rejection before a test awaits it; each test awaits `smoke` itself.
smoke.catch(() => {})

test('the guest runs the Debian kernel whose ABI the host resolved', async (t) => {
  const { value, run } = await smoke
  t.is(value.release, resolveAbi())
  t.is(run.kernel, value.release)
})

test('modprobe ip_vs works and /proc/net/ip_vs exists', async (t) => {
  const { value } = await smoke
  t.is(value.modprobeIpVs.status, 0, value.modprobeIpVs.stderr)
  t.true(value.procNetIpVs)
})

test('ipvsadm programs a wrr DR service and lists it back', async (t) => {
  const { value } = await smoke
  t.deepEqual(value.ipvsadm.status, [0, 0, 0, 0, 0], value.ipvsadm.list)
  t.regex(value.ipvsadm.list, /^TCP {2}10\.0\.0\.3:80 wrr\s*$/m)
  t.regex(value.ipvsadm.list, /^ {2}-> 10\.0\.0\.7:80\s+Route\s+1\s+0\s+0\s*$/m)
})

test('ipvsadm --set 30 5 60 shows up in ipvsadm -L --timeout', async (t) => {
  const { value } = await smoke
  t.regex(value.ipvsadm.timeout, /Timeout \(tcp tcpfin udp\): 30 5 60\b/)
})

test('the kernel auto-loads a scheduler module on demand (request_module → host modprobe)', async (t) => {
  const { value } = await smoke
  t.true(value.wrrAutoLoaded)
})

test('node runs inside the guest: the host binary, same version, with NO_COLOR set', async (t) => {
  const { value } = await smoke
  t.is(value.nodeVersion, process.version)
  t.is(value.noColor, '1')
  t.is(value.cwd, repoRoot)
})

test('the repository is read-only from inside and the host never sees the write', async (t) => {
  const { value } = await smoke
  t.false(value.repoWrite.ok)
  t.is(value.repoWrite.code, 'EROFS')
  t.false(existsSync(join(repoRoot, probeName)))
})

test('the output share is writable and its files come back to the host', async (t) => {
  const { value, run } = await smoke
  t.deepEqual(value.outWrite, { ok: true, code: null })
  t.is(run.outFiles[probeName], token)
})

test("a non-zero exit status of the guest command is the run's status", async (t) => {
  const { run } = await smoke
  t.is(run.status, EXIT)
})

// Serial, and only after the smoke boot: two qemus at once would share 2 cores and skew the clocks.
test.serial('the wall-clock timeout kills qemu when the guest command hangs', async (t) => {
  await smoke.catch(() => {})
  const started = Date.now()
  const err = await t.throwsAsync(runInVm({ command: ['sleep', '600'], cwd: repoRoot, timeoutMs: 20_000 }), {
    instanceOf: VmError,
  })
  t.is(err?.kind, 'timeout')
  const elapsed = Date.now() - started
  t.true(elapsed >= 20_000 && elapsed < 60_000, `took ${elapsed} ms`)
  // Every qemu of a run names its run dir on its command line; none may be left.
  const runDir = err?.details.runDir as string
  t.true(runDir.length > 0)
  t.deepEqual(processesMentioning(runDir), [])
  t.throws(() => process.kill(err?.details.wrapperPid as number, 0), { code: 'ESRCH' })
})

test.serial('a guest that powers off without reporting is a distinct no-exit-code error', async (t) => {
  await smoke.catch(() => {})
  const err = await t.throwsAsync(
    runInVm({ command: 'sync; echo o > /proc/sysrq-trigger; sleep 60', cwd: repoRoot, timeoutMs: 120_000 }),
    { instanceOf: VmError },
  )
  t.is(err?.kind, 'no-exit-code')
  t.true(typeof err?.details.console === 'string')
})
