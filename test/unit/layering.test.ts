// The layer diagram of docs/conventions.md, enforced: an import only ever points down.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { ALLOWED, threadCrossings, typeNameCollisions, violations } from '../helpers/layering.js'
import { repoRoot } from '../helpers/paths.js'

test('every import in src/ points down the layer diagram', (t) => {
  t.deepEqual(violations(join(repoRoot, 'src')), [])
})

test('no two files in src/ export a type, interface or class of the same name', (t) => {
  // a reader (and an auto-import) must not have to ask which Config or Instance is meant
  t.deepEqual(typeNameCollisions(join(repoRoot, 'src')), {})
})

test('src/vrrp/worker (the worker thread) and src/vrrp/main (the main thread) never import each other', (t) => {
  t.deepEqual(threadCrossings(join(repoRoot, 'src')), [])
  t.true(
    readdirSync(join(repoRoot, 'src/vrrp/worker')).includes('worker.ts') &&
      readdirSync(join(repoRoot, 'src/vrrp/main')).includes('runtime.ts'),
    'the two folders exist: an empty check proves nothing',
  )
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-threads-'))
  try {
    for (const d of ['vrrp/worker', 'vrrp/main']) mkdirSync(join(dir, d), { recursive: true })
    writeFileSync(join(dir, 'vrrp/worker/a.ts'), "import { b } from '../main/b.js'\nimport { p } from '../packet.js'\n")
    writeFileSync(join(dir, 'vrrp/main/b.ts'), "export const b = 1\nimport('../worker/a.js')\n")
    t.deepEqual(threadCrossings(dir), [
      'vrrp/worker/a.ts imports vrrp/main/b.js',
      'vrrp/main/b.ts imports vrrp/worker/a.js',
    ])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('every directory under src/ is a known layer', (t) => {
  const dirs = readdirSync(join(repoRoot, 'src')).filter((e) => statSync(join(repoRoot, 'src', e)).isDirectory())
  t.deepEqual(
    dirs.filter((d) => !(d in ALLOWED)),
    [],
  )
})

test('the layering check reports an upward import, an import from outside src/ and a stray addon load', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-layer-'))
  try {
    mkdirSync(join(dir, 'net'))
    mkdirSync(join(dir, 'director'))
    writeFileSync(join(dir, 'director', 'd.ts'), 'export const d = 1\n')
    writeFileSync(
      join(dir, 'net', 'n.ts'),
      "import { d } from '../director/d.js'\nimport { f } from '../../test/helpers/f.js'\nconst r = createRequire(x)\n",
    )
    t.deepEqual(violations(dir), [
      'net/n.ts (net) imports director/d.ts (director)',
      'net/n.ts imports ../test/helpers/f.ts, outside src/ (not shipped)',
      'net/n.ts: only src/sys may load the native addon',
    ])
  } finally {
    rmSync(dir, { recursive: true })
  }
})
