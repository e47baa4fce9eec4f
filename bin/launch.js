// Loads a compiled CLI from dist/ and turns its result into the exit status.
import { existsSync } from 'node:fs'

export async function runCli(name) {
  const url = new URL(`../dist/src/cli/${name}.js`, import.meta.url)
  if (!existsSync(url)) {
    process.stderr.write(`${name}: not built yet (${url.pathname} is missing); run \`npm ci\` or \`npm run build\`\n`)
    process.exit(70)
  }
  const cli = await import(url.href)
  process.exitCode = await cli.main(process.argv.slice(2))
}
