// The deadline heap under DeadlineTimers: earliest first, ties in insertion order, and removal of
// any entry (a cleared timer) leaves exactly the others, in order.
import test from 'ava'
import { type DeadlineEntry, DeadlineHeap } from '../../src/sys/deadline-heap.js'
import { prng } from '../helpers/prng.js'

function drain<T>(h: DeadlineHeap<T>): T[] {
  const out: T[] = []
  for (let e = h.pop(); e; e = h.pop()) out.push(e.value)
  return out
}

test('5,000 random deadlines come out earliest first, equal ones in insertion order', (t) => {
  const rnd = prng(11)
  const h = new DeadlineHeap<number>()
  const model: Array<{ at: number; id: number }> = []
  for (let id = 0; id < 5000; id++) {
    // few distinct values (fractional too), so ties are common
    const at = Math.floor(rnd() * 300) / 4
    model.push({ at, id })
    h.push(at, id)
  }
  t.is(h.size, 5000)
  model.sort((a, b) => a.at - b.at || a.id - b.id)
  t.deepEqual(
    drain(h),
    model.map((m) => m.id),
  )
  t.is(h.size, 0)
  t.is(h.pop(), undefined)
})

test('removing random entries between pushes and pops leaves exactly the rest, in order', (t) => {
  const rnd = prng(5)
  const h = new DeadlineHeap<number>()
  const live = new Map<number, DeadlineEntry<number>>()
  const popped: number[] = []
  let id = 0
  for (let step = 0; step < 20_000; step++) {
    const r = rnd()
    if (r < 0.5) {
      live.set(id, h.push(Math.floor(rnd() * 1000), id))
      id++
    } else if (r < 0.8 && live.size > 0) {
      const keys = [...live.keys()]
      const k = keys[Math.floor(rnd() * keys.length)] as number
      t.true(h.remove(live.get(k) as DeadlineEntry<number>))
      live.delete(k)
    } else {
      const e = h.pop()
      if (e) {
        // what is popped is the earliest of what is live
        const min = Math.min(...[...live.values()].map((x) => x.at))
        if (e.at !== min) t.fail(`popped ${e.at}, earliest live ${min}`)
        live.delete(e.value)
        popped.push(e.value)
      }
    }
    if (h.size !== live.size) t.fail(`size ${h.size}, live ${live.size}`)
  }
  const rest = [...live.values()].sort((a, b) => a.at - b.at || a.seq - b.seq).map((e) => e.value)
  t.deepEqual(drain(h), rest)
  t.true(popped.length > 1000)
})

test('an entry already popped or removed is not removed again (false), and other entries stay', (t) => {
  const h = new DeadlineHeap<string>()
  const a = h.push(10, 'a')
  const b = h.push(20, 'b')
  const c = h.push(30, 'c')
  t.is(h.pop(), a)
  t.is(a.index, -1)
  t.false(h.remove(a))
  t.true(h.remove(c))
  t.false(h.remove(c))
  t.is(h.size, 1)
  t.is(h.peek(), b)
  // an entry of another heap is not this heap's, even at a slot index this heap has
  const other = new DeadlineHeap<string>()
  t.false(h.remove(other.push(1, 'x')))
  t.deepEqual(drain(h), ['b'])
})

test('popDue takes entries at or before now, earliest first, and nothing later', (t) => {
  const h = new DeadlineHeap<string>()
  h.push(5.5, 'b')
  h.push(5, 'a')
  h.push(5.5, 'c')
  h.push(5.500001, 'd')
  const due: string[] = []
  for (let e = h.popDue(5.5); e; e = h.popDue(5.5)) due.push(e.value)
  t.deepEqual(due, ['a', 'b', 'c'])
  t.is(h.peek()?.value, 'd')
  t.is(h.popDue(5.5), undefined)
})
