// The ipvsadm migration path on the real kernel (Debian's, in the lab VM): a table loaded with
// `ipvsadm -R` in one namespace and exported with `ipvsadm -Sn` (plus `ipvsadm -L --timeout`),
// imported by `lvsd import ipvsadm`, then applied by `lvsd run` in a second, empty namespace: there
// `ipvsadm -Sn` and the timeouts read back the same. One boot.
import test from 'ava'
import { runInVm, type VmRunResult } from '../../lab/vm/runner.js'
import { repoRoot } from '../helpers/paths.js'

// The seed's hand-built table first, then what else ipvsadm -S can express and lvsd carries:
// NAT with thresholds, UDP one-packet scheduling, a persistent fwmark service with sh flags,
// tunnelled (ipip, GUE) servers, IPv6 with mh, persistence with a netmask, a weight-0 server.
const TABLE = `-A -t 10.0.0.3:80 -s wrr
-a -t 10.0.0.3:80 -r 10.0.0.7:80 -g -w 1
-a -t 10.0.0.3:80 -r 10.0.0.8:80 -g -w 1
-A -t 10.0.0.3:443 -s wlc -p 600 -M 255.255.255.0
-a -t 10.0.0.3:443 -r 10.0.0.7:8443 -m -w 5 -x 100 -y 50
-a -t 10.0.0.3:443 -r 10.0.0.8:8443 -m -w 0
-A -u 10.0.0.3:53 -s rr -o
-a -u 10.0.0.3:53 -r 10.0.0.9:53 -g -w 2
-A -f 7 -s sh -b sh-fallback,sh-port -p 300
-a -f 7 -r 10.0.0.10:0 -i -w 3
-a -f 7 -r 10.0.0.11:0 -i -w 1 --tun-type gue --tun-port 6080
-A -t [2001:db8::3]:80 -s mh -b mh-port
-a -t [2001:db8::3]:80 -r [2001:db8::7]:80 -g -w 1
`

const SCRIPT = `
set -e
out="$LVSD_VM_OUT"
for ns in ref lvsd; do
  ip netns add $ns
  ip netns exec $ns sh -c 'ip link set lo up; ip link add d0 type dummy; ip link set d0 up;
    ip addr add 10.0.0.1/24 dev d0; ip addr add 2001:db8::1/64 dev d0 nodad'
done
cat > /tmp/table <<'TABLE'
${TABLE}TABLE
ip netns exec ref ipvsadm -R < /tmp/table
ip netns exec ref ipvsadm --set 30 5 60
ip netns exec ref ipvsadm -Sn > "$out/ref.txt"
ip netns exec ref ipvsadm -L --timeout > "$out/ref-timeout.txt"
cat "$out/ref.txt" "$out/ref-timeout.txt" > /tmp/export
set +e
node bin/lvsd.js import ipvsadm /tmp/export -o /tmp/lvsd.yaml 2> "$out/import.err"
echo $? > "$out/import.status"
set -e
cp /tmp/lvsd.yaml "$out/lvsd.yaml"
ip netns exec lvsd ipvsadm -Sn > "$out/empty.txt"
ip netns exec lvsd node bin/lvsd.js run -c /tmp/lvsd.yaml --log-format json > "$out/lvsd.log" 2>&1 &
pid=$!
sorted() { ip netns exec $1 ipvsadm -Sn | sort; }
i=0
until [ "$(sorted lvsd)" = "$(sort "$out/ref.txt")" ] || [ $i -ge 240 ]; do sleep 0.5; i=$((i+1)); done
echo $i > "$out/polls"
ip netns exec lvsd ipvsadm -Sn > "$out/lvsd.txt"
ip netns exec lvsd ipvsadm -L --timeout > "$out/lvsd-timeout.txt"
kill -TERM $pid
wait $pid || true
`

let boot: Promise<VmRunResult> | undefined
const run = () => {
  boot ??= runInVm({ command: SCRIPT, cwd: repoRoot, timeoutMs: 360_000 })
  return boot
}

/** ipvsadm -Sn as service blocks (a service line with its servers), sorted: services come in hash order. */
function blocks(s: string): string[] {
  const out: string[] = []
  for (const l of s.split('\n').filter(Boolean)) {
    if (l.startsWith('-A')) out.push(l)
    else out[out.length - 1] += `\n${l}`
  }
  return out.sort()
}

test('ipvsadm -R → -Sn → lvsd import → lvsd run on an empty kernel → the same ipvsadm -Sn and timeouts', async (t) => {
  t.timeout(420_000)
  const r = await run()
  const f = r.outFiles
  t.is(r.status, 0, `${r.stderr.slice(-2000)}\n${f['lvsd.log']?.slice(-2000) ?? ''}`)
  t.is(f['import.status']?.trim(), '0', f['import.err'])
  t.is(f['empty.txt'], '', 'the second namespace starts with an empty table')
  t.is(blocks(f['ref.txt'] ?? '').length, 5)
  t.deepEqual(blocks(f['lvsd.txt'] ?? ''), blocks(f['ref.txt'] ?? ''), f['lvsd.yaml'])
  t.is(f['lvsd-timeout.txt'], f['ref-timeout.txt'])
  t.regex(f['ref-timeout.txt'] ?? '', /Timeout \(tcp tcpfin udp\): 30 5 60/)
  t.log(`ipvsadm -Sn of the reference:\n${f['ref.txt']}`)
  t.log(`equal after ${Number(f.polls) * 0.5} s of polling; the import:\n${f['lvsd.yaml']}`)
})
