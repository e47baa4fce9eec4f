// Tracked scripts and files, watched on the main thread (they fork and read files, which the
// real-time worker must never wait on); each change is sent down as a priority delta or a fault.
import { readFile } from 'node:fs/promises'
import { describeResult, type ProgramResult, runProgram } from '../../sys/program.js'
import { lookupUser } from '../../sys/users.js'
import type { LogLevel } from '../messages.js'
import type { TrackedSource } from '../reload.js'

export interface ScriptSpec {
  name: string
  argv: string[]
  intervalMs: number
  timeoutMs: number
  rise: number
  fall: number
  /** Run as this user (needs root), looked up at each run; default the daemon's user. */
  user?: string
  /** Run with these ids (resolved before the config was committed); wins over `user`. */
  ids?: { uid: number; gid: number }
}

/** An instance's use of a script: weight > 0 adds while up, < 0 adds while down, 0 = FAULT while down. */
export interface ScriptUse {
  instance: string
  script: string
  weight: number
}

/** An instance's use of a file: priority change = the integer in it × weight; weight 0: non-zero = FAULT. */
export interface FileUse {
  instance: string
  path: string
  weight: number
}

export interface TrackSink {
  setPriorityDelta(instance: string, source: string, delta: number): void
  setFault(instance: string, source: string, on: boolean): void
  /** Every (instance, source, kind) this tracker feeds, said once at start (VrrpRuntime clears the rest). */
  trackedSources?(sources: TrackedSource[]): void
}

export type TrackLog = (level: LogLevel, msg: string, fields: Record<string, unknown>) => void

/** How often tracked files are read (keepalived uses inotify; a read is cheaper than it sounds). */
export const FILE_POLL_MS = 250

/** A script's up/down state after rise successes or fall failures in a row (initially up, as keepalived). */
export class ScriptState {
  up = true
  private streak = 0
  constructor(
    private readonly rise: number,
    private readonly fall: number,
  ) {}
  /** Records one result; returns true if the state changed. */
  record(ok: boolean): boolean {
    if (ok === this.up) {
      this.streak = 0
      return false
    }
    this.streak++
    if (this.streak < (ok ? this.rise : this.fall)) return false
    this.up = ok
    this.streak = 0
    return true
  }
}

/** The integer a tracked file holds (missing, empty or not a number: 0). */
export function parseTrackFile(text: string | undefined): number {
  const m = /^\s*([+-]?\d+)/.exec(text ?? '')
  return m ? Number(m[1]) : 0
}

/** The sources a tracker feeds, named as it sends them: weight 0 is a fault, else a delta. */
export function trackedSourcesOf(scriptUses: readonly ScriptUse[], fileUses: readonly FileUse[]): TrackedSource[] {
  return [
    ...scriptUses.map(
      (u): TrackedSource => ({
        instance: u.instance,
        source: `script:${u.script}`,
        kind: u.weight === 0 ? 'fault' : 'delta',
      }),
    ),
    ...fileUses.map(
      (u): TrackedSource => ({
        instance: u.instance,
        source: `file:${u.path}`,
        kind: u.weight === 0 ? 'fault' : 'delta',
      }),
    ),
  ]
}

export class Tracker {
  private readonly timers = new Set<NodeJS.Timeout>()
  private stopped = false

  constructor(
    private readonly scripts: ScriptSpec[],
    private readonly scriptUses: ScriptUse[],
    private readonly fileUses: FileUse[],
    private readonly sink: TrackSink,
    private readonly log: TrackLog,
    /** A script that could not be started (EMFILE, ENOENT, an unknown user): not the same as one that said down. */
    private readonly onFailed: (script: string, argv: readonly string[], r: ProgramResult) => void = () => {},
  ) {}

  start(): void {
    // a tracker replacing another at a reload: inputs it no longer feeds must not stay applied
    this.sink.trackedSources?.(trackedSourcesOf(this.scriptUses, this.fileUses))
    // the initial (up) state of scripts counts from the start
    for (const u of this.scriptUses) this.applyScript(u, true)
    for (const s of this.scripts) {
      const uses = this.scriptUses.filter((u) => u.script === s.name)
      if (uses.length > 0) void this.runScript(s, uses, new ScriptState(s.rise, s.fall))
    }
    if (this.fileUses.length > 0) void this.pollFiles(new Map())
  }

  stop(): void {
    this.stopped = true
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
  }

  private later(ms: number, fn: () => void): void {
    if (this.stopped) return
    const t = setTimeout(() => {
      this.timers.delete(t)
      fn()
    }, ms)
    this.timers.add(t)
  }

  private applyScript(u: ScriptUse, up: boolean): void {
    const source = `script:${u.script}`
    if (u.weight === 0) this.sink.setFault(u.instance, source, !up)
    else this.sink.setPriorityDelta(u.instance, source, u.weight > 0 ? (up ? u.weight : 0) : up ? 0 : u.weight)
  }

  private async runScript(s: ScriptSpec, uses: ScriptUse[], state: ScriptState): Promise<void> {
    const started = Date.now()
    let ok = false
    try {
      ok = await this.exec(s)
    } catch (err) {
      this.log('warn', 'track script could not run', { script: s.name, err: String(err) })
    }
    if (this.stopped) return
    if (state.record(ok)) {
      this.log('info', `track script ${state.up ? 'up' : 'down'}`, { script: s.name })
      for (const u of uses) this.applyScript(u, state.up)
    }
    this.later(Math.max(0, s.intervalMs - (Date.now() - started)), () => void this.runScript(s, uses, state))
  }

  private async exec(s: ScriptSpec): Promise<boolean> {
    const ids = s.ids ?? (s.user ? await lookupUser(s.user) : undefined)
    if (s.user && !ids) throw new Error(`no such user ${s.user}`)
    // argv, not a shell; done when the script exits, even if it left a child behind
    const r = await runProgram(s.argv, { timeoutMs: s.timeoutMs, ...(ids ? { uid: ids.uid, gid: ids.gid } : {}) })
    if (r.kind === 'spawn') {
      this.log('warn', 'track script could not run', { script: s.name, err: describeResult(s.argv[0] ?? '', r) })
      this.onFailed(s.name, s.argv, r)
    }
    return r.kind === 'exit' && r.code === 0
  }

  private async pollFiles(last: Map<string, number>): Promise<void> {
    const paths = [...new Set(this.fileUses.map((u) => u.path))]
    for (const p of paths) {
      const v = parseTrackFile(await readFile(p, 'utf8').catch(() => undefined))
      if (this.stopped) return
      if (last.get(p) === v) continue
      last.set(p, v)
      this.log('info', 'track file changed', { path: p, value: v })
      for (const u of this.fileUses.filter((x) => x.path === p)) {
        const source = `file:${p}`
        if (u.weight === 0) this.sink.setFault(u.instance, source, v !== 0)
        else this.sink.setPriorityDelta(u.instance, source, v * u.weight)
      }
    }
    this.later(FILE_POLL_MS, () => void this.pollFiles(last))
  }
}
