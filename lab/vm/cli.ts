// Command line for the VM test runner: `node dist/lab/vm/cli.js [--prepare] [options] -- <command...>`.
import { VmError } from './proc.js'
import { prepareVm, runInVm } from './runner.js'

const USAGE = `usage: cli.js --prepare
       cli.js [--timeout SECONDS] [--mem MB] [--smp N] [--cwd DIR] -- <command...>
--prepare     fetch the kernel and build the initramfs (cached), print what was prepared, boot nothing
otherwise     boot the VM, run <command> (a single argument is a shell script), print its output,
              exit with its status; 124 = the timeout killed qemu, 125 = the guest reported no status`

// Distinct from any status a command is likely to return, like timeout(1)'s 124.
const EXIT_TIMEOUT = 124
const EXIT_NO_STATUS = 125
const EXIT_USAGE = 2

interface Args {
  prepare: boolean
  timeoutMs: number
  memMb: number
  smp: number
  cwd: string
  command: string[]
}

function parse(argv: string[]): Args | string {
  const a: Args = { prepare: false, timeoutMs: 600_000, memMb: 2048, smp: 2, cwd: process.cwd(), command: [] }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string
    const num = (): number => {
      const v = Number(argv[++i])
      if (!Number.isFinite(v) || v <= 0) throw new Error(`${arg} needs a positive number`)
      return v
    }
    if (arg === '--') {
      a.command = argv.slice(i + 1)
      break
    }
    if (arg === '--prepare') a.prepare = true
    else if (arg === '--timeout') a.timeoutMs = num() * 1000
    else if (arg === '--mem') a.memMb = num()
    else if (arg === '--smp') a.smp = num()
    else if (arg === '--cwd') a.cwd = argv[++i] ?? process.cwd()
    else if (arg === '-h' || arg === '--help') return USAGE
    else return `unknown argument ${arg}\n${USAGE}`
  }
  if (!a.prepare && a.command.length === 0) return `no command given\n${USAGE}`
  return a
}

async function main(): Promise<number> {
  let a: Args | string
  try {
    a = parse(process.argv.slice(2))
  } catch (e) {
    a = `${(e as Error).message}\n${USAGE}`
  }
  if (typeof a === 'string') {
    process.stderr.write(`${a}\n`)
    return EXIT_USAGE
  }
  try {
    if (a.prepare) {
      const t = Date.now()
      const p = prepareVm()
      const summary = { kernel: p.kernel.abi, kroot: p.kernel.kroot, initrd: p.initrd, timings: p.kernel.timings }
      process.stdout.write(`${JSON.stringify({ ...summary, totalMs: Date.now() - t })}\n`)
      return 0
    }
    const command = a.command.length === 1 ? (a.command[0] as string) : a.command
    const r = await runInVm({ command, cwd: a.cwd, timeoutMs: a.timeoutMs, memMb: a.memMb, smp: a.smp })
    process.stdout.write(r.stdout)
    process.stderr.write(r.stderr)
    process.stderr.write(`lvsd-vm: ${r.kernel}, exit ${r.status}, ${r.durationMs} ms wall\n`)
    return r.status
  } catch (e) {
    if (!(e instanceof VmError)) throw e
    process.stderr.write(`lvsd-vm: ${e.kind}: ${e.message}\n`)
    const con = e.details.console
    if (typeof con === 'string' && con) process.stderr.write(`--- console (tail) ---\n${con}\n`)
    if (e.kind === 'timeout') return EXIT_TIMEOUT
    if (e.kind === 'no-exit-code') return EXIT_NO_STATUS
    return 1
  }
}

process.exitCode = await main()
