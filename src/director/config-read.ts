// One read of the configuration file: the validated config plus what the API reports of it (path,
// sha256 of the bytes, load time). An unreadable or invalid file becomes a refused load with every
// error, never a half-applied one. Runs in the throwaway thread of config-source.ts.
import { createHash } from 'node:crypto'
import { readFile, stat } from 'node:fs/promises'
import { checkConfigFile, formatIssue, loadConfigText } from '../config/load.js'
import type { LoadConfig } from './director.js'

export type ConfigLoad = Awaited<ReturnType<LoadConfig>>

export async function readConfig(path: string): Promise<ConfigLoad> {
  let bytes: Buffer
  let mode: number
  try {
    bytes = await readFile(path)
    mode = (await stat(path)).mode
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    const info = { source: path, hash: '', loadedAt: Date.now() }
    return { ok: false, info, errors: [{ path: '', message: `cannot read ${path}: ${err.code ?? err.message}` }] }
  }
  const info = { source: path, hash: createHash('sha256').update(bytes).digest('hex'), loadedAt: Date.now() }
  const r = checkConfigFile(path, loadConfigText(bytes.toString('utf8'), path, mode))
  if (!r.ok) {
    const errors = r.errors.map((i) => ({ path: i.path, message: i.message, line: i.line, col: i.col }))
    return { ok: false, info, errors, text: r.errors.map(formatIssue) }
  }
  return { ok: true, loaded: { config: r.config, info }, warnings: r.warnings.map(formatIssue) }
}
