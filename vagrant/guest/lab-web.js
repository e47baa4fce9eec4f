// The lab's web service on a real server (vagrant/provision): `node lab-web.js NAME` on :80 (all
// addresses, the VIP on lo included, which DR needs). A GET gets an HTTP answer whose body is NAME;
// any other line gets "NAME\n" back, which keeps the drill client's long-lived connection talking.
// The same protocol as lab/demo/real-server.ts, plain JavaScript for Debian's node in the guest.

const { createServer } = require('node:net')

const name = process.argv[2] || 'unnamed'
const server = createServer((s) => {
  s.on('error', () => {})
  s.on('data', (d) => {
    if (d.toString('latin1').startsWith('GET ')) {
      const body = `${name}\n`
      s.end(
        `HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
      )
    } else s.write(`${name}\n`)
  })
})
server.listen(80, '0.0.0.0', () => process.stdout.write(`listening ${name}\n`))
process.on('SIGTERM', () => process.exit(0))
