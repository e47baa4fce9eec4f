// `lvsd run` under systemd (Type=notify): READY once the director runs, watchdog pings, STOPPING
// on SIGTERM, exit 0 — read from a real AF_UNIX datagram socket bound the way systemd binds it.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { AF_UNIX, SOCK_DGRAM } from '../../src/sys/constants.js'
import { sockaddrUn } from '../../src/sys/sockaddr.js'
import { Socket } from '../../src/sys/socket.js'
import { repoRoot } from '../helpers/paths.js'
import { until } from '../helpers/until.js'

test('lvsd run tells systemd READY, pings the watchdog and says STOPPING before a clean exit', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-run-notify-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const notify = join(dir, 'notify')
  const sock = Socket.open(AF_UNIX, SOCK_DGRAM, 0)
  sock.bind(sockaddrUn(notify))
  t.teardown(() => sock.close())
  const messages: string[] = []
  const read = () => messages.push(...sock.receiveAll().map((m) => m.data.toString('utf8')))
  // no VRRP instance and no service: the daemon needs no privileges (the control socket goes to the temp dir)
  writeFileSync(join(dir, 'lvsd.yaml'), `node: notify-test\ncontrol: { socket: ${join(dir, 'lvsd.sock')} }\n`)
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'lvsd.js'), 'run', '-c', join(dir, 'lvsd.yaml')], {
    env: { ...process.env, NOTIFY_SOCKET: notify, WATCHDOG_USEC: '200000', WATCHDOG_PID: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  t.teardown(() => child.kill('SIGKILL'))
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)))

  await until(() => {
    read()
    return messages.find((m) => m.startsWith('READY=1'))
  }, 20_000)
  await until(() => {
    read()
    return messages.filter((m) => m === 'WATCHDOG=1').length >= 2 ? true : undefined
  }, 10_000)
  t.false(messages.some((m) => m.startsWith('STOPPING=1')))
  child.kill('SIGTERM')
  t.is(await exited, 0)
  read()
  t.regex(messages[0] ?? '', /^READY=1\nSTATUS=no VRRP; 0 service\(s\), 0\/0 real servers up$/)
  t.regex(messages.at(-1) ?? '', /^STOPPING=1\nSTATUS=SIGTERM$/)
})
