// Prints lvsd's /metrics text as seen from inside a namespace (peer-channel.test.ts).
const r = await fetch('http://127.0.0.1:9478/metrics')
process.stdout.write(await r.text())
