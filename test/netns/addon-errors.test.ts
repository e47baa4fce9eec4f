// Failed system calls through the real addon surface as LVSD_SYS_CALL errors whose details name
// the syscall, errno and errno code; bad arguments stay TypeErrors. None of these send traffic.
import test from 'ava'
import { isLvsdError, type LvsdError } from '../../src/errors.js'
import * as C from '../../src/sys/constants.js'
import { ifIndexToName, ifNameToIndex, tryIfNameToIndex } from '../../src/sys/iface.js'
import { native } from '../../src/sys/native.js'
import { ipMreqn, sockaddrIn, sockaddrLl } from '../../src/sys/sockaddr.js'
import { Socket } from '../../src/sys/socket.js'

const NO_SUCH_IFINDEX = 0x7ffffff0

function sysErr(t: import('ava').ExecutionContext, fn: () => unknown): LvsdError['details'] {
  const e = t.throws(fn)
  t.true(isLvsdError(e, 'LVSD_SYS_CALL'), String(e))
  return (e as LvsdError).details
}

test('binding a packet socket to a nonexistent ifindex is ENODEV from bind', (t) => {
  const s = Socket.open(C.AF_PACKET, C.SOCK_RAW, 0)
  t.teardown(() => s.close())
  t.deepEqual(
    sysErr(t, () => s.bind(sockaddrLl({ protocol: C.ETH_P_ALL, ifindex: NO_SUCH_IFINDEX }))),
    { syscall: 'bind', errno: 19, code: 'ENODEV' },
  )
})

test('joining a group on a nonexistent ifindex is ENODEV from setsockopt', (t) => {
  const s = Socket.open(C.AF_INET, C.SOCK_RAW, C.IPPROTO_VRRP)
  t.teardown(() => s.close())
  const req = ipMreqn(Uint8Array.of(224, 0, 0, 18), { ifindex: NO_SUCH_IFINDEX })
  t.like(
    sysErr(t, () => s.setOption(C.IPPROTO_IP, C.IP_ADD_MEMBERSHIP, req)),
    { syscall: 'setsockopt', code: 'ENODEV' },
  )
})

test('sending on a closed socket is EBADF and never reaches a reused descriptor', (t) => {
  const s = Socket.open(C.AF_INET, C.SOCK_DGRAM, C.IPPROTO_UDP)
  s.close()
  s.close() // idempotent
  t.is(s.fd, -1)
  t.deepEqual(
    sysErr(t, () => s.send(Buffer.from('x'), sockaddrIn(Uint8Array.of(127, 0, 0, 1), 9))),
    { syscall: 'sendto', errno: 9, code: 'EBADF' },
  )
})

test('an unsupported address family is EAFNOSUPPORT from socket', (t) => {
  t.like(
    sysErr(t, () => Socket.open(4000, C.SOCK_RAW, 0)),
    { syscall: 'socket', code: 'EAFNOSUPPORT', errno: 97 },
  )
})

test('unknown interface names and indexes are ENODEV / ENXIO', (t) => {
  t.like(
    sysErr(t, () => ifNameToIndex('lvsd-nope0')),
    { syscall: 'if_nametoindex', code: 'ENODEV' },
  )
  t.like(
    sysErr(t, () => ifIndexToName(NO_SUCH_IFINDEX)),
    { syscall: 'if_indextoname', code: 'ENXIO' },
  )
  t.is(tryIfNameToIndex('lvsd-nope0'), undefined)
  t.is(ifIndexToName(ifNameToIndex('lo')), 'lo')
})

test('the raw addon error carries code, errno and syscall itself', (t) => {
  const e = t.throws(() => native().bind(-1, Buffer.alloc(16))) as Error & Record<string, unknown>
  t.is(e.code, 'EBADF')
  t.is(e.errno, 9)
  t.is(e.syscall, 'bind')
})

test('a malformed argument is a TypeError, not a system call error', (t) => {
  const s = Socket.open(C.AF_INET, C.SOCK_DGRAM, C.IPPROTO_UDP)
  t.teardown(() => s.close())
  t.throws(() => s.bind('nope' as unknown as Buffer), { instanceOf: TypeError })
  t.throws(() => s.attachFilter(Buffer.alloc(5)), { instanceOf: TypeError })
})

test('options round-trip through setOption and getOptionInt / getOption', (t) => {
  const s = Socket.open(C.AF_INET, C.SOCK_RAW, C.IPPROTO_VRRP)
  t.teardown(() => s.close())
  s.setOption(C.IPPROTO_IP, C.IP_MULTICAST_TTL, 255)
  t.is(s.getOptionInt(C.IPPROTO_IP, C.IP_MULTICAST_TTL), 255)
  s.setOption(C.IPPROTO_IP, C.IP_MULTICAST_LOOP, 0)
  t.is(s.getOption(C.IPPROTO_IP, C.IP_MULTICAST_LOOP, 4).readInt32LE(0), 0)
  t.is(s.getOptionInt(C.SOL_SOCKET, 3 /* SO_TYPE */), C.SOCK_RAW)
})
