// The batched TCP prober (src/sys/tcp-probe.ts over native/tcp_probe.cc) and the TCP check built on
// it, against real listeners on loopback (no root needed).
import { readFileSync, readlinkSync } from 'node:fs'
import net from 'node:net'
import test from 'ava'
import { check as tcpCheck } from '../../src/health/tcp.js'
import { parseAddr } from '../../src/net/addr.js'
import { sockaddrIn, sockaddrIn6 } from '../../src/sys/sockaddr.js'
import { TcpProbes } from '../../src/sys/tcp-probe.js'
import { until } from '../helpers/until.js'

const v4 = (port: number) => sockaddrIn(Uint8Array.of(127, 0, 0, 1), port)

async function server(
  host = '127.0.0.1',
): Promise<{ port: number; peers: string[]; resets: number; close: () => void }> {
  const s = {
    port: 0,
    peers: [] as string[],
    resets: 0,
    close: () => {
      srv.close()
    },
  }
  const srv = net.createServer((c) => {
    s.peers.push(String(c.remoteAddress))
    c.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ECONNRESET') s.resets++
    })
    c.resume()
  })
  await new Promise<void>((r) => srv.listen(0, host, r))
  s.port = (srv.address() as net.AddressInfo).port
  return s
}

/**
 * Waits until the server has accepted everything sent to it so far: one listen queue, accepted in
 * order, so once a marker connection opened now is accepted, any connection a probe completed before
 * it would have been too. The marker is reset, not closed: it leaves no TIME_WAIT.
 */
async function acceptedSoFar(s: { port: number; peers: string[] }): Promise<string[]> {
  const before = s.peers.length
  const c = net.connect(s.port, '127.0.0.1')
  c.on('error', () => {})
  await until(() => s.peers.length > before, 5000, 'the marker connection accepted')
  c.resetAndDestroy()
  return s.peers.slice(0, -1)
}

/** TIME_WAIT sockets towards a local port, from /proc/net/tcp (state 06; ports in hex). */
function timeWaitTo(port: number): number {
  const hex = port.toString(16).toUpperCase().padStart(4, '0')
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => {
      const f = l.trim().split(/\s+/)
      return f[3] === '06' && (f[2]?.endsWith(`:${hex}`) ?? false)
    }).length
}

function probe(p: TcpProbes, target: Parameters<TcpProbes['start']>[0]): Promise<number> {
  return new Promise((resolve) => {
    const id = p.start(target, resolve)
    if (id < 0) resolve(id)
  })
}

test('a listening port answers the SYN; the final ACK is withheld, so the server accepts nothing', async (t) => {
  const s = await server()
  const p = new TcpProbes()
  t.teardown(() => {
    p.close()
    s.close()
  })
  const results = await Promise.all(Array.from({ length: 50 }, () => probe(p, { to: v4(s.port) })))
  t.deepEqual(new Set(results), new Set([0]))
  t.is(p.size, 0)
  // the RST reached the server before any ACK: no connection was ever accepted
  t.deepEqual(await acceptedSoFar(s), [])
  t.is(timeWaitTo(s.port), 0)
})

test('with fullHandshake the server accepts each connection and sees it reset, with no TIME_WAIT left', async (t) => {
  const s = await server()
  const p = new TcpProbes()
  t.teardown(() => {
    p.close()
    s.close()
  })
  const results = await Promise.all(Array.from({ length: 50 }, () => probe(p, { to: v4(s.port), fullHandshake: true })))
  t.deepEqual(new Set(results), new Set([0]))
  // the server saw each connection reset, not closed with a FIN
  await until(() => s.resets >= 50, 3000, '50 resets')
  t.is(s.resets, 50)
  t.is(timeWaitTo(s.port), 0)
})

test('a closed port reports ECONNREFUSED through the callback', async (t) => {
  const s = await server()
  s.close()
  const p = new TcpProbes()
  t.teardown(() => p.close())
  t.is(await probe(p, { to: v4(s.port) }), 111 /* ECONNREFUSED */)
})

test('a source address that is not local fails at once with a negative errno and no callback', (t) => {
  const p = new TcpProbes()
  t.teardown(() => p.close())
  let called = false
  const id = p.start({ to: v4(9), source: sockaddrIn(Uint8Array.of(192, 0, 2, 7), 0) }, () => {
    called = true
  })
  t.is(id, -99 /* EADDRNOTAVAIL */)
  t.false(called)
  t.is(p.size, 0)
})

