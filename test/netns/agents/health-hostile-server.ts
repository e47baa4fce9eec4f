// Netns agent: real servers that attack their checker, one per port (issue 14):
//   8081 an HTTP reply whose header is 1 MB       8082 an HTTP body that never ends
//   8083 an HTTP reply dripped one byte a second  8084 an SMTP banner of endless "220-" lines
//   8085 a TLS server that never answers the ClientHello
// Usage: health-hostile-server.js <listen-address>
import net from 'node:net'

const host = process.argv[2] ?? '0.0.0.0'

function serve(port: number, onConn: (s: net.Socket) => void): Promise<void> {
  const srv = net.createServer((s) => {
    s.on('error', () => {})
    onConn(s)
  })
  return new Promise((resolve) => srv.listen(port, host, () => resolve()))
}

/** Writes `chunk` for as long as the peer reads, never ending. */
function flood(s: net.Socket, chunk: Buffer): void {
  const more = () => {
    while (!s.destroyed && s.write(chunk)) {}
  }
  s.on('drain', more)
  more()
}

const onRequest = (s: net.Socket, fn: () => void) => s.once('data', fn)

await Promise.all([
  serve(8081, (s) =>
    onRequest(s, () => {
      s.write(`HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(1 << 20)}\r\nContent-Length: 2\r\n\r\nok`)
    }),
  ),
  serve(8082, (s) =>
    onRequest(s, () => {
      s.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n')
      flood(s, Buffer.alloc(64 * 1024, 0x78))
    }),
  ),
  serve(8083, (s) =>
    onRequest(s, () => {
      const reply = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
      let i = 0
      const t = setInterval(() => {
        if (s.destroyed || i >= reply.length) return clearInterval(t)
        s.write(reply.subarray(i, ++i))
      }, 1000)
      s.on('close', () => clearInterval(t))
    }),
  ),
  serve(8084, (s) => flood(s, Buffer.from('220-a banner that never ends, line after line\r\n'.repeat(1000)))),
  serve(8085, () => {}),
])
process.stdout.write(`${JSON.stringify({ event: 'ready', pid: process.pid })}\n`)
