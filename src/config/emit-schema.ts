// Writes conf/lvsd.schema.json and docs/config.md from the one schema declaration:
// node dist/src/config/emit-schema.js conf/lvsd.schema.json [docs/config.md]
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { referenceMarkdown } from './reference-doc.js'
import { configSchema } from './schema.js'

export function jsonSchemaText(): string {
  const schema = {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://github.com/lvsd/lvsd/conf/lvsd.schema.json',
    title: 'lvsd.yaml',
    ...configSchema.json(),
  }
  return `${JSON.stringify(schema, null, 2)}\n`
}

export function referenceText(): string {
  return referenceMarkdown()
}

function main(argv: string[]): void {
  const schemaPath = argv[0]
  if (!schemaPath) {
    process.stderr.write('usage: emit-schema.js SCHEMA.json [CONFIG.md]\n')
    process.exit(64)
  }
  const mdPath = argv[1] ?? join(dirname(schemaPath), '..', 'docs', 'config.md')
  writeFileSync(schemaPath, jsonSchemaText())
  writeFileSync(mdPath, referenceText())
  process.stdout.write(`wrote ${schemaPath} and ${mdPath}\n`)
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main(process.argv.slice(2))
