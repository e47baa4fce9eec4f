// The keepalived.conf import corpus (test/import/keepalived/NN-name/) shared by the unit and netns tiers.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from './paths.js'

export const corpusDir = join(repoRoot, 'test', 'import', 'keepalived')

export function corpusCases(): string[] {
  return readdirSync(corpusDir).sort()
}

/** keepalived's config id (-i) for a case: its config-id file, else lb01. */
export function configId(c: string): string {
  const f = join(corpusDir, c, 'config-id')
  return existsSync(f) ? readFileSync(f, 'utf8').trim() : 'lb01'
}
