// Netns agent: an SMTP responder (RFC 5321 §4.2). Modes by argument: ok (220 banner, 250 to HELO/EHLO),
// busy (554 banner), mute (accepts and says nothing).
import net from 'node:net'

const [host = '::', port = '25', mode = 'ok'] = process.argv.slice(2)

const server = net.createServer((c) => {
  c.on('error', () => {})
  if (mode === 'mute') return
  if (mode === 'busy') return void c.end('554 rs.example.test no service\r\n')
  c.write('220-rs.example.test ESMTP\r\n220 ready\r\n')
  let buf = ''
  c.setEncoding('latin1').on('data', (d: string) => {
    buf += d
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i).trim()
      buf = buf.slice(i + 1)
      console.log(JSON.stringify({ event: 'command', line }))
      if (/^(HELO|EHLO) /i.test(line)) c.write('250 rs.example.test\r\n')
      else if (/^QUIT/i.test(line)) c.end('221 bye\r\n')
      else c.write('500 what\r\n')
    }
  })
})
server.listen(Number(port), host, () => console.log(JSON.stringify({ event: 'ready', pid: process.pid })))
