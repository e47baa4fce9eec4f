// Netns agent: a real server's HTTP responder whose behaviour a test steers through a mode file.
// Modes: ok (200 "healthy"), 503, slow (answers after 3 s), badbody (200 "sick"),
// pattern:<o|x>… (each request takes the next letter: o = 200, x = 503; then 200).
// The same port over UDP answers "PONG <payload>". With a certificate and key (PEM files) it speaks HTTPS.
import dgram from 'node:dgram'
import { readFileSync } from 'node:fs'
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import https from 'node:https'

const [host = '::', port = '80', modeFile = '', certFile = '', keyFile = ''] = process.argv.slice(2)
let pattern = ''
let patternAt = 0

function mode(): string {
  try {
    return readFileSync(modeFile, 'utf8').trim()
  } catch {
    return 'ok'
  }
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const m = mode()
  if (m.startsWith('pattern:')) {
    if (m !== pattern) {
      pattern = m
      patternAt = 0
    }
    const letter = m.slice('pattern:'.length)[patternAt++] ?? 'o'
    res.statusCode = letter === 'x' ? 503 : 200
    res.end(letter === 'x' ? 'sick' : 'healthy')
    console.log(JSON.stringify({ event: 'request', letter, url: req.url }))
    return
  }
  if (m === '503') {
    res.statusCode = 503
    return void res.end('maintenance')
  }
  if (m === 'slow') return void setTimeout(() => res.end('healthy'), 3000)
  if (m === 'badbody') return void res.end('sick')
  res.end('healthy')
}

const server = certFile
  ? https.createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, handle)
  : http.createServer(handle)
server.keepAliveTimeout = 100
const udp = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4')
udp.on('message', (m, from) => udp.send(Buffer.concat([Buffer.from('PONG '), m]), from.port, from.address))
udp.bind(Number(port), host, () => {
  server.listen(Number(port), host, () =>
    console.log(JSON.stringify({ event: 'ready', port: Number(port), pid: process.pid })),
  )
})
