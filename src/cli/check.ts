// `lvsd check <file>`: validate a configuration; print its summary, or every error with file:line:col.

import { formatIssue, loadConfigFile, summarize } from '../config/load.js'
import { isLvsdError } from '../errors.js'
import { EXIT } from './exit-codes.js'

export async function checkCommand(args: string[], json: boolean): Promise<number> {
  if (args.length !== 1) {
    process.stderr.write('lvsd check: expects exactly one configuration file\n')
    return EXIT.usage
  }
  const file = args[0] as string
  let result: Awaited<ReturnType<typeof loadConfigFile>>
  try {
    result = await loadConfigFile(file)
  } catch (e) {
    if (!isLvsdError(e, 'LVSD_CONFIG_UNREADABLE')) throw e
    process.stderr.write(`${e.message}\n`)
    return EXIT.invalidConfig
  }
  if (!result.ok) {
    if (json) process.stdout.write(`${JSON.stringify({ ok: false, errors: result.errors }, null, 2)}\n`)
    for (const issue of result.errors) process.stderr.write(`${formatIssue(issue)}\n`)
    const n = result.errors.length
    process.stderr.write(`${file}: ${n} error${n === 1 ? '' : 's'}, configuration rejected\n`)
    return EXIT.invalidConfig
  }
  for (const w of result.warnings) process.stderr.write(`warning: ${formatIssue(w)}\n`)
  if (json) process.stdout.write(`${JSON.stringify({ ok: true, warnings: result.warnings }, null, 2)}\n`)
  else process.stdout.write(`${summarize(result.config).trimEnd()}\n${file}: ok\n`)
  return EXIT.ok
}
