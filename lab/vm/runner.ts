// Runs one command inside a throw-away qemu VM booting Debian's kernel, for tests that need real IPVS (lab-recipes.md §B).
import { type ChildProcess, spawn } from 'node:child_process'
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { prepareInitramfs } from './initramfs.js'
import { type Kernel, prepareKernel } from './kernel.js'
import { cacheRoot, shQuote, VmError } from './proc.js'

export interface VmRunOptions {
  /** argv (exec'd as is) or a shell script (run by /bin/sh, so pipes and `;` work). */
  command: string[] | string
  /** Host path, seen at the same path (read-only) in the guest. Default: process.cwd(). */
  cwd?: string
  env?: Record<string, string>
  /** Wall clock for the whole boot-run-poweroff cycle; qemu is killed when it passes. */
  timeoutMs?: number
  memMb?: number
  smp?: number
}

export interface VmRunResult {
  status: number
  stdout: string
  stderr: string
  /** qemu start to qemu exit, as the host saw it. */
  durationMs: number
  /** The serial console (kernel messages and the guest init's own lines). */
  console: string
  /** Guest uptime when the command started and how long it ran, from the guest's clock. */
  guest: { readyMs: number; commandMs: number } | undefined
  /** Top-level files the command wrote into $LVSD_VM_OUT (the run dir is removed afterwards). */
  outFiles: Record<string, string>
  kernel: string
}

export interface Prepared {
  kernel: Kernel
  initrd: string
}

/** Fetches the kernel and builds the initramfs (both cached); what `cli.js --prepare` runs. */
export function prepareVm(): Prepared {
  const kernel = prepareKernel()
  return { kernel, initrd: prepareInitramfs(kernel) }
}

function guestInitSource(): string {
  const fromEnv = process.env.LVSD_VM_GUEST_INIT
  if (fromEnv) return fromEnv
  // tsc does not copy .sh files: from dist/lab/vm/ look in the source tree beside it.
  for (const rel of ['./guest-init.sh', '../../../lab/vm/guest-init.sh']) {
    const p = fileURLToPath(new URL(rel, import.meta.url))
    if (existsSync(p)) return p
  }
  throw new VmError('tool-failed', 'guest-init.sh not found next to runner.js or in lab/vm (set LVSD_VM_GUEST_INIT)')
}

/** Paths go into qemu's comma-separated options and a space-separated kernel command line. */
function plainPath(p: string): string {
  if (/[\s,]/.test(p)) throw new VmError('bad-request', `path unusable on a qemu/kernel command line: ${p}`)
  return p
}

/** The guest mounts fresh tmpfs on /tmp and /run: host paths there (other than cwd, shared on its own) do not exist inside it. */
function guestVisible(p: string, what: string): string {
  if (/^\/(tmp|run|proc|sys|dev)(\/|$)/.test(p)) {
    throw new VmError('bad-request', `${what} ${p} is hidden in the guest (fresh /tmp, /run, /proc, /sys, /dev)`)
  }
  return p
}

function jobScript(o: VmRunOptions, outDir: string): string {
  const env: Record<string, string> = { ...o.env, NO_COLOR: '1', LVSD_VM: '1', LVSD_VM_OUT: outDir }
  const exports = Object.entries(env).map(([k, v]) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw new VmError('bad-request', `bad environment name ${k}`)
    return `export ${k}=${shQuote(v)}`
  })
  const cmd = typeof o.command === 'string' ? o.command : `exec ${o.command.map(shQuote).join(' ')}`
  return `${exports.join('\n')}\n${cmd}\n`
}

const live = new Set<ChildProcess>()
let exitHook = false
function track(p: ChildProcess): void {
  live.add(p)
  p.once('close', () => live.delete(p))
  if (!exitHook) {
    exitHook = true
    // A test runner that dies must not leave a 1.5 GB qemu spinning both cores.
    process.once('exit', () => {
      for (const q of live) q.kill('SIGTERM')
    })
  }
}

const DAY_MS = 24 * 3600_000
/** Run dirs are removed after each run; one survives only if its node process was killed. */
function sweepRuns(dir: string): void {
  mkdirSync(dir, { recursive: true })
  for (const e of readdirSync(dir)) {
    const p = join(dir, e)
    const st = statSync(p, { throwIfNoEntry: false })
    if (e.startsWith('r-') && st && Date.now() - st.mtimeMs > DAY_MS) rmSync(p, { recursive: true, force: true })
  }
}

function readText(p: string): string {
  return existsSync(p) ? readFileSync(p, 'utf8') : ''
}

const RESERVED = new Set(['stdout', 'stderr', 'status', 'status.tmp', 'times'])
function outFiles(dir: string): Record<string, string> {
  const files: Record<string, string> = {}
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isFile() && !RESERVED.has(e.name)) files[e.name] = readFileSync(join(dir, e.name), 'utf8')
  }
  return files
}

function parseTimes(text: string): VmRunResult['guest'] {
  const ready = Number(text.match(/^ready (\S+)/m)?.[1])
  const done = Number(text.match(/^done (\S+)/m)?.[1])
  if (!Number.isFinite(ready) || !Number.isFinite(done)) return undefined
  return { readyMs: Math.round(ready * 1000), commandMs: Math.round((done - ready) * 1000) }
}

