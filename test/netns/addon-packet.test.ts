// AF_PACKET through the native addon between two namespaces: a raw Ethernet frame sent with a
// sockaddr_ll reaches a socket bound to its ethertype, and a classic BPF filter that accepts
// nothing silences a socket while an unfiltered one beside it keeps receiving.
import test from 'ava'
import { Lab } from '../helpers/netns.js'
import { runAgent, startAgent } from './agents/addon-harness.js'

const lab = new Lab('ap')
const MAC_A = '02:61:00:00:00:0a'
const MAC_B = '02:61:00:00:00:0b'
let ifindexB = 0

test.before(() => {
  lab.addPair({ name: 'a', mac: MAC_A }, { name: 'b', mac: MAC_B })
  ifindexB = Number(lab.exec('b', 'cat', ['/sys/class/net/eth0/ifindex']).trim())
})
test.after.always(() => lab.dispose())

test.serial('a raw Ethernet frame reaches the AF_PACKET socket bound to its ethertype on the peer', async (t) => {
  const rx = startAgent(lab, 'b', 'addon-recv', ['packet', 'eth0', '0x88b5'])
  await rx.next('ready')
  const payload = '6c7673642d746573742d6672616d65'
  runAgent(lab, 'a', 'addon-send', ['packet', 'eth0', '5', payload, MAC_B, '0x88b5'])
  const p = await rx.next('packet')
  const frame = String(p.frame)
  const mac = (m: string) => m.replaceAll(':', '')
  t.is(frame.slice(0, 12), mac(MAC_B))
  t.is(frame.slice(12, 24), mac(MAC_A))
  t.is(frame.slice(24, 28), '88b5')
  t.is(frame.slice(28, 28 + payload.length), payload)
  t.like(p.ll as object, { family: 17, protocol: 0x88b5, ifindex: ifindexB, addr: mac(MAC_A) })
})

test.serial('a drop-all BPF filter receives nothing while an unfiltered socket gets every frame', async (t) => {
  const rx = startAgent(lab, 'b', 'addon-recv', ['packet-bpf', 'eth0', '0x88b5'])
  await rx.next('ready')
  runAgent(lab, 'a', 'addon-send', ['packet', 'eth0', '6', '00', MAC_B, '0x88b5'])
  const c = await rx.next('counts')
  t.true((c.open as number) >= 3)
  t.is(c.filtered, 0)
})

test.serial('a frame of another ethertype is not delivered to a socket bound to 0x88b5', async (t) => {
  const rx = startAgent(lab, 'b', 'addon-recv', ['packet', 'eth0', '0x88b5'])
  await rx.next('ready')
  runAgent(lab, 'a', 'addon-send', ['packet', 'eth0', '3', '01', MAC_B, '0x88b6'])
  runAgent(lab, 'a', 'addon-send', ['packet', 'eth0', '1', '02', MAC_B, '0x88b5'])
  const p = await rx.next('packet')
  // the first frame delivered is the 0x88b5 one, sent after the three others
  t.is(String(p.frame).slice(24, 30), '88b502')
})
