// Netns agent: an rtnetlink RTM_GETLINK dump made from inside a worker_thread through src/sys,
// with the 32-byte request (nlmsghdr + ifinfomsg) built by hand. Prints one JSON line:
// {event:'dump', names, done, seqOk, portOk, inWorker}.
import { isMainThread, parentPort, Worker } from 'node:worker_threads'
import * as C from '../../../src/sys/constants.js'
import { decodeSockaddr, sockaddrNl } from '../../../src/sys/sockaddr.js'
import { Socket } from '../../../src/sys/socket.js'

const RTM_NEWLINK = 16
const RTM_GETLINK = 18
const NLMSG_DONE = 3
const NLM_F_REQUEST = 1
const NLM_F_DUMP = 0x300
const IFLA_IFNAME = 3
const SEQ = 4242

function dumpLinks(post: (o: object) => void): void {
  const s = Socket.open(C.AF_NETLINK, C.SOCK_RAW, C.NETLINK_ROUTE)
  s.bind(sockaddrNl())
  const local = decodeSockaddr(s.getSockName())
  const portId = 'pid' in local ? local.pid : -1
  const req = Buffer.alloc(32)
  req.writeUInt32LE(32, 0) // nlmsg_len
  req.writeUInt16LE(RTM_GETLINK, 4)
  req.writeUInt16LE(NLM_F_REQUEST | NLM_F_DUMP, 6)
  req.writeUInt32LE(SEQ, 8)
  req.writeUInt32LE(0, 12) // nlmsg_pid: the kernel fills in ours
  req[16] = C.AF_UNSPEC // ifinfomsg: family, pad, type, index, flags, change all zero
  const names: string[] = []
  let seqOk = true
  let portOk = true
  s.onReceive((m) => {
    for (let off = 0; off + 16 <= m.data.length; ) {
      const len = m.data.readUInt32LE(off)
      const type = m.data.readUInt16LE(off + 4)
      seqOk &&= m.data.readUInt32LE(off + 8) === SEQ
      portOk &&= m.data.readUInt32LE(off + 12) === portId
      if (len < 16) break
      if (type === NLMSG_DONE) {
        s.close()
        post({ event: 'dump', names, done: true, seqOk, portOk, inWorker: !isMainThread })
        return
      }
      if (type === RTM_NEWLINK) {
        for (let a = off + 32; a + 4 <= off + len; ) {
          const alen = m.data.readUInt16LE(a)
          if (alen < 4) break
          if ((m.data.readUInt16LE(a + 2) & 0x3fff) === IFLA_IFNAME) {
            names.push(
              m.data
                .subarray(a + 4, a + alen)
                .toString('utf8')
                .replace(/\0.*$/s, ''),
            )
          }
          a += (alen + 3) & ~3
        }
      }
      off += (len + 3) & ~3
    }
  })
  if (!s.send(req, sockaddrNl())) throw new Error('netlink send queue full')
}

if (isMainThread) {
  const w = new Worker(new URL(import.meta.url))
  w.on('message', (o) => process.stdout.write(`${JSON.stringify(o)}\n`))
  w.on('error', (e) => {
    process.stderr.write(`worker error: ${e.stack}\n`)
    process.exitCode = 1
  })
} else {
  dumpLinks((o) => parentPort?.postMessage(o))
}
