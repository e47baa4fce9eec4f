// Bench agent (server namespace): one TCP listener per real-server address; SIGUSR2 closes every
// tenth listener, as if those servers died, and reports when.
import net from 'node:net'

const [count = '1000', port = '80'] = process.argv.slice(2)
const n = Number(count)
export const rsAddr = (i: number) => `10.21.${1 + Math.floor(i / 250)}.${1 + (i % 250)}`

const servers: net.Server[] = []
let listening = 0
for (let i = 0; i < n; i++) {
  const s = net.createServer((c) => {
    c.on('error', () => {})
    c.destroy()
  })
  s.listen(Number(port), rsAddr(i), () => {
    if (++listening === n) console.log(JSON.stringify({ event: 'ready', pid: process.pid, listening }))
  })
  servers.push(s)
}

process.on('SIGUSR2', () => {
  let killed = 0
  servers.forEach((s, i) => {
    if (i % 10 === 0) {
      s.close()
      killed++
    }
  })
  console.log(JSON.stringify({ event: 'killed', at: Date.now(), killed }))
})
