// Paths the tests share: the repository root, whether tests run from dist/ or not.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

function findRoot(start: string): string {
  let dir = start
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir)
    if (up === dir) throw new Error(`no package.json above ${start}`)
    dir = up
  }
  return dir
}

export const repoRoot = findRoot(dirname(fileURLToPath(import.meta.url)))
export const distRoot = join(repoRoot, 'dist')
export const fixturesDir = join(repoRoot, 'test', 'fixtures')
