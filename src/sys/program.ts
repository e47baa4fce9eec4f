// Runs an operator's program (notify, track script, exec check, quorum program) the one safe way:
// argv without a shell, its own process group, a minimal environment, a bounded copy of its output,
// and completion when the program itself exits. Waiting for its pipes instead (execFile) hangs for as
// long as any child it left behind (`sleep 100 &`) keeps them open: that froze exec checks forever.
import { spawn } from 'node:child_process'

/** What a program sees unless the caller adds to it: never the daemon's own environment. */
export const PROGRAM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/** Output kept per run: enough for a first line in a log; the rest is read and discarded. */
export const OUTPUT_KEPT = 256

/** After the program exits, how long its last output may still be in flight through the pipes. */
const DRAIN_MS = 50

export interface ProgramOptions {
  /** The whole process group is killed with SIGKILL after this long (absent: only by `signal`). */
  timeoutMs?: number
  uid?: number
  gid?: number
  /** Added to the minimal environment (PATH only). */
  env?: Record<string, string>
  /** Aborting kills the process group, as the timeout does. */
  signal?: AbortSignal
}

export type ProgramResult =
  | { kind: 'exit'; code: number; output: string }
  | { kind: 'signal'; signal: string; output: string }
  | { kind: 'timeout'; output: string }
  /** The program could not be started (ENOENT, EACCES, EMFILE, EAGAIN, …). */
  | { kind: 'spawn'; code: string; message: string }

/** One line for logs and events: why a run did not succeed. */
export function describeResult(argv0: string, r: ProgramResult): string {
  const said = r.kind !== 'spawn' && r.output ? `: ${r.output.split('\n')[0]}` : ''
  switch (r.kind) {
    case 'exit':
      return `${argv0} exited ${r.code}${said}`
    case 'signal':
      return `${argv0} killed by ${r.signal}${said}`
    case 'timeout':
      return `${argv0} killed at its timeout${said}`
    case 'spawn':
      return `${argv0} could not start: ${r.code}`
  }
}

/** Never rejects: every way a program can end is a result. */
export function runProgram(argv: readonly string[], o: ProgramOptions): Promise<ProgramResult> {
  const [file, ...args] = argv
  if (!file) return Promise.resolve({ kind: 'spawn', code: 'EINVAL', message: 'empty argv' })
  return new Promise((resolve) => {
    let child: ReturnType<typeof spawn>
    try {
      child = spawn(file, args, {
        env: { PATH: PROGRAM_PATH, ...o.env },
        stdio: ['ignore', 'pipe', 'pipe'],
        // setsid: the program leads its own process group, so a timeout kills all it started
        detached: true,
        ...(o.uid !== undefined ? { uid: o.uid } : {}),
        ...(o.gid !== undefined ? { gid: o.gid } : {}),
      })
    } catch (e) {
      // spawn throws synchronously for some errors (EMFILE on the pipes, invalid uid)
      const err = e as NodeJS.ErrnoException
      resolve({ kind: 'spawn', code: err.code ?? 'ERROR', message: err.message })
      return
    }
    let output = ''
    let timedOut = false
    let finished = false
    const keep = (d: Buffer) => {
      if (output.length < OUTPUT_KEPT) output += d.toString('utf8', 0, OUTPUT_KEPT - output.length)
    }
    child.stdout?.on('data', keep)
    child.stderr?.on('data', keep)
    const killGroup = () => {
      if (child.pid === undefined) return
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        child.kill('SIGKILL')
      }
    }
    const timer =
      o.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true
            killGroup()
          }, o.timeoutMs)
    const onAbort = () => {
      timedOut = true
      killGroup()
    }
    if (o.signal?.aborted) onAbort()
    else o.signal?.addEventListener('abort', onAbort, { once: true })
    const finish = (r: ProgramResult) => {
      if (finished) return
      finished = true
      clearTimeout(timer)
      o.signal?.removeEventListener('abort', onAbort)
      // a child it left behind may hold the pipes: ours are closed so lvsd keeps no descriptor for it
      child.stdout?.destroy()
      child.stderr?.destroy()
      resolve(r)
    }
    child.once('error', (e: NodeJS.ErrnoException) => {
      finish({ kind: 'spawn', code: e.code ?? 'ERROR', message: e.message })
    })
    child.once('exit', (code, sig) => {
      const result = (): ProgramResult => {
        const out = output.trim()
        if (timedOut) return { kind: 'timeout', output: out }
        if (code !== null) return { kind: 'exit', code, output: out }
        return { kind: 'signal', signal: sig ?? 'unknown', output: out }
      }
      // the program's own last words are usually already read; give the pipes a moment, not longer
      const drain = setTimeout(() => finish(result()), DRAIN_MS)
      child.once('close', () => {
        clearTimeout(drain)
        finish(result())
      })
    })
  })
}
