// Exec and file checkers: exit codes (keepalived MISC_CHECK dynamic weights), environment, process-group
// kill at the timeout; integer weights read from a file. ICMP packet building and matching (pure).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { check as execCheck, verdict } from '../../src/health/exec.js'
import { check as fileCheck } from '../../src/health/file.js'
import { echoFilter4, echoRequest, parseEcho } from '../../src/health/icmp.js'
import type { Target } from '../../src/health/types.js'
import { parseAddr } from '../../src/net/addr.js'
import { internetChecksum } from '../../src/net/checksum.js'

const target: Target = { addr: parseAddr('192.0.2.10'), port: 8080, connectPort: 8081 }
const dir = mkdtempSync(join(tmpdir(), 'lvsd-health-exec-'))
test.after.always(() => rmSync(dir, { recursive: true, force: true }))
const sig = (ms = 5000) => AbortSignal.timeout(ms)
const sh = (script: string) => ['/bin/sh', '-c', script]

test('exec: exit 0 passes, exit 1 fails with exit', async (t) => {
  t.true((await execCheck(target, { argv: ['/bin/true'] }, sig())).ok)
  const r = await execCheck(target, { argv: sh('echo broken backend >&2; exit 1') }, sig())
  t.is(r.code, 'exit')
  t.regex(r.detail, /broken backend/)
})

test('exec: exit codes 2-255 give weight code-2 when dynamic, fail otherwise', async (t) => {
  const r = await execCheck(target, { argv: sh('exit 42'), dynamic: true }, sig())
  t.true(r.ok)
  t.is(r.weight, 40)
  t.is((await execCheck(target, { argv: sh('exit 42') }, sig())).code, 'exit')
  t.deepEqual(verdict(2, true), { ok: true, weight: 0 })
  t.deepEqual(verdict(255, true), { ok: true, weight: 253 })
  t.deepEqual(verdict(1, true), { ok: false })
  t.deepEqual(verdict(0, true), { ok: true })
})

test('exec: argv is not a shell and the target is in the environment', async (t) => {
  const out = join(dir, 'env.txt')
  const r = await execCheck(
    target,
    {
      argv: [
        '/bin/sh',
        '-c',
        'echo "$LVSD_RS_ADDR $LVSD_RS_PORT $LVSD_CHECK_ADDR $LVSD_CHECK_PORT $EXTRA $1" > "$0"',
        out,
        '$(reboot)',
      ],
      env: { EXTRA: 'x=1' },
    },
    sig(),
  )
  t.true(r.ok, r.detail)
  const { readFileSync } = await import('node:fs')
  t.is(readFileSync(out, 'utf8'), '192.0.2.10 8080 192.0.2.10 8081 x=1 $(reboot)\n')
})

test('exec: a hanging script fails as a timeout as soon as the deadline passes', async (t) => {
  // that its children die too is checked in the netns tier, which may poll for it
  const r = await execCheck(target, { argv: sh('sleep 30 & wait') }, sig(300))
  t.is(r.code, 'timeout')
  t.true(r.ms >= 290 && r.ms < 2000, `took ${r.ms} ms`)
})

test('exec: a missing program fails', async (t) => {
  const r = await execCheck(target, { argv: [join(dir, 'no-such-program')] }, sig())
  t.false(r.ok)
})

test('exec: a script killed by a signal fails with signal', async (t) => {
  t.is((await execCheck(target, { argv: sh('kill -TERM $$') }, sig())).code, 'signal')
})

// The unit tier also runs without root, where switching users is refused: the expectation follows
// the privilege the test actually has (CI runs as root, so the switch itself is what CI checks).
test('exec: the program runs as the configured uid and gid; without root the switch is refused', async (t) => {
  const asNobody = sh('[ "$(id -u)" = 65534 ] && [ "$(id -g)" = 65534 ]')
  const r = await execCheck(target, { argv: asNobody, uid: 65534, gid: 65534 }, sig())
  const asSelf = await execCheck(target, { argv: asNobody }, sig())
  if (process.getuid?.() === 0) {
    t.true(r.ok, r.detail)
    t.false(asSelf.ok, 'without uid/gid the program keeps root, so the same script fails')
  } else t.false(r.ok)
})

test('file: the integer in the file is the weight', async (t) => {
  const p = join(dir, 'w1')
  writeFileSync(p, '17\n')
  t.deepEqual((({ ok, weight }) => ({ ok, weight }))(await fileCheck(target, { path: p }, sig())), {
    ok: true,
    weight: 17,
  })
  writeFileSync(p, '0')
  t.is((await fileCheck(target, { path: p }, sig())).weight, 0)
  writeFileSync(p, '3')
  t.is((await fileCheck(target, { path: p, scale: 10 }, sig())).weight, 30)
})

