#!/usr/bin/env node
// npm test: builds, then runs every test tier this machine can run, and says loudly which it
// could not and why. Tiers: unit (pure code), netns (root + network namespaces), vm (qemu with
// Debian's kernel, for real IPVS), package (the .deb/.rpm under a booted systemd), vagrant (the
// small multi-VM topology under libvirt, drilled). LVSD_REQUIRE_TIERS=unit,netns makes a missing tier an error
// (CI sets it, so a tier can never be skipped there without failing the run).
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
process.chdir(root)
const required = new Set((process.env.LVSD_REQUIRE_TIERS ?? '').split(',').filter(Boolean))
const only = new Set((process.env.LVSD_TIERS ?? '').split(',').filter(Boolean))
const extra = process.argv.slice(2)

function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { stdio: 'inherit', ...opts })
}

function files(dir) {
  if (!existsSync(dir)) return []
  const out = []
  for (const e of readdirSync(dir)) {
    const p = join(dir, e)
    if (statSync(p).isDirectory()) out.push(...files(p))
    else if (p.endsWith('.test.js')) out.push(p)
  }
  return out.sort()
}

console.log('== build (tsc)')
if (run('npx', ['tsc', '-p', 'tsconfig.json']).status !== 0) {
  console.log('build failed: no tests run')
  console.log('0 passed, 1 failed')
  process.exit(1)
}

// Lint and format are part of the test command, so CI keeps them green.
console.log('== lint (biome check)')
const lint = run('npx', ['biome', 'check', '--diagnostic-level=error', '.'])
const lintFailed = lint.status !== 0

function probeNetns() {
  if (process.getuid?.() !== 0) return 'not root (the netns tier creates network namespaces)'
  if (!existsSync('build/Release/lvsd_native.node')) return 'native addon not built (npm run build:native)'
  const name = `lvsdprobe${process.pid}`
  const add = spawnSync('ip', ['netns', 'add', name], { encoding: 'utf8' })
  if (add.error) return `iproute2 missing: ${add.error.message}`
  if (add.status !== 0) return `cannot create a network namespace: ${add.stderr.trim()}`
  spawnSync('ip', ['netns', 'del', name])
  return undefined
}

function probeVm() {
  const which = spawnSync('sh', ['-c', 'command -v qemu-system-x86_64'], { encoding: 'utf8' })
  if (which.status !== 0) return 'qemu-system-x86_64 not installed (apt-get install qemu-system-x86)'
  if (process.getuid?.() !== 0) return 'not root (the VM shares the host root over 9p, caches in /var/cache)'
  const cli = 'dist/lab/vm/cli.js'
  if (!existsSync(cli)) return `${cli} missing: the VM runner did not build`
  // Fetch Debian's kernel and build the initramfs now (cached by ABI; ~70 MB the first time), so
  // a machine that cannot (no mirror, no busybox-static) says why instead of failing every test.
  const prep = spawnSync(process.execPath, [cli, '--prepare'], { encoding: 'utf8', timeout: 20 * 60_000 })
  if (prep.error) return `cannot prepare the VM (kernel + initramfs): ${prep.error.message}`
  if (prep.status !== 0) {
    const why = prep.stderr.trim().split('\n').filter(Boolean).slice(-3).join(' | ')
    return `cannot prepare the VM (kernel + initramfs): ${why || `exit ${prep.status}`}`
  }
  console.log(`== vm prepared: ${prep.stdout.trim()}`)
  return undefined
}

function probePackage() {
  if (process.getuid?.() !== 0) return 'not root (debootstrap, systemd-nspawn)'
  for (const tool of ['systemd-nspawn', 'debootstrap', 'lintian', 'rpmlint', 'rpmbuild', 'dpkg-deb', 'nsenter']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return `${tool} not installed (bash scripts/setup-debian.sh)`
  }
  return undefined
}

