// The VM runner's host side without booting: cache lock, cache hits, ABI override, qemu command line.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { prepareKernel, resolveAbi } from '../../lab/vm/kernel.js'
import { VmError, withLock } from '../../lab/vm/proc.js'
import { qemuArgs, runInVm } from '../../lab/vm/runner.js'

const scratch = mkdtempSync(join(tmpdir(), 'lvsd-vm-cache-'))
test.after.always(() => rmSync(scratch, { recursive: true, force: true }))

test('a lock left by a dead process is taken over and released after use', (t) => {
  const lock = join(scratch, 'dead.lock')
  const dead = spawnSync('true').pid as number
  writeFileSync(lock, String(dead))
  t.is(
    withLock(lock, 2_000, () => 42),
    42,
  )
  t.false(existsSync(lock))
})

test('a lock held by a live process makes the waiter give up at its deadline', (t) => {
  const lock = join(scratch, 'live.lock')
  writeFileSync(lock, String(process.pid))
  let ran = false
  const started = Date.now()
  const err = t.throws(
    () =>
      withLock(lock, 600, () => {
        ran = true
      }),
    { instanceOf: VmError },
  )
  t.is(err?.kind, 'lock-timeout')
  t.false(ran)
  t.true(Date.now() - started >= 600)
  t.true(existsSync(lock), 'the holder keeps its lock')
})

test('LVSD_VM_KERNEL pins the ABI and a complete cached tree is used without fetching', (t) => {
  const abi = '9.9.9-1-lvsdtest'
  const cache = join(scratch, 'cache')
  const kroot = join(cache, abi, 'kroot')
  mkdirSync(join(kroot, 'boot'), { recursive: true })
  mkdirSync(join(kroot, 'lib/modules', abi), { recursive: true })
  writeFileSync(join(kroot, 'boot', `vmlinuz-${abi}`), '')
  writeFileSync(join(kroot, 'lib/modules', abi, 'modules.dep'), '')
  const saved = { k: process.env.LVSD_VM_KERNEL, c: process.env.LVSD_VM_CACHE }
  process.env.LVSD_VM_KERNEL = `linux-image-${abi}`
  process.env.LVSD_VM_CACHE = cache
  try {
    t.is(resolveAbi(), abi)
    const k = prepareKernel()
    // No download happened: a fetch of a package that does not exist would have thrown.
    t.deepEqual(k, { abi, kroot, vmlinuz: join(kroot, 'boot', `vmlinuz-${abi}`) })
  } finally {
    for (const [name, v] of [
      ['LVSD_VM_KERNEL', saved.k],
      ['LVSD_VM_CACHE', saved.c],
    ] as const) {
      if (v === undefined) delete process.env[name]
      else process.env[name] = v
    }
  }
})

test('qemu gets no network device, TCG, and the host root only read-only', (t) => {
  const p = { kernel: { abi: 'x', kroot: '/k/kroot', vmlinuz: '/k/vmlinuz' }, initrd: '/k/initrd.gz' }
  const args = qemuArgs(p, '/runs/r-1', { command: ['true'], cwd: '/work/repo' })
  for (const net of ['-netdev', '-net', '-nic']) t.false(args.includes(net), net)
  t.false(args.some((a) => /virtio-net|e1000/.test(a)))
  t.true(args.includes('-nodefaults'))
  t.is(args[args.indexOf('-accel') + 1], 'tcg,thread=multi')
  const shares = args.filter((_, i) => args[i - 1] === '-virtfs')
  t.deepEqual(
    shares.map((s) => s.match(/mount_tag=(\w+)/)?.[1]),
    ['hostroot', 'out', 'work'],
  )
  t.regex(shares[0] as string, /path=\/,.*readonly=on/)
  t.regex(shares[1] as string, /path=\/runs\/r-1\/out,/)
  t.notRegex(shares[1] as string, /readonly/)
  t.regex(shares[2] as string, /path=\/work\/repo,.*readonly=on/)
  const bad = t.throws(() => qemuArgs(p, '/runs/with space', { command: ['true'] }), { instanceOf: VmError })
  t.is(bad?.kind, 'bad-request')
})

test('a cache under /tmp is refused before booting: the guest has its own empty /tmp', async (t) => {
  const saved = process.env.LVSD_VM_CACHE
  process.env.LVSD_VM_CACHE = scratch
  try {
    const started = Date.now()
    const err = await t.throwsAsync(runInVm({ command: ['true'] }), { instanceOf: VmError })
    t.is(err?.kind, 'bad-request')
    t.true(Date.now() - started < 5_000, 'no VM was booted')
  } finally {
    if (saved === undefined) delete process.env.LVSD_VM_CACHE
    else process.env.LVSD_VM_CACHE = saved
  }
})
