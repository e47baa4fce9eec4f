// Errno names from numbers (no strerrorname_np: glibc 2.28), the LVSD_SYS_CALL shape, and the
// missing-addon error.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { isLvsdError, LvsdError } from '../../src/errors.js'
import { errnoName, errnoValue, sys, sysError, sysErrorCode, wrapNativeError } from '../../src/sys/errno.js'
import { addonPath, loadAddon, packageRoot } from '../../src/sys/native.js'

test('errno numbers map to their Linux names, aliases to the canonical one', (t) => {
  t.is(errnoName(17), 'EEXIST')
  t.is(errnoName(1), 'EPERM')
  t.is(errnoName(11), 'EAGAIN')
  t.is(errnoName(19), 'ENODEV')
  t.is(errnoName(105), 'ENOBUFS')
  t.is(errnoName(-2), 'ENOENT')
  t.is(errnoName(4095), 'E4095')
  t.is(errnoValue('EEXIST'), 17)
  t.is(errnoValue('ENOTANERRNO'), undefined)
})

test('a system call failure is LVSD_SYS_CALL with syscall, errno and code in details', (t) => {
  const e = sysError('bind', 19)
  t.true(isLvsdError(e, 'LVSD_SYS_CALL'))
  t.deepEqual(e.details, { syscall: 'bind', errno: 19, code: 'ENODEV' })
  t.is(sysErrorCode(e), 'ENODEV')
  t.deepEqual(LvsdError.fromJSON(e.toJSON()).details, e.details)
})

test('an addon error becomes LVSD_SYS_CALL keeping the original as cause; other errors pass unchanged', (t) => {
  const native = Object.assign(new Error('sendto: Bad file descriptor (EBADF)'), {
    code: 'EBADF',
    errno: 9,
    syscall: 'sendto',
  })
  const wrapped = wrapNativeError(native) as LvsdError
  t.deepEqual(wrapped.details, { syscall: 'sendto', errno: 9, code: 'EBADF' })
  t.is(wrapped.cause, native)
  const typeError = new TypeError('invalid argument: fd')
  t.is(wrapNativeError(typeError), typeError)
  t.is(
    t.throws(() =>
      sys(() => {
        throw native
      }),
    ) instanceof LvsdError,
    true,
  )
  t.is(sysErrorCode(new Error('x')), undefined)
})

test('a missing addon is LVSD_NATIVE_MISSING naming the path and how to build it', (t) => {
  const path = join(packageRoot() ?? '.', 'build', 'Release', 'no-such-addon.node')
  const e = t.throws(() => loadAddon(path))
  t.true(isLvsdError(e, 'LVSD_NATIVE_MISSING'))
  t.is((e as LvsdError).details.path, path)
  t.regex((e as LvsdError).message, /npm run build:native/)
})

test('a file that exists but is not an addon is LVSD_NATIVE_MISSING too', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lvsd-native-'))
  const path = join(dir, 'fake.node')
  writeFileSync(path, 'not an ELF shared object')
  try {
    const e = t.throws(() => loadAddon(path))
    t.true(isLvsdError(e, 'LVSD_NATIVE_MISSING'))
    t.is((e as LvsdError).details.path, path)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('the addon path is $LVSD_NATIVE_PATH when set, else build/Release under the package root', (t) => {
  t.is(addonPath({ LVSD_NATIVE_PATH: '/usr/lib/lvsd/lvsd_native.node' }), '/usr/lib/lvsd/lvsd_native.node')
  t.is(addonPath({}), join(packageRoot() as string, 'build', 'Release', 'lvsd_native.node'))
})
