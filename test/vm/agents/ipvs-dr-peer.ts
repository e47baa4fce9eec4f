// Real servers and clients of the LVS-DR lab (ipvs-dr.test.ts), run inside their namespaces in the VM:
//   server NAME   TCP :80; a GET gets an HTTP answer naming the server, any other line gets "NAME\n" back
//   burst N       N sequential GETs to the VIP (a new connection each); prints {counts, failures}
//   long SECONDS  one connection to the VIP sending a line every 100 ms; prints "established PORT" at once,
//                 then {server, replies, errors}
import { connect, createServer, type Socket } from 'node:net'

// VIP=... in the environment: the labs with more than one service (realserver.test.ts)
const VIP = process.env.VIP ?? '10.0.0.3'
const [mode, arg = ''] = process.argv.slice(2)

function server(name: string): void {
  createServer((s) => {
    s.on('error', () => {})
    s.on('data', (d) => {
      if (d.toString('latin1').startsWith('GET ')) {
        const body = `${name}\n`
        s.end(`HTTP/1.0 200 OK\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`)
      } else s.write(`${name}\n`)
    })
  }).listen(80, '0.0.0.0')
}

function get(): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: VIP, port: 80 })
    let text = ''
    s.setTimeout(3000, () => s.destroy(new Error('timeout')))
    s.on('connect', () => s.write('GET / HTTP/1.0\r\n\r\n'))
    s.on('data', (d) => (text += d.toString('latin1')))
    s.on('error', reject)
    s.on('close', () => resolve(text.split('\r\n\r\n')[1]?.trim() ?? ''))
  })
}

async function burst(n: number): Promise<void> {
  const counts: Record<string, number> = {}
  let failures = 0
  for (let i = 0; i < n; i++) {
    try {
      const who = await get()
      counts[who] = (counts[who] ?? 0) + 1
    } catch {
      failures++
    }
  }
  process.stdout.write(`${JSON.stringify({ counts, failures })}\n`)
}

function long(seconds: number): void {
  const s: Socket = connect({ host: VIP, port: 80 })
  let replies = 0
  let server = ''
  const errors: string[] = []
  s.on('connect', () => {
    process.stdout.write(`established ${s.localPort}\n`)
    const t = setInterval(() => s.write('ping\n'), 100)
    setTimeout(() => {
      clearInterval(t)
      s.end()
      process.stdout.write(`${JSON.stringify({ server, replies, errors })}\n`)
    }, seconds * 1000)
  })
  s.on('data', (d) => {
    const lines = d.toString('latin1').split('\n').filter(Boolean)
    replies += lines.length
    server = lines[0] ?? server
  })
  s.on('error', (e) => errors.push(e.message))
}

if (mode === 'server') server(arg)
else if (mode === 'burst') void burst(Number(arg))
else if (mode === 'long') long(Number(arg))
else {
  process.stderr.write('usage: ipvs-dr-peer.js server NAME | burst N | long SECONDS\n')
  process.exitCode = 64
}
