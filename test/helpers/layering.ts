// The layer diagram of docs/conventions.md as a check over a source tree (used by layering.test.ts).
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const SHARED = new Set(['errors.ts', 'log.ts', 'events.ts', 'clock.ts', 'net/addr.ts'])
const DOMAIN = ['vrrp', 'health', 'ipvs', 'peer', 'config']
// layer → the layers it may import (besides itself and SHARED)
export const ALLOWED: Record<string, string[]> = {
  sys: [],
  net: ['sys'],
  vrrp: ['net', 'sys'],
  health: ['net', 'sys'],
  ipvs: ['net', 'sys'],
  peer: ['net', 'sys'],
  config: ['net', 'sys'],
  // keepalived.conf / ipvsadm text → lvsd.yaml text, checked by the config loader before it is handed over
  import: ['config', 'net'],
  director: [...DOMAIN, 'net', 'sys'],
  api: ['director', ...DOMAIN, 'net', 'sys'],
  realserver: ['net', 'sys'],
  cli: ['api', 'director', 'import', 'realserver', ...DOMAIN, 'net', 'sys'],
}

export function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => {
    const p = join(dir, e)
    return statSync(p).isDirectory() ? tsFiles(p) : p.endsWith('.ts') ? [p] : []
  })
}

function layerOf(srcRel: string): string {
  if (SHARED.has(srcRel)) return 'shared'
  const top = srcRel.split('/')[0] ?? ''
  return top.endsWith('.ts') ? 'shared' : top
}

export function violations(srcDir: string): string[] {
  const out: string[] = []
  for (const file of tsFiles(srcDir)) {
    const rel = relative(srcDir, file)
    const from = layerOf(rel)
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)['"](\.[^'"]+)['"]/g)) {
      const target = relative(srcDir, resolve(dirname(file), m[1] as string)).replace(/\.js$/, '.ts')
      // what ships is src/ alone: lab/ and test/ code must never be reachable from it
      if (target.startsWith('..')) {
        out.push(`${rel} imports ${target}, outside src/ (not shipped)`)
        continue
      }
      const to = layerOf(target)
      if (to === 'shared' || to === from) continue
      if (from === 'shared') out.push(`${rel}: shared module imports ${target}`)
      else if (!(ALLOWED[from] ?? []).includes(to)) out.push(`${rel} (${from}) imports ${target} (${to})`)
    }
    if (from !== 'sys' && /lvsd_native|createRequire/.test(text))
      out.push(`${rel}: only src/sys may load the native addon`)
  }
  return out
}

/** Exported type, interface and class names declared in more than one file of src/, with their files. */
export function typeNameCollisions(srcDir: string): Record<string, string[]> {
  const where = new Map<string, string[]>()
  for (const f of tsFiles(srcDir))
    for (const m of readFileSync(f, 'utf8').matchAll(/^export (?:interface|type|class|abstract class) ([A-Z]\w*)/gm)) {
      const name = m[1] as string
      where.set(name, [...(where.get(name) ?? []), relative(srcDir, f)])
    }
  return Object.fromEntries([...where].filter(([, files]) => files.length > 1))
}

/**
 * Imports between src/vrrp/worker/ (runs only in the VRRP worker thread) and src/vrrp/main/ (only in the
 * main thread), either way: each side may use the pure modules of src/vrrp/ and its own folder only.
 */
export function threadCrossings(srcDir: string): string[] {
  const vrrp = join(srcDir, 'vrrp')
  const out: string[] = []
  for (const [side, other] of [
    ['worker', 'main'],
    ['main', 'worker'],
  ] as const) {
    for (const file of tsFiles(join(vrrp, side))) {
      const text = readFileSync(file, 'utf8')
      for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)['"](\.[^'"]+)['"]/g)) {
        const target = relative(vrrp, resolve(dirname(file), m[1] as string))
        if (target.startsWith(`${other}/`)) out.push(`${relative(srcDir, file)} imports vrrp/${target}`)
      }
    }
  }
  return out
}