test('file: missing, garbage and negative fail with file', async (t) => {
  const p = join(dir, 'w2')
  t.is((await fileCheck(target, { path: p }, sig())).code, 'file')
  writeFileSync(p, 'twelve')
  t.is((await fileCheck(target, { path: p }, sig())).code, 'file')
  writeFileSync(p, '12abc')
  t.is((await fileCheck(target, { path: p }, sig())).code, 'file')
  writeFileSync(p, '-1')
  t.is((await fileCheck(target, { path: p }, sig())).code, 'file')
})

test('icmp: an IPv4 echo request carries id, seq and a valid checksum', (t) => {
  const b = echoRequest(4, 0xbeef, 7, 16)
  t.is(b.length, 24)
  t.is(b[0], 8)
  t.is(b.readUInt16BE(4), 0xbeef)
  t.is(b.readUInt16BE(6), 7)
  t.is(internetChecksum(b), 0)
  t.is(echoRequest(6, 1, 2, 0)[0], 128)
})

test('icmp: replies match by id and seq, after an IPv4 header when a raw socket delivers one', (t) => {
  const reply = echoRequest(4, 0xbeef, 7, 8)
  reply[0] = 0
  const ip = Buffer.alloc(20)
  ip[0] = 0x45
  t.deepEqual(parseEcho(4, Buffer.concat([ip, reply]), 0xbeef, 7), { kind: 'reply' })
  t.deepEqual(parseEcho(4, reply, undefined, 7), { kind: 'reply' }, 'ping sockets: no header, id is the kernel’s')
  t.is(parseEcho(4, Buffer.concat([ip, reply]), 0xbeef, 8), undefined)
  t.is(parseEcho(4, Buffer.concat([ip, reply]), 0xbeee, 7), undefined)
  t.is(
    parseEcho(4, Buffer.concat([ip, echoRequest(4, 0xbeef, 7, 8)]), 0xbeef, 7),
    undefined,
    'our own request looped back',
  )
})

test('icmp: a host-unreachable error quoting our request is recognised', (t) => {
  const ip = Buffer.alloc(20)
  ip[0] = 0x45
  const err = Buffer.alloc(8)
  err[0] = 3
  err[1] = 1
  const msg = Buffer.concat([ip, err, ip, echoRequest(4, 0x1111, 9, 8).subarray(0, 8)])
  t.deepEqual(parseEcho(4, msg, 0x1111, 9), { kind: 'unreachable', code: 1 })
  t.is(parseEcho(4, msg, 0x1111, 10), undefined)
  const v6 = Buffer.concat([Buffer.from([1, 3, 0, 0, 0, 0, 0, 0]), Buffer.alloc(40), echoRequest(6, 5, 6, 0)])
  t.deepEqual(parseEcho(6, v6, 5, 6), { kind: 'unreachable', code: 3 })
})

/** Just enough of a classic BPF interpreter for the ICMP filter's instructions. */
function runBpf(prog: Buffer, pkt: Buffer): number {
  let a = 0
  let x = 0
  for (let pc = 0; pc < prog.length / 8; pc++) {
    const code = prog.readUInt16LE(pc * 8)
    const jt = prog[pc * 8 + 2] ?? 0
    const jf = prog[pc * 8 + 3] ?? 0
    const k = prog.readUInt32LE(pc * 8 + 4)
    if (code === 0xb1)
      x = ((pkt[k] ?? 0) & 0x0f) * 4 // ldx msh
    else if (code === 0x50)
      a = pkt[x + k] ?? 0 // ldb ind
    else if (code === 0x48)
      a = pkt.readUInt16BE(x + k) // ldh ind
    else if (code === 0x15)
      pc += a === k ? jt : jf // jeq k
    else if (code === 0x06)
      return k // ret k
    else throw new Error(`opcode ${code.toString(16)}`)
  }
  throw new Error('fell off the program')
}

test('icmp: the raw-socket filter keeps our echo replies and unreachables, drops the rest', (t) => {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1)
    return t.pass('the interpreter assumes a little-endian host')
  const prog = echoFilter4(0xbeef)
  const ip = Buffer.alloc(24)
  ip[0] = 0x46 // a 24-byte header, to exercise the length load
  const reply = (id: number) => {
    const b = echoRequest(4, id, 1, 8)
    b[0] = 0
    return Buffer.concat([ip, b])
  }
  t.is(runBpf(prog, reply(0xbeef)), 0xffffffff)
  t.is(runBpf(prog, reply(0xbeee)), 0)
  t.is(runBpf(prog, Buffer.concat([ip, echoRequest(4, 0xbeef, 1, 8)])), 0, 'an echo request is not ours to read')
  const unreach = Buffer.concat([ip, Buffer.from([3, 1, 0, 0, 0, 0, 0, 0])])
  t.is(runBpf(prog, unreach), 0xffffffff)
})