export function qemuArgs(p: Prepared, runDir: string, o: VmRunOptions): string[] {
  const outDir = join(runDir, 'out')
  const cwd = resolve(o.cwd ?? process.cwd())
  const append = [
    'console=ttyS0',
    process.env.LVSD_VM_VERBOSE ? 'loglevel=7' : 'quiet',
    'panic=-1', // with -no-reboot a kernel panic ends qemu at once instead of running out the clock
    `lvsd.init=${plainPath(join(runDir, 'guest-init.sh'))}`,
    `lvsd.run=${plainPath(runDir)}`,
    `lvsd.kroot=${plainPath(p.kernel.kroot)}`,
  ]
  return [
    ...['-machine', 'pc', '-accel', 'tcg,thread=multi', '-cpu', 'max'], // /dev/kvm hangs here: TCG only
    ...['-smp', String(o.smp ?? 2), '-m', String(o.memMb ?? 2048)],
    ...['-nodefaults', '-nographic', '-no-reboot', '-monitor', 'none'],
    ...['-serial', `file:${join(runDir, 'console.log')}`],
    ...['-kernel', plainPath(p.kernel.vmlinuz), '-initrd', plainPath(p.initrd), '-append', append.join(' ')],
    // No -netdev at all: the guest has only lo, and tests build their own namespaces inside it.
    ...['-virtfs', 'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap'],
    ...['-virtfs', `local,path=${plainPath(outDir)},mount_tag=out,security_model=none,multidevs=remap`],
    // The working directory gets its own read-only share, mounted at its host path: a clone under
    // /tmp (CI's may be) would otherwise be hidden by the guest's fresh tmpfs.
    ...['-virtfs', `local,path=${plainPath(cwd)},mount_tag=work,security_model=none,readonly=on,multidevs=remap`],
  ]
}

/**
 * Boots the VM, runs `command` as a child of the guest's PID 1 with NO_COLOR=1 and LVSD_VM_OUT set,
 * and resolves with its exit status and output. Rejects with VmError 'timeout' (qemu killed) or
 * 'no-exit-code' (the guest ended without reporting), each carrying the console for diagnosis.
 */
export async function runInVm(o: VmRunOptions): Promise<VmRunResult> {
  const cwd = resolve(o.cwd ?? process.cwd())
  guestVisible(resolve(cacheRoot()), 'LVSD_VM_CACHE')
  const p = prepareVm()
  const timeoutMs = o.timeoutMs ?? 120_000
  sweepRuns(join(cacheRoot(), 'runs'))
  const runDir = mkdtempSync(join(cacheRoot(), 'runs', 'r-'))
  const outDir = join(runDir, 'out')
  mkdirSync(outDir)
  copyFileSync(guestInitSource(), join(runDir, 'guest-init.sh'))
  chmodSync(join(runDir, 'guest-init.sh'), 0o755) // the kernel execs it as PID 1
  writeFileSync(join(runDir, 'job.conf'), `JOB_CWD=${shQuote(cwd)}\n`)
  writeFileSync(join(runDir, 'job.sh'), jobScript(o, outDir))
  const args = qemuArgs(p, runDir, o)

  const started = Date.now()
  let timedOut = false
  let qemuStderr = ''
  const exit = await new Promise<{ code: number | null; signal: string | null; pid: number | undefined }>(
    (done, fail) => {
      // coreutils timeout bounds qemu even if this process dies by a signal that skips 'exit'
      // handlers; our own timer fires first and sends TERM, which timeout forwards to qemu
      // (then KILL after 5 s).
      const bound = String(Math.ceil(timeoutMs / 1000) + 30)
      const q = spawn('timeout', ['-k', '5', bound, 'qemu-system-x86_64', ...args], {
        stdio: ['ignore', 'ignore', 'pipe'],
      })
      track(q)
      q.stderr?.on('data', (b: Buffer) => {
        qemuStderr = (qemuStderr + b.toString()).slice(-8000)
      })
      const timer = setTimeout(() => {
        timedOut = true
        q.kill('SIGTERM')
      }, timeoutMs)
      q.once('error', (e) => {
        clearTimeout(timer)
        fail(new VmError('qemu-failed', `cannot start qemu-system-x86_64: ${e.message}`))
      })
      q.once('close', (code, signal) => {
        clearTimeout(timer)
        done({ code, signal, pid: q.pid })
      })
    },
  )
  const durationMs = Date.now() - started
  const console = readText(join(runDir, 'console.log'))
  const statusText = readText(join(outDir, 'status')).trim()
  const result = {
    stdout: readText(join(outDir, 'stdout')),
    stderr: readText(join(outDir, 'stderr')),
    durationMs,
    console,
    guest: parseTimes(readText(join(outDir, 'times'))),
    outFiles: outFiles(outDir),
    kernel: p.kernel.abi,
  }
  if (!process.env.LVSD_VM_KEEP) rmSync(runDir, { recursive: true, force: true })
  const details = { ...result, console: console.slice(-6000), wrapperPid: exit.pid, qemuStderr, runDir, args }
  if (timedOut) throw new VmError('timeout', `VM run exceeded ${timeoutMs} ms; qemu killed`, details)
  if (!/^\d+$/.test(statusText)) {
    const how = exit.code === null ? `signal ${exit.signal}` : `status ${exit.code}`
    const qemuSaid = qemuStderr.trim() ? `: ${qemuStderr.trim().split('\n').slice(-2).join(' | ')}` : ''
    throw new VmError(
      'no-exit-code',
      `the guest never reported an exit code (qemu ended with ${how})${qemuSaid}`,
      details,
    )
  }
  return { status: Number(statusText), ...result }
}
