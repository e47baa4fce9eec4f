// runProgram: a program is done when it exits (not when its pipes close), a timeout kills its whole
// process group, its output is bounded, and every way it can fail is a result, never a throw.
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { OUTPUT_KEPT, runProgram } from '../../src/sys/program.js'

const dir = mkdtempSync(join(tmpdir(), 'lvsd-program-'))
test.after.always(() => rmSync(dir, { recursive: true, force: true }))

function script(name: string, body: string): string {
  const p = join(dir, name)
  writeFileSync(p, `#!/bin/bash\n${body}\n`)
  chmodSync(p, 0o755)
  return p
}

/** Processes whose command line holds `tag` (the children a script left behind). */
function alive(tag: string): number {
  const out = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' })
  return out.split('\n').filter((l) => l.includes(tag) && !l.includes('ps -eo')).length
}

test('a program that leaves a child holding its pipes is done when it exits', async (t) => {
  const tag = `lvsd-orphan-${process.pid}`
  const p = script('orphan.sh', `echo said this\nexec -a ${tag} sleep 30 &\nexit 3`)
  const t0 = Date.now()
  const r = await runProgram([p], { timeoutMs: 10_000 })
  t.like(r, { kind: 'exit', code: 3, output: 'said this' })
  t.true(Date.now() - t0 < 5_000, 'not held by the child for its 30 s')
  // the child is left alone (a notify program may start a daemon on purpose); clean it up here
  execFileSync('pkill', ['-f', tag], { stdio: 'ignore' })
})

test('at its timeout the whole process group is killed, children included', async (t) => {
  const tag = `lvsd-group-${process.pid}`
  const p = script('hang.sh', `exec -a ${tag}-child sleep 30 &\nexec -a ${tag} sleep 30`)
  const r = await runProgram([p], { timeoutMs: 300 })
  t.is(r.kind, 'timeout')
  const end = Date.now() + 5_000
  while (alive(tag) > 0 && Date.now() < end) await new Promise((res) => setImmediate(res))
  t.is(alive(tag), 0, 'no process of the group survives')
})

test('an abort signal kills the group like the timeout', async (t) => {
  const p = script('hang2.sh', 'sleep 30')
  const ac = new AbortController()
  const run = runProgram([p], { signal: ac.signal })
  ac.abort()
  t.is((await run).kind, 'timeout')
})

test('output is bounded: a program writing 50 MB leaves at most OUTPUT_KEPT characters', async (t) => {
  const p = script('flood.sh', 'head -c 50000000 /dev/zero | tr "\\0" x; exit 0')
  const r = await runProgram([p], { timeoutMs: 30_000 })
  t.is(r.kind, 'exit')
  if (r.kind === 'exit') t.true(r.output.length <= OUTPUT_KEPT)
})

test('a program that cannot start is a spawn result with its errno, not a throw', async (t) => {
  t.like(await runProgram([join(dir, 'missing')], { timeoutMs: 1000 }), { kind: 'spawn', code: 'ENOENT' })
  const noexec = join(dir, 'noexec')
  writeFileSync(noexec, '#!/bin/sh\n')
  t.like(await runProgram([noexec], { timeoutMs: 1000 }), { kind: 'spawn', code: 'EACCES' })
  t.like(await runProgram([], { timeoutMs: 1000 }), { kind: 'spawn' })
})

test('the environment is minimal: PATH and what the caller adds, never the daemon’s own', async (t) => {
  process.env.LVSD_SECRET_TEST = 'leak'
  const p = script('env.sh', 'env | sort | tr "\\n" " "')
  const r = await runProgram([p], { timeoutMs: 5000, env: { LVSD_RS_ADDR: '10.0.0.7' } })
  delete process.env.LVSD_SECRET_TEST
  t.is(r.kind, 'exit')
  if (r.kind !== 'exit') return
  t.regex(r.output, /LVSD_RS_ADDR=10\.0\.0\.7/)
  t.regex(r.output, /PATH=\/usr\/local\/sbin/)
  t.notRegex(r.output, /LVSD_SECRET_TEST/)
})

test('a signal is reported as such', async (t) => {
  const p = script('selfkill.sh', 'kill -TERM $$')
  t.like(await runProgram([p], { timeoutMs: 5000 }), { kind: 'signal', signal: 'SIGTERM' })
})
