// The layer diagram of docs/conventions.md, enforced: an import only ever points down.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import test from 'ava'
import { repoRoot } from '../helpers/paths.js'

const SHARED = new Set(['errors.ts', 'log.ts', 'net/addr.ts'])
const DOMAIN = ['vrrp', 'health', 'ipvs', 'peer', 'config']
// layer → the layers it may import (besides itself and SHARED)
const ALLOWED: Record<string, string[]> = {
  sys: [],
  net: ['sys'],
  vrrp: ['net', 'sys'],
  health: ['net', 'sys'],
  ipvs: ['net', 'sys'],
  peer: ['net', 'sys'],
  config: ['net'],
  director: [...DOMAIN, 'net', 'sys'],
  api: ['director', ...DOMAIN, 'net', 'sys'],
  lab: ['director', ...DOMAIN, 'net', 'sys'],
  cli: ['api', 'director', 'lab', ...DOMAIN, 'net', 'sys'],
}

function tsFiles(dir: string): string[] {
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
      const to = layerOf(target)
      if (to === 'shared' || to === from) continue
      if (from === 'shared') out.push(`${rel}: shared module imports ${target}`)
      else if (!(ALLOWED[from] ?? []).includes(to)) out.push(`${rel} (${from}) imports ${target} (${to})`)
    }
    if (from !== 'sys' && /lvsd_native|createRequire/.test(text)) out.push(`${rel}: only src/sys may load the native addon`)
  }
  return out
}

test('every import in src/ points down the layer diagram', (t) => {
  t.deepEqual(violations(join(repoRoot, 'src')), [])
})

test('every directory under src/ is a known layer', (t) => {
  const dirs = readdirSync(join(repoRoot, 'src')).filter((e) => statSync(join(repoRoot, 'src', e)).isDirectory())
  t.deepEqual(
    dirs.filter((d) => !(d in ALLOWED)),
    [],
  )
})

test('the layering check reports an upward import and a stray addon load', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-layer-'))
  try {
    mkdirSync(join(dir, 'net'))
    mkdirSync(join(dir, 'director'))
    writeFileSync(join(dir, 'director', 'd.ts'), 'export const d = 1\n')
    writeFileSync(join(dir, 'net', 'n.ts'), "import { d } from '../director/d.js'\nconst r = createRequire(x)\n")
    t.deepEqual(violations(dir), [
      'net/n.ts (net) imports director/d.ts (director)',
      'net/n.ts: only src/sys may load the native addon',
    ])
  } finally {
    rmSync(dir, { recursive: true })
  }
})