test('the source address is bound and IPv6 works', async (t) => {
  const s = await server('::')
  const p = new TcpProbes()
  t.teardown(() => {
    p.close()
    s.close()
  })
  const bound = { to: v4(s.port), source: sockaddrIn(Uint8Array.of(127, 0, 0, 2), 0), fullHandshake: true }
  t.is(await probe(p, bound), 0)
  const loop6 = new Uint8Array(16)
  loop6[15] = 1
  t.is(await probe(p, { to: sockaddrIn6(loop6, { port: s.port }), fullHandshake: true }), 0)
  // the kept socket of the bound kind keeps its source address across the disconnect
  t.is(p.idle, 2)
  t.is(await probe(p, { ...bound }), 0)
  t.is(p.idle, 2, 'reused, not a new socket')
  await until(() => s.peers.length >= 3, 3000, 'three connections accepted')
  t.deepEqual(s.peers, ['::ffff:127.0.0.2', '::1', '::ffff:127.0.0.2'])
})

test('a cancelled probe never calls back and its socket is closed', async (t) => {
  const s = await server()
  const p = new TcpProbes()
  t.teardown(() => {
    p.close()
    s.close()
  })
  let called = 0
  const id = p.start({ to: v4(s.port) }, () => called++)
  t.true(id >= 0)
  p.cancel(id)
  t.is(p.size, 0)
  // checked before any await: tests running beside this one may reuse the fd number afterwards
  t.throws(() => readFileSync(`/proc/self/fdinfo/${id}`), { code: 'ENOENT' })
  // a later probe completing means the loop has handled the cancelled one's events, if any
  t.is(await probe(p, { to: v4(s.port) }), 0)
  t.is(called, 0)
})

test('a callback that throws does not strand the other outcomes of its batch', async (t) => {
  const s = await server()
  const thrown: unknown[] = []
  const p = new TcpProbes((e) => thrown.push(e))
  t.teardown(() => {
    p.close()
    s.close()
  })
  const seen: number[] = []
  for (let i = 0; i < 10; i++) {
    p.start({ to: v4(s.port) }, (errno) => {
      seen.push(errno)
      if (i === 0) throw new Error('consumer bug')
    })
  }
  await until(() => seen.length >= 10, 3000, 'ten results')
  t.is(seen.length, 10)
  t.is(p.size, 0)
  t.is((thrown[0] as Error | undefined)?.message, 'consumer bug')
})

test('the TCP check maps outcomes to its codes: connected, refused, unreachable source', async (t) => {
  const s = await server()
  t.teardown(() => s.close())
  const target = { addr: parseAddr('127.0.0.1'), port: s.port }
  const ok = await tcpCheck(target, {}, AbortSignal.timeout(1000))
  t.true(ok.ok)
  t.is(ok.detail, `connected to 127.0.0.1:${s.port}`)
  const bad = await tcpCheck({ ...target, sourceAddr: parseAddr('192.0.2.7') }, {}, AbortSignal.timeout(1000))
  t.is(bad.code, 'unreachable')
  s.close() // libuv closes a listening socket's descriptor at once: the port refuses from here on
  t.is((await tcpCheck(target, {}, AbortSignal.timeout(1000))).code, 'refused')
})

/** What a descriptor of this process is ('socket:[inode]'), or undefined when it is not open. */
function fdLink(fd: number): string | undefined {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`)
  } catch {
    return undefined
  }
}

test('a passed probe keeps its socket for the next one: 200 probes in turn use one socket, still without an ACK or TIME_WAIT', async (t) => {
  const s = await server()
  const p = new TcpProbes()
  t.teardown(() => {
    p.close()
    s.close()
  })
  const fds = new Set<number>()
  const results: number[] = []
  for (let i = 0; i < 200; i++) {
    results.push(
      await new Promise<number>((resolve) => {
        const id = p.start({ to: v4(s.port) }, resolve)
        fds.add(id)
        if (id < 0) resolve(id)
      }),
    )
  }
  t.deepEqual(new Set(results), new Set([0]))
  t.is(fds.size, 1, 'the same socket every time')
  t.is(p.idle, 1)
  const kept = fdLink([...fds][0] as number)
  t.regex(kept ?? '', /^socket:/, 'kept open between probes')
  t.deepEqual(await acceptedSoFar(s), [], 'the final ACK is withheld on a reused socket too')
  t.is(timeWaitTo(s.port), 0)
  // a failure on the kept socket closes it; the next probe opens a new one and passes
  s.close()
  t.is(await probe(p, { to: v4(s.port) }), 111)
  t.is(p.idle, 0)
  t.not(fdLink([...fds][0] as number), kept, 'a failed probe closes its socket')
  const s2 = await server()
  t.teardown(() => s2.close())
  let last = -1
  t.is(
    await new Promise<number>((resolve) => {
      last = p.start({ to: v4(s2.port) }, resolve)
    }),
    0,
  )
  t.is(p.idle, 1)
  const link = fdLink(last)
  p.close()
  t.is(p.idle, 0)
  t.not(fdLink(last), link, 'close() closes the kept sockets')
})