function probeVagrant() {
  if (process.getuid?.() !== 0) return 'not root (libvirt, the box build, the libvirt networks)'
  for (const tool of ['vagrant', 'virsh', 'qemu-img', 'debootstrap', 'extlinux']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return `${tool} not installed (bash scripts/setup-debian.sh installs the Vagrant tier's packages)`
  }
  const plugin = spawnSync('vagrant', ['plugin', 'list'], { encoding: 'utf8', timeout: 120_000 })
  if (!/vagrant-libvirt/.test(plugin.stdout ?? ''))
    return 'the vagrant-libvirt plugin is missing (apt-get install vagrant-libvirt)'
  // libvirtd and virtlogd: started with systemctl where systemd runs, by hand where it does not
  const up = spawnSync('bash', ['vagrant/host-setup.sh', 'start'], { encoding: 'utf8', timeout: 10 * 60_000 })
  if (up.status !== 0)
    return `vagrant/host-setup.sh start failed: ${(up.stderr ?? '').trim().split('\n').slice(-2).join(' | ')}`
  return undefined
}

const tiers = [
  { name: 'unit', dir: 'dist/test/unit', probe: () => undefined, args: [] },
  { name: 'netns', dir: 'dist/test/netns', probe: probeNetns, args: ['--concurrency=2'] },
  // One VM at a time (each uses both cores under TCG); a VM scenario may run minutes between results.
  { name: 'vm', dir: 'dist/test/vm', probe: probeVm, args: ['--serial', '--timeout=10m'] },
  // Builds both packages, boots a Debian 12 root under systemd-nspawn (root cached by package list)
  { name: 'package', dir: 'dist/test/package', probe: probePackage, args: ['--serial', '--timeout=10m'] },
  // The small Vagrant topology from the box built in vagrant/box (cached), the drill over it, torn down
  { name: 'vagrant', dir: 'dist/test/vagrant', probe: probeVagrant, args: ['--serial', '--timeout=40m'] },
]

const summary = []
let passed = 0
let failed = 0
for (const t of tiers) {
  if (only.size && !only.has(t.name)) {
    summary.push({ tier: t.name, ran: false, why: 'not selected (LVSD_TIERS)' })
    continue
  }
  const list = files(t.dir)
  if (list.length === 0) {
    summary.push({ tier: t.name, ran: false, why: 'no test files in this tier yet' })
    continue
  }
  const why = t.probe()
  if (why) {
    summary.push({ tier: t.name, ran: false, why })
    if (required.has(t.name)) failed++
    continue
  }
  console.log(`\n== tier ${t.name}: ${list.length} files`)
  const started = Date.now()
  const r = spawnSync('npx', ['ava', ...t.args, ...extra, ...list], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LVSD_TIER: t.name },
    maxBuffer: 256 * 1024 * 1024,
  })
  process.stdout.write(r.stdout)
  process.stderr.write(r.stderr)
  const text = r.stdout + r.stderr
  const num = (re) => Number(text.match(re)?.[1] ?? 0)
  // ava prints "N tests passed" only when nothing failed; otherwise count its ✔ lines at two spaces
  // (deeper ones are t.log output, such as the drill's own checks)
  const p = num(/(\d+) tests? passed/) || (text.match(/^ {2}✔ /gm) ?? []).length
  let f = num(/(\d+) tests? failed/) + num(/(\d+) uncaught exceptions?/) + num(/(\d+) unhandled rejections?/)
  if (r.status !== 0 && f === 0) f = 1
  passed += p
  failed += f
  // CI shows only the tail of a long run: the failing tests' names must be in the summary itself
  const failures = (text.match(/^ {0,2}(✘ |Uncaught exception in |Unhandled rejection in ).*$/gm) ?? []).map((l) =>
    l.trim(),
  )
  summary.push({
    tier: t.name,
    ran: true,
    passed: p,
    failed: f,
    failures,
    seconds: Math.round((Date.now() - started) / 1000),
  })
}

console.log('\n== tiers')
console.log(`  lint   ${lintFailed ? 'FAILED   biome check reported errors (npm run format fixes most)' : 'ok'}`)
if (lintFailed) failed++
for (const s of summary) {
  if (s.ran) {
    console.log(`  ${s.tier.padEnd(6)} RAN      ${s.passed} passed, ${s.failed} failed in ${s.seconds} s`)
    for (const line of s.failures) console.log(`           ${line}`)
  } else
    console.log(
      `  ${s.tier.padEnd(6)} NOT RUN  ${s.why}${required.has(s.tier) ? '  (required: counts as a failure)' : ''}`,
    )
}
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed > 0 ? 1 : 0)
